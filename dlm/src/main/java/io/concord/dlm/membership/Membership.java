package io.concord.dlm.membership;

/** One node's membership of one lock space, as the DLM uses it ({@link ZkMembership} on ZooKeeper). */
public interface Membership extends AutoCloseable {
    /** Registers this node; epochs and the rest reach the listener from now on. */
    Member join();

    /** Records in the cluster that {@code incarnation}'s recovery is done. Idempotent. */
    void markRecovered(long incarnation);

    /** Leaves (this node's registration disappears) and stops reporting. Idempotent. */
    @Override
    void close();
}
