package io.concord.harness;

import java.time.Duration;

/** Polling with a limit: every wait in the harness ends, and says so when it gave up. */
final class BoundedWait {
    /** A condition that may fail to be read (a file not there yet, a process gone). */
    interface Condition {
        boolean holds() throws Exception;
    }

    private BoundedWait() {
    }

    /** True as soon as {@code condition} holds; false if it still does not after {@code limit}. */
    static boolean until(Duration limit, Condition condition) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            try {
                if (condition.holds()) {
                    return true;
                }
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception notYet) {
                // Read again at the next poll.
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(20);
        }
    }
}
