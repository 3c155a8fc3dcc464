package io.concord.dlm;

/** A namespace of lockable resources, in which this node creates its {@link Lock}s. */
public interface LockSpace extends AutoCloseable {
    /** The name it was opened under. */
    String name();

    /**
     * True when other nodes may hold locks in this space (the distributed lock manager); false
     * for the single-node manager, whose holders are all in this process.
     */
    default boolean clustered() {
        return true;
    }

    /**
     * Creates a lock handle for {@code resource}; it holds nothing until {@link Lock#request}.
     * Creating handles is cheap; two handles on one resource conflict with each other exactly as
     * handles on two nodes would.
     *
     * @param onBlocking where this lock's BASTs go; {@code null} for a holder that never yields
     * @throws LockSpaceClosedException after {@link #close()}
     */
    Lock newLock(ResourceName resource, BlockingCallback onBlocking);

    /**
     * Releases every lock of this lock space: requests in flight fail with
     * {@link LockSpaceClosedException}, granted locks are dropped without publishing staged value
     * blocks. Idempotent.
     */
    @Override
    void close();

    /**
     * Leaves as a node that crashed would: nothing is released and no value block published; the
     * other nodes recover this node (its locks stay in force until its recovery hook is answered).
     * For a filesystem that withdrew, whose journal may hold changes no other node has seen.
     * Idempotent; after {@link #close()} it does nothing.
     */
    default void abandon() {
        close();
    }
}
