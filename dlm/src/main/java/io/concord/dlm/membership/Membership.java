package io.concord.dlm.membership;

/** One node's membership of one lock space, as the DLM uses it ({@link ZkMembership} on ZooKeeper). */
public interface Membership extends AutoCloseable {
    /** Registers this node; epochs and the rest reach the listener from now on. */
    Member join();

    /**
     * {@link #join()}, waiting up to {@code staleWait} for a registration of this node's name left
     * by its previous, crashed life to expire.
     */
    Member join(java.time.Duration staleWait);

    /** Claims the lowest free journal slot below {@code slotCount} for this node; see {@link ZkMembership#claimJournalSlot(int)}. */
    int claimJournalSlot(int slotCount);

    /** Claims journal slot {@code wanted}; see {@link ZkMembership#claimJournalSlot(int, int)}. */
    int claimJournalSlot(int slotCount, int wanted);

    /** The journal slot {@code incarnation} holds, if any: the journal a survivor replays for it. */
    java.util.OptionalInt journalSlotOf(long incarnation);

    /** Records in the cluster that {@code incarnation}'s recovery is done. Idempotent. */
    void markRecovered(long incarnation);

    /**
     * Leaves cleanly (this node's registration disappears, its incarnation is marked recovered and
     * its journal slot released) and stops reporting. Idempotent.
     */
    @Override
    void close();

    /** Leaves so that the others recover this incarnation as a dead one; see {@link ZkMembership#closeUnclean()}. */
    void closeUnclean();
}
