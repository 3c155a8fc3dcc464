package io.concord.dlm;

/** Base of every failure this module reports, so callers can catch lock trouble in one place. */
public class LockException extends RuntimeException {
    public LockException(String message) {
        super(message);
    }

    public LockException(String message, Throwable cause) {
        super(message, cause);
    }
}
