package io.concord.cli;

import java.io.PrintStream;

/**
 * A failure that is a bug of ours, not the user's input: one line to the user, and the stack
 * trace only where it was asked for ({@code CONCORD_DEBUG=1}), for the bug report.
 */
final class Internal {
    private Internal() {
    }

    static int report(String tool, RuntimeException e, PrintStream err) {
        err.println(tool + ": internal error: " + e + " (set CONCORD_DEBUG=1 for details, and please report it)");
        if (System.getenv("CONCORD_DEBUG") != null) {
            e.printStackTrace(err);
        }
        return 8;
    }
}
