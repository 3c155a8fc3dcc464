package io.concord.dlm;

import java.time.Duration;

/** {@link Lock#lock} gave up; its request was cancelled first, so nothing is left queued. */
public class LockTimeoutException extends LockException {
    public LockTimeoutException(ResourceName resource, LockMode mode, Duration waited) {
        super(resource + ": " + mode + " not granted within " + waited);
    }
}
