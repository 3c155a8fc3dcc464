package io.concord.cli;

import java.util.logging.LogManager;

/**
 * The daemon's log manager. The JDK's LogManager resets itself (closing and removing every
 * handler) from its own shutdown hook, which races the daemon's hook that unmounts and logs that
 * the journal was written back: those lines were lost. Once the daemon has set up its log file,
 * a reset is ignored; the file handler flushes every record, so nothing is left unwritten.
 */
public final class DaemonLogManager extends LogManager {
    private static volatile boolean configured;

    public DaemonLogManager() {
        super();
    }

    /** Called once the daemon's handlers are in place. */
    static void configured() {
        configured = true;
    }

    @Override
    public void reset() {
        if (!configured) {
            super.reset();
        }
    }
}
