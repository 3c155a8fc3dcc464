package io.concord.fsck;

import io.concord.format.NameHash;

import io.concord.errors.CorruptBlockException;
import io.concord.format.BlockType;
import io.concord.format.DirEntry;
import io.concord.format.Extent;
import io.concord.format.Inode;
import io.concord.format.Xattrs;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Checks one inode and everything it owns: its block, its fields, its extended attributes, and
 * its tree: a file's or long symlink's extents, or a directory's entries (which it hands to an
 * {@link EntrySink}; following them to other inodes is the {@link NamespaceWalk}'s business).
 * Every block it finds in use goes to the {@link Claims}.
 */
final class InodeCheck {
    /** Directory keys are name hashes kept clear of readdir's cookies 0..2 and below 2^62 (see {@link NameHash}). */
    static final long FIRST_DIR_KEY = NameHash.FIRST_KEY;
    static final long DIR_KEY_LIMIT = 1L << 62;
    /** A colliding name takes one of the next keys, at most this many: equal names lie this close. */
    static final int NAME_PROBES = NameHash.PROBES;
    /** A file's logical blocks: its size is below blockSize * 2^32 (FileData.maxFileSize). */
    static final long LOGICAL_LIMIT = 1L << 32;
    static final int SYMLINK_MAX = 4095;
    private static final int KNOWN_FLAGS = Inode.FLAG_INLINE_DATA;

    /** Receives a directory's decoded entries in key order. */
    interface EntrySink {
        void entry(long key, DirEntry entry);
    }

    private final Context ctx;
    private final Claims claims;

    InodeCheck(Context ctx, Claims claims) {
        this.ctx = ctx;
        this.claims = claims;
    }

    /**
     * Reads inode {@code ino}, reports what is wrong with its block and fields as "{@code subject} ...",
     * and claims its block when it is an inode at all. Returns null when it cannot be used: not an
     * inode, unreadable, or fields that do not decode. {@code wrongCode} is the code for a block
     * that is not an inode (the caller knows why it expected one).
     */
    Inode load(long ino, String subject, String wrongCode) {
        return load(ino, subject, subject, wrongCode);
    }

    /** As {@link #load(long, String, String)}, naming a block that is no inode at all by {@code wrongSubject}. */
    Inode load(long ino, String subject, String wrongSubject, String wrongCode) {
        BlockVerdict v = ctx.verdict(ino, BlockType.INODE, subject, wrongSubject, wrongCode);
        if (v == null || !v.usable()) {
            return null;
        }
        Inode inode;
        try {
            inode = Inode.decode(v.block(), ino, ctx.fsId());
        } catch (CorruptBlockException e) {
            claims.claim(ino, 1, ino, Claims.Role.INODE);
            ctx.report(Problem.INODE, ino, "inode " + ino + ": " + TreeWalk.detail(e) + " (its number field says " + io.concord.format.MetaBlocks.ownerOf(v.block()) + ")");
            return null;
        }
        claims.claim(ino, 1, ino, Claims.Role.INODE);
        if (typeName(inode.type()) == null) {
            ctx.report(Problem.INODE, ino, subject + " has unknown file type bits 0" + Integer.toOctalString(inode.type()) + " in mode 0"
                    + Integer.toOctalString(inode.mode()));
        }
        if ((inode.flags() & ~KNOWN_FLAGS) != 0) {
            ctx.report(Problem.INODE, ino, subject + " has unknown flags 0x" + Integer.toHexString(inode.flags() & ~KNOWN_FLAGS));
        }
        return inode;
    }

    /** Reads an inode already checked by {@link #load}, reporting and claiming nothing; null when unusable. */
    Inode reload(long ino) {
        var raw = ctx.read(ino);
        if (raw == null) {
            return null;
        }
        BlockVerdict v = BlockVerdict.of(raw, BlockType.INODE, ino, ctx.fsId());
        if (!v.usable()) {
            return null;
        }
        try {
            return Inode.decode(v.block(), ino, ctx.fsId());
        } catch (CorruptBlockException e) {
            return null;
        }
    }

    /** Checks what a non-directory holds: xattrs, extents or inline data, and the block count. */
    void checkNonDirectory(Inode inode) {
        long ino = inode.number();
        long held = checkXattrs(inode);
        boolean symlink = inode.isSymlink();
        if (symlink && (inode.size() < 1 || inode.size() > SYMLINK_MAX)) {
            ctx.report(Problem.INODE, ino, "symbolic link " + ino + " has a target of " + inode.size() + " bytes (must be 1.." + SYMLINK_MAX + ")");
        }
        if (inode.hasInlineData()) {
            if (!symlink && !inode.isRegular()) {
                ctx.report(Problem.INODE, ino, "inode " + ino + " (" + typeName(inode.type()) + ") has the inline-data flag");
            }
            if (inode.size() > inode.fork().length) {
                ctx.report(Problem.INODE, ino, "inode " + ino + " keeps its data inline but its size " + inode.size() + " is more than the "
                        + inode.fork().length + " bytes of its fork");
            }
        } else if (inode.hasTree()) {
            held += checkExtents(inode);
        }
        checkBlockCount(inode, held);
    }

    /** A file's extents: decodable, in range, not overlapping each other; each claimed. Returns blocks held by the tree. */
    private long checkExtents(Inode inode) {
        long ino = inode.number();
        long[] state = new long[2]; // [0] end of the previous extent, [1] data blocks
        long nodes = TreeWalk.walk(ctx, claims, ino, inode.fork(), 0, LOGICAL_LIMIT, (key, value) -> {
            Extent x;
            try {
                x = Extent.decode(key, value, ino);
            } catch (CorruptBlockException e) {
                ctx.report(Problem.EXTENT, ino, "inode " + ino + ": the extent at logical block " + key + " is invalid: " + TreeWalk.detail(e));
                return;
            }
            String name = "inode " + ino + ": extent " + x.logical() + "+" + x.length() + " -> " + x.physical();
            if (x.logical() < state[0]) {
                ctx.report(Problem.EXTENT, ino, name + " overlaps the previous extent, which ends at logical block " + state[0]);
            }
            if (x.end() > LOGICAL_LIMIT) {
                ctx.report(Problem.EXTENT, ino, name + " ends past the largest file (" + LOGICAL_LIMIT + " blocks)");
            }
            state[0] = Math.max(state[0], x.end());
            state[1] += x.length();
            if (!ctx.geometry().inDataArea(x.physical(), x.length())) {
                ctx.report(Problem.BAD_POINTER, ino, name + " does not lie inside one resource group's data area (it starts in "
                        + ctx.geometry().describe(x.physical()) + ")");
                return;
            }
            claims.claim(x.physical(), x.length(), ino, Claims.Role.DATA);
        });
        return nodes + state[1];
    }

    /**
     * Checks a directory: xattrs, its tree, every entry's encoding, name and key, its {@code entries}
     * count and its block count; hands each decoded entry to {@code sink}.
     */
    void checkDirectory(Inode dir, EntrySink sink) {
        long ino = dir.number();
        long held = checkXattrs(dir);
        if (dir.hasInlineData()) {
            ctx.report(Problem.INODE, ino, "directory " + ino + " has the inline-data flag: a directory keeps its entries in a tree");
            checkBlockCount(dir, held);
            return;
        }
        RecentNames recent = new RecentNames();
        long[] count = new long[1];
        held += TreeWalk.walk(ctx, claims, ino, dir.fork(), FIRST_DIR_KEY, DIR_KEY_LIMIT, (key, value) -> {
            count[0]++;
            DirEntry e;
            try {
                e = DirEntry.decode(value, ino);
            } catch (CorruptBlockException ex) {
                ctx.report(Problem.ENTRY, ino, "directory " + ino + ": the entry at key " + key + " does not decode: " + TreeWalk.detail(ex));
                return;
            }
            String why = nameFault(e.name());
            if (why != null) {
                ctx.report(Problem.ENTRY, ino, "directory " + ino + ": entry '" + printable(e.name()) + "' (key " + key + ", inode " + e.inode()
                        + ") has an invalid name: " + why);
            }
            long home = NameHash.key(ctx.superblock().hashSeed(), e.name());
            if (key < home || key >= home + NameHash.PROBES) {
                ctx.report(Problem.ENTRY, ino, "directory " + ino + ": entry '" + printable(e.name()) + "' is stored at key " + key
                        + ", outside its hash's window " + home + ".." + (home + NameHash.PROBES - 1) + ": lookups cannot find it");
            }
            long twin = recent.find(key, e.name());
            if (twin >= 0) {
                ctx.report(Problem.DUPLICATE_NAME, ino, "directory " + ino + " holds the name '" + printable(e.name()) + "' twice (keys " + twin
                        + " and " + key + ")");
            }
            recent.add(key, e.name());
            if (typeName(e.type() << 12) == null) {
                ctx.report(Problem.ENTRY_TYPE, ino, "directory " + ino + ": entry '" + printable(e.name()) + "' has unknown file type " + e.type());
            }
            sink.entry(key, e);
        });
        if (dir.entries() != count[0]) {
            ctx.report(Problem.ENTRIES, ino, "directory " + ino + " says it has " + dir.entries() + " entries, its tree holds " + count[0]);
        }
        checkBlockCount(dir, held);
    }

    /** Checks inline xattrs and the xattr block; returns the blocks held for them (0 or 1). */
    private long checkXattrs(Inode inode) {
        long ino = inode.number();
        if (inode.xattrInline().length > 0) {
            try {
                Xattrs.decode(inode.xattrInline(), ino);
            } catch (CorruptBlockException e) {
                ctx.report(Problem.XATTR, ino, "inode " + ino + ": the inline extended attributes do not decode: " + TreeWalk.detail(e));
            }
        }
        long xb = inode.xattrBlock();
        if (xb == 0) {
            return 0;
        }
        if (inode.xattrInline().length > 0) {
            ctx.report(Problem.XATTR, ino, "inode " + ino + " has both inline extended attributes and an xattr block (" + xb + ")");
        }
        if (!ctx.geometry().inDataArea(xb, 1)) {
            ctx.report(Problem.BAD_POINTER, ino, "inode " + ino + " points at block " + xb + " for its xattr block, which is in "
                    + ctx.geometry().describe(xb) + ", not a data area");
            return 1;
        }
        if (!claims.claim(xb, 1, ino, Claims.Role.XATTR)) {
            return 1;
        }
        BlockVerdict v = ctx.verdict(xb, BlockType.XATTR, "xattr block " + xb + " of inode " + ino, Problem.XATTR);
        if (v == null || !v.usable()) {
            return 1;
        }
        try {
            byte[] enc = Xattrs.decodeBlock(v.block(), xb, ino, ctx.fsId());
            Xattrs.decode(enc, xb);
        } catch (CorruptBlockException e) {
            ctx.report(Problem.XATTR, xb, "xattr block " + xb + " of inode " + ino + ": " + TreeWalk.detail(e)
                    + " (it names inode " + io.concord.format.MetaBlocks.ownerOf(v.block()) + " as its owner)");
        }
        return 1;
    }

    private void checkBlockCount(Inode inode, long held) {
        if (inode.blocks() != held) {
            ctx.report(Problem.BLOCKS, inode.number(), "inode " + inode.number() + " says it holds " + inode.blocks() + " blocks, it holds "
                    + held + " (data, tree nodes and xattr block)");
        }
    }

    /** Why {@code name} is not a valid directory entry name, or null. */
    static String nameFault(byte[] name) {
        if (name.length < 1 || name.length > DirEntry.NAME_MAX) {
            return name.length + " bytes long";
        }
        for (byte b : name) {
            if (b == '/') {
                return "contains '/'";
            }
            if (b == 0) {
                return "contains NUL";
            }
        }
        if ((name.length == 1 && name[0] == '.') || (name.length == 2 && name[0] == '.' && name[1] == '.')) {
            return "'.' and '..' are not stored";
        }
        return null;
    }

    /** The name for a message: UTF-8, control characters as '?', cut at 80 characters. */
    static String printable(byte[] name) {
        String s = new String(name, StandardCharsets.UTF_8);
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(80).forEach(c -> b.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return s.codePointCount(0, s.length()) > 80 ? b + "..." : b.toString();
    }

    /** The file type in words, or null when {@code type} (the S_IFMT bits of a mode) is not one. */
    static String typeName(int type) {
        return switch (type) {
            case Inode.S_IFREG -> "regular file";
            case Inode.S_IFDIR -> "directory";
            case Inode.S_IFLNK -> "symbolic link";
            case Inode.S_IFCHR -> "character device";
            case Inode.S_IFBLK -> "block device";
            case Inode.S_IFIFO -> "FIFO";
            case Inode.S_IFSOCK -> "socket";
            default -> null;
        };
    }

    /**
     * The last few entries of a directory in key order. A name that collides takes one of the
     * {@link #NAME_PROBES} keys after its hash, so two entries of one name lie within that many
     * keys of each other: comparing each name with its close predecessors finds every duplicate
     * without a set of all names, whatever the directory's size.
     */
    private static final class RecentNames {
        private final long[] keys = new long[NAME_PROBES];
        private final byte[][] names = new byte[NAME_PROBES][];
        private int next;

        long find(long key, byte[] name) {
            for (int i = 0; i < NAME_PROBES; i++) {
                if (names[i] != null && key - keys[i] < NAME_PROBES && Arrays.equals(names[i], name)) {
                    return keys[i];
                }
            }
            return -1;
        }

        void add(long key, byte[] name) {
            keys[next] = key;
            names[next] = name;
            next = (next + 1) % NAME_PROBES;
        }
    }
}
