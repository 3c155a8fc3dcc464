package io.concord.dlm;

/**
 * A request or conversion was withdrawn before it was granted, by {@link Lock#cancel()} or by an
 * unlock of the same lock. A cancelled conversion keeps the mode it had.
 */
public class LockCancelledException extends LockException {
    public LockCancelledException(ResourceName resource, LockMode mode) {
        super(resource + ": request for " + mode + " was cancelled");
    }
}
