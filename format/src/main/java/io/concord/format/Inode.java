package io.concord.format;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;

/**
 * An inode: one whole block, whose block number is the inode number.
 *
 * <pre>
 * offset size field
 *   0    32  {@link BlockHeader} (type INODE)
 *  32     8  number          == the block number
 *  40     8  generation      bumped each time the block is reused as an inode (stale handles)
 *  48     4  mode            file type and permission bits, as st_mode
 *  52     4  uid
 *  56     4  gid
 *  60     4  nlink
 *  64     8  size            bytes
 *  72     8  blocks          blocks held (data, tree nodes, xattr block; not the inode itself)
 *  80    16  atime           8 seconds (signed) + 4 nanoseconds + 4 reserved
 *  96    16  mtime
 * 112    16  ctime
 * 128    16  crtime          birth time
 * 144     8  rdev            device number of a character or block special file
 * 152     8  parent          a directory's parent ("..")
 * 160     8  xattrBlock      the block of extended attributes that did not fit inline, or 0
 * 168     4  flags           {@link #FLAG_INLINE_DATA}
 * 172     2  xattrInlineLength bytes used of the inline xattr area
 * 174     2  (reserved, zero)
 * 176     8  entries         a directory's entry count ("." and ".." not counted)
 * 184     8  (reserved, zero)
 * 192   512  inline xattrs   {@link Xattrs} encoding
 * 704  rest  fork            the root node of the inode's tree ({@link BtreeNode}: directory
 *                            entries or file extents), or with FLAG_INLINE_DATA the file's bytes
 *                            (a symlink's target)
 * </pre>
 */
public record Inode(
        long number,
        long generation,
        int mode,
        int uid,
        int gid,
        int nlink,
        long size,
        long blocks,
        Instant atime,
        Instant mtime,
        Instant ctime,
        Instant crtime,
        long rdev,
        long parent,
        long xattrBlock,
        int flags,
        long entries,
        byte[] xattrInline,
        byte[] fork) {

    public static final int XATTR_INLINE_OFFSET = 192;
    public static final int XATTR_INLINE_SIZE = 512;
    public static final int FORK_OFFSET = XATTR_INLINE_OFFSET + XATTR_INLINE_SIZE;
    public static final int FLAG_INLINE_DATA = 1;

    public static final int S_IFMT = 0170000;
    public static final int S_IFSOCK = 0140000;
    public static final int S_IFLNK = 0120000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFBLK = 0060000;
    public static final int S_IFDIR = 0040000;
    public static final int S_IFCHR = 0020000;
    public static final int S_IFIFO = 0010000;

    public Inode {
        if (xattrInline.length > XATTR_INLINE_SIZE) {
            throw new IllegalArgumentException("inline xattrs too long: " + xattrInline.length);
        }
    }

    public static int forkSize(int blockSize) {
        return blockSize - FORK_OFFSET;
    }

    public int type() {
        return mode & S_IFMT;
    }

    public boolean isDirectory() {
        return type() == S_IFDIR;
    }

    public boolean isRegular() {
        return type() == S_IFREG;
    }

    public boolean isSymlink() {
        return type() == S_IFLNK;
    }

    public boolean hasInlineData() {
        return (flags & FLAG_INLINE_DATA) != 0;
    }

    /** True when the fork holds a tree root (directories, and files and symlinks without inline data). */
    public boolean hasTree() {
        return !hasInlineData() && (isDirectory() || isRegular() || isSymlink());
    }

    public void encode(ByteBuffer block, int journalId, long fsId) {
        MetaBlocks.zero(block);
        block.putLong(32, number);
        block.putLong(40, generation);
        block.putInt(48, mode);
        block.putInt(52, uid);
        block.putInt(56, gid);
        block.putInt(60, nlink);
        block.putLong(64, size);
        block.putLong(72, blocks);
        putTime(block, 80, atime);
        putTime(block, 96, mtime);
        putTime(block, 112, ctime);
        putTime(block, 128, crtime);
        block.putLong(144, rdev);
        block.putLong(152, parent);
        block.putLong(160, xattrBlock);
        block.putInt(168, flags);
        block.putShort(172, (short) xattrInline.length);
        block.putLong(176, entries);
        block.put(XATTR_INLINE_OFFSET, xattrInline);
        if (fork.length > forkSize(block.capacity())) {
            throw new IllegalArgumentException("fork too long: " + fork.length);
        }
        block.put(FORK_OFFSET, fork);
        MetaBlocks.seal(block, new BlockHeader(BlockType.INODE, 1, journalId, number, fsId));
    }

    public static Inode decode(ByteBuffer block, long blockNumber, long fsId) {
        MetaBlocks.checkHeader(block, BlockType.INODE, blockNumber, fsId);
        int xlen = Short.toUnsignedInt(block.getShort(172));
        if (xlen > XATTR_INLINE_SIZE || block.getLong(32) != blockNumber) {
            throw new io.concord.errors.CorruptBlockException(blockNumber, "inode fields out of range");
        }
        byte[] xattrs = new byte[xlen];
        block.get(XATTR_INLINE_OFFSET, xattrs);
        byte[] fork = new byte[forkSize(block.capacity())];
        block.get(FORK_OFFSET, fork);
        return new Inode(block.getLong(32), block.getLong(40), block.getInt(48), block.getInt(52), block.getInt(56),
                block.getInt(60), block.getLong(64), block.getLong(72), getTime(block, 80), getTime(block, 96),
                getTime(block, 112), getTime(block, 128), block.getLong(144), block.getLong(152), block.getLong(160),
                block.getInt(168), block.getLong(176), xattrs, fork);
    }

    private static void putTime(ByteBuffer block, int at, Instant t) {
        block.putLong(at, t.getEpochSecond());
        block.putInt(at + 8, t.getNano());
    }

    private static Instant getTime(ByteBuffer block, int at) {
        int nanos = block.getInt(at + 8);
        return Instant.ofEpochSecond(block.getLong(at), Math.floorMod(nanos, 1_000_000_000));
    }

    // Copies with one thing changed: the filesystem's operations read as "inode.withSize(n)".

    public Inode withMode(int m) {
        return new Inode(number, generation, m, uid, gid, nlink, size, blocks, atime, mtime, ctime, crtime, rdev, parent, xattrBlock, flags, entries, xattrInline, fork);
    }

    public Inode withOwner(int u, int g) {
        return new Inode(number, generation, mode, u, g, nlink, size, blocks, atime, mtime, ctime, crtime, rdev, parent, xattrBlock, flags, entries, xattrInline, fork);
    }

    public Inode withNlink(int n) {
        return new Inode(number, generation, mode, uid, gid, n, size, blocks, atime, mtime, ctime, crtime, rdev, parent, xattrBlock, flags, entries, xattrInline, fork);
    }

    public Inode withSize(long s) {
        return new Inode(number, generation, mode, uid, gid, nlink, s, blocks, atime, mtime, ctime, crtime, rdev, parent, xattrBlock, flags, entries, xattrInline, fork);
    }

    public Inode withBlocks(long b) {
        return new Inode(number, generation, mode, uid, gid, nlink, size, b, atime, mtime, ctime, crtime, rdev, parent, xattrBlock, flags, entries, xattrInline, fork);
    }

    public Inode withTimes(Instant a, Instant m, Instant c) {
        return new Inode(number, generation, mode, uid, gid, nlink, size, blocks, a, m, c, crtime, rdev, parent, xattrBlock, flags, entries, xattrInline, fork);
    }

    public Inode withParent(long p) {
        return new Inode(number, generation, mode, uid, gid, nlink, size, blocks, atime, mtime, ctime, crtime, rdev, p, xattrBlock, flags, entries, xattrInline, fork);
    }

    public Inode withEntries(long e) {
        return new Inode(number, generation, mode, uid, gid, nlink, size, blocks, atime, mtime, ctime, crtime, rdev, parent, xattrBlock, flags, e, xattrInline, fork);
    }

    public Inode withXattrs(byte[] inline, long block) {
        return new Inode(number, generation, mode, uid, gid, nlink, size, blocks, atime, mtime, ctime, crtime, rdev, parent, block, flags, entries, inline, fork);
    }

    public Inode withFork(byte[] f, int newFlags) {
        return new Inode(number, generation, mode, uid, gid, nlink, size, blocks, atime, mtime, ctime, crtime, rdev, parent, xattrBlock, newFlags, entries, xattrInline, f);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Inode i && i.number == number && i.generation == generation && i.mode == mode && i.uid == uid
                && i.gid == gid && i.nlink == nlink && i.size == size && i.blocks == blocks && i.atime.equals(atime)
                && i.mtime.equals(mtime) && i.ctime.equals(ctime) && i.crtime.equals(crtime) && i.rdev == rdev
                && i.parent == parent && i.xattrBlock == xattrBlock && i.flags == flags && i.entries == entries
                && Arrays.equals(i.xattrInline, xattrInline) && Arrays.equals(i.fork, fork);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(number) * 31 + Long.hashCode(generation);
    }

    @Override
    public String toString() {
        return "Inode[" + number + " gen " + generation + " mode " + Integer.toOctalString(mode) + " nlink " + nlink + " size " + size + "]";
    }
}
