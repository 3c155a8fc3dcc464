package io.concord.fs;

/**
 * Thrown by the allocator when the only free space left was freed by the running transaction and
 * so cannot be reused until it commits. The operation in progress is rolled back, the running
 * transaction (holding only whole operations) is committed, and the operation runs once more. An
 * operation is therefore never committed half-done.
 */
final class CommitAndRetry extends RuntimeException {
    CommitAndRetry() {
        super("space freed by the running transaction is needed", null, false, false);
    }
}
