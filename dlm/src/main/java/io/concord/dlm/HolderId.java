package io.concord.dlm;

/**
 * Who holds an entry in a resource's queues: the node that owns the lock and that node's id for
 * it. A master node keeps entries for every node's locks on the resources it masters, and drops
 * a dead node's entries by {@link #node()}; the single-node manager uses node
 * {@link NoLockSpace#LOCAL_NODE}.
 */
record HolderId(long node, long lockId) {
    @Override
    public String toString() {
        return node + "/" + lockId;
    }
}
