package io.concord.fs;

import io.concord.dlm.ResourceName;

/**
 * What a glock protects. The one-letter DLM resource type is {@link ResourceName}'s, defined
 * there once; what each type does on grant, sync and invalidate is its {@link GlockOps} entry.
 */
enum GlockType {
    /** An inode block, its tree nodes and xattr block, and the file's data. */
    INODE(ResourceName.INODE),
    /**
     * Held PR by every node that has the inode open, for as long as it does: an unlinking node
     * that cannot get it EX at once leaves the inode for the last closer to free.
     */
    IOPEN(ResourceName.IOPEN),
    /** A resource group's header and bitmaps. */
    RGRP(ResourceName.RESOURCE_GROUP),
    /** A node slot's journal: held EX by its owner, taken by a survivor to replay it. */
    JOURNAL(ResourceName.JOURNAL),
    /** Serialises directory renames across directories (the loop check needs a stable tree). */
    RENAME(ResourceName.RENAME),
    /** Whole-filesystem free space accounting. */
    STATFS(ResourceName.STATFS);

    final char code;

    GlockType(char code) {
        this.code = code;
    }

    ResourceName resource(long number) {
        return new ResourceName(code, number);
    }
}
