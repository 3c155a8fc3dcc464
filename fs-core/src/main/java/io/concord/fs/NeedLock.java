package io.concord.fs;

import io.concord.dlm.LockMode;

/**
 * Ends one attempt at an operation that met a glock it does not hold and may not wait for under
 * the filesystem lock. {@link OperationRunner} rolls the attempt back, takes the lock (with all
 * the others, in lock order) and runs the operation again. Control flow, so no stack trace.
 *
 * @param tryOnly take it only if no other node holds it: the next attempt learns which
 */
final class NeedLock extends RuntimeException {
    final GlockType type;
    final long number;
    final LockMode mode;
    final boolean tryOnly;

    NeedLock(GlockType type, long number, LockMode mode, boolean tryOnly) {
        super(null, null, false, false);
        this.type = type;
        this.number = number;
        this.mode = mode;
        this.tryOnly = tryOnly;
    }

    @Override
    public String getMessage() {
        return "needs " + type.resource(number) + " " + mode + (tryOnly ? " (try)" : "");
    }
}
