package io.concord.fsck;

/**
 * Receives every block the walk finds in use, with what uses it. The first walk marks blocks in
 * use and finds those used twice; a second walk, run only when there were such blocks, gathers
 * everything that uses them so that each problem can name all the owners.
 */
interface Claims {
    /** What a block is used for. */
    enum Role {
        RGRP_METADATA, INODE, TREE_NODE, XATTR, DATA;

        String describe(long owner) {
            return switch (this) {
                case RGRP_METADATA -> "resource group metadata";
                case INODE -> "inode " + owner;
                case TREE_NODE -> "a tree node of inode " + owner;
                case XATTR -> "the xattr block of inode " + owner;
                case DATA -> "data of inode " + owner;
            };
        }
    }

    /**
     * Claims [start, start + length), which the caller has checked lies in a data area (or is
     * resource group metadata). Returns false when some of it was claimed before: the caller does
     * not descend into a tree node that is already someone else's.
     */
    boolean claim(long start, int length, long owner, Role role);
}
