package io.concord.dlm;

/** The lock space was closed: every lock in it was released and no new request is accepted. */
public class LockSpaceClosedException extends LockException {
    public LockSpaceClosedException(String lockSpace) {
        super("lock space " + lockSpace + " is closed");
    }
}
