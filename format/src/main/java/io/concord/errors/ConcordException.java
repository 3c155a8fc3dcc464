package io.concord.errors;

/**
 * The root of Concord's one exception hierarchy. Everything the filesystem refuses or fails at is a
 * subclass, so that the FUSE boundary (and the command-line tools) can turn any of them into one
 * errno or one clear line, in one place.
 */
public class ConcordException extends RuntimeException {
    public ConcordException(String message) {
        super(message);
    }

    public ConcordException(String message, Throwable cause) {
        super(message, cause);
    }

    /** {@code stackTrace} false: for answers, not failures, thrown too often to pay for a trace. */
    protected ConcordException(String message, boolean stackTrace) {
        super(message, null, true, stackTrace);
    }
}
