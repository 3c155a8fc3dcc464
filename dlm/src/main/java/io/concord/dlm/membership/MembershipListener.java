package io.concord.dlm.membership;

import java.util.Set;

/**
 * What membership tells the DLM. All calls come from one thread, in order, and must not block
 * for long.
 */
public interface MembershipListener {
    /** A newer epoch; intermediate epochs may be skipped, none is reported twice. */
    void epochChanged(EpochView view);

    /** The incarnations marked recovered so far (the whole set, each time it grows). */
    void recoveredChanged(Set<Long> incarnations);

    /** The ZooKeeper connection is suspended: stop granting and submitting until {@link #reconnected}. */
    void suspended();

    void reconnected();

    /** The session is gone: this node is out of the cluster for good. */
    void lost(String why);
}
