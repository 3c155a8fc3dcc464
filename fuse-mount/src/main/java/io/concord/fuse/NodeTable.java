package io.concord.fuse;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Kernel node IDs and their lookup counts. A node ID is the Concord inode number itself, except
 * the root, which the protocol fixes at 1 (block 1 lies in a journal, so no inode has that number).
 * The kernel adds one lookup for every entry it is given and subtracts with FORGET; a node whose
 * count reaches zero is forgotten here too, so the table holds only what the kernel still knows.
 */
final class NodeTable {
    private final long rootInode;
    private final ConcurrentHashMap<Long, Long> lookups = new ConcurrentHashMap<>();

    NodeTable(long rootInode) {
        this.rootInode = rootInode;
    }

    long inode(long nodeId) {
        return nodeId == Fuse.ROOT_ID ? rootInode : nodeId;
    }

    long nodeId(long inode) {
        return inode == rootInode ? Fuse.ROOT_ID : inode;
    }

    /** The kernel was handed {@code nodeId} once more. */
    void looked(long nodeId) {
        if (nodeId != Fuse.ROOT_ID) {
            lookups.merge(nodeId, 1L, Long::sum);
        }
    }

    /** The kernel dropped {@code count} lookups; true if it no longer knows the node at all. */
    boolean forget(long nodeId, long count) {
        return lookups.computeIfPresent(nodeId, (k, v) -> v - count <= 0 ? null : v - count) == null;
    }

    long lookupCount(long nodeId) {
        return lookups.getOrDefault(nodeId, 0L);
    }

    int size() {
        return lookups.size();
    }
}
