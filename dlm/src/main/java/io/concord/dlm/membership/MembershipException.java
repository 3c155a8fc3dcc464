package io.concord.dlm.membership;

import io.concord.dlm.LockException;

/**
 * Membership refused or failed: a duplicate node name, no free journal slot, a malformed znode, or
 * ZooKeeper trouble while joining, leaving or claiming.
 */
public class MembershipException extends LockException {
    public MembershipException(String message) {
        super(message);
    }

    public MembershipException(String message, Throwable cause) {
        super(message, cause);
    }
}
