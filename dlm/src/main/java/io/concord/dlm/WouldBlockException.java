package io.concord.dlm;

/** A {@link LockFlag#NOQUEUE} request could not be granted at once; nothing was queued. */
public class WouldBlockException extends LockException {
    public WouldBlockException(ResourceName resource, LockMode mode) {
        super(resource + ": " + mode + " cannot be granted without waiting");
    }
}
