package io.concord.fsck;

/**
 * One inconsistency: a short machine-readable {@code code}, the block it is about (for an inode,
 * its number, which is its block) and one line for humans that names the block or inode and says
 * what is wrong.
 */
public record Problem(String code, long block, String message) {
    // ---- codes ----
    /** A metadata block's CRC32C does not match its contents. */
    public static final String CHECKSUM = "checksum";
    /** A block is not the metadata block that belongs there (type, self-address, filesystem id, format). */
    public static final String WRONG_BLOCK = "wrong-block";
    /** The device failed to read a block. */
    public static final String UNREADABLE = "unreadable";
    /** A heartbeat block (multi-mount protection) is not its slot's, or does not decode. */
    public static final String HEARTBEAT = "heartbeat";
    /** A journal header is unsound or disagrees with the superblock. */
    public static final String JOURNAL = "journal";
    /** A journal holds committed transactions not yet written in place. */
    public static final String JOURNAL_DIRTY = "journal-dirty";
    /** A resource group header disagrees with the superblock's geometry. */
    public static final String RGRP = "rgrp";
    /** A bitmap block's fields, or a bit that must always be set (header, bitmaps, past the end), are wrong. */
    public static final String BITMAP = "bitmap";
    /** A resource group header's free count disagrees with its bitmap. */
    public static final String RGRP_FREE = "rgrp-free-count";
    /** A resource group header's inode count disagrees with the inode blocks found in the group. */
    public static final String RGRP_INODES = "rgrp-inode-count";
    /** The root or an orphan directory is missing, not a directory, or points elsewhere. */
    public static final String SYSTEM_DIR = "system-directory";
    /** An inode's own fields are wrong: number, file type bits, flags, size. */
    public static final String INODE = "inode";
    /** A B+tree is malformed: node owner, level, key order or range, empty node. */
    public static final String TREE = "tree";
    /** A directory entry does not decode, or its name or key is invalid. */
    public static final String ENTRY = "entry";
    /** A directory entry's file type differs from its inode's. */
    public static final String ENTRY_TYPE = "entry-type";
    /** A directory entry points at a block that is not an inode. */
    public static final String ENTRY_TARGET = "entry-target";
    /** Two entries of one directory have the same name. */
    public static final String DUPLICATE_NAME = "duplicate-name";
    /** A directory's {@code entries} field differs from the entries its tree holds. */
    public static final String ENTRIES = "entries-count";
    /** An inode's nlink differs from the entries that name it (a directory's: 2 + its subdirectories). */
    public static final String NLINK = "nlink";
    /** A directory's parent field does not point at the directory that holds it. */
    public static final String PARENT = "parent";
    /** A directory is named by more than one entry, or the root or an orphan directory is named at all. */
    public static final String DIRECTORY_LINKS = "directory-links";
    /** An extent is malformed or overlaps another extent of the same file. */
    public static final String EXTENT = "extent";
    /** A pointer (extent, tree node, xattr block, entry) leads outside every resource group's data area. */
    public static final String BAD_POINTER = "bad-pointer";
    /** Extended attributes do not decode, or the xattr block belongs to another inode. */
    public static final String XATTR = "xattr";
    /** An inode's {@code blocks} field differs from the blocks it holds. */
    public static final String BLOCKS = "blocks-count";
    /** A block in use is free in its bitmap. */
    public static final String USED_BUT_FREE = "used-but-free";
    /** A block is used by more than one inode, or twice by one. */
    public static final String BLOCK_TWICE = "block-twice";
    /** A block set in its bitmap is used by nothing. */
    public static final String LEAK = "leak";
    /** A sound inode is allocated but named by no directory, not even an orphan directory. */
    public static final String UNREACHABLE_INODE = "unreachable-inode";
    /** An orphan directory's entry is wrong: its inode still has links, or it is named wrongly. */
    public static final String ORPHAN = "orphan";

    @Override
    public String toString() {
        return "block " + block + ": " + message + " [" + code + "]";
    }
}
