package io.concord.dlm;

/**
 * The entry point of a lock manager: {@link NoLockManager} for a single node, and the distributed
 * lock manager (later) for a cluster, behind the same interfaces.
 */
public interface LockManager {
    /**
     * Opens a lock space: a namespace of resources, normally one per filesystem. Locks in
     * different lock spaces never conflict.
     *
     * @throws IllegalStateException if this manager already has a lock space of that name open
     */
    LockSpace openLockSpace(String name);
}
