package io.concord.fs;

/** What a glock protects, and the one-character DLM resource type it is named with. */
enum GlockType {
    /** An inode block, its tree nodes and xattr block, and the file's data. */
    INODE('I'),
    /** A resource group's header and bitmaps. */
    RGRP('R'),
    /** A node slot's journal: held EX by its owner, taken by a survivor to replay it. */
    JOURNAL('J'),
    /** Serialises directory renames across directories (the loop check needs a stable tree). */
    RENAME('N'),
    /** Whole-filesystem free space accounting. */
    STATFS('S');

    final char code;

    GlockType(char code) {
        this.code = code;
    }
}
