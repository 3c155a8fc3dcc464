package io.concord.fsck;

import java.io.PrintStream;

/** Progress lines for a human watching, or nothing. */
final class Progress {
    private final PrintStream out;

    Progress(PrintStream out) {
        this.out = out;
    }

    void line(String s) {
        if (out != null) {
            out.println(s);
            out.flush();
        }
    }
}
