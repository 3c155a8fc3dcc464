package io.concord.fsck;

import io.concord.device.BlockDevice;
import io.concord.device.FileBlockDevice;
import io.concord.dlm.NoLockManager;
import io.concord.format.BtreeNode;
import io.concord.format.DirEntry;
import io.concord.format.Extent;
import io.concord.format.Inode;
import io.concord.format.RgrpBitmap;
import io.concord.format.RgrpHeader;
import io.concord.format.Superblock;
import io.concord.fs.ConcordFs;
import io.concord.fs.Mkfs;
import io.concord.fs.MkfsOptions;
import io.concord.fs.MountOptions;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Real Concord images for the tests, and raw edits of their blocks through the on-disk format's own types. */
final class Images {
    private Images() {
    }

    /** A sparse image file of {@code bytes}, formatted with two journals. */
    static Path formatted(Path dir, String name, long bytes) throws IOException {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(bytes);
        }
        try (BlockDevice dev = FileBlockDevice.open(p, false, false)) {
            Mkfs.format(dev, MkfsOptions.of("test:fs", 2), new SplittableRandom(1), Clock.systemUTC(), q -> { });
        }
        return p;
    }

    static ConcordFs mount(BlockDevice dev) {
        return ConcordFs.mount(dev, new NoLockManager(), MountOptions.defaults().withCommitInterval(Duration.ofHours(1)));
    }

    /** Runs the checker on a read-only view of the image: any write would fail. */
    static FsckReport check(Path image) {
        try (BlockDevice dev = FileBlockDevice.open(image, true, false)) {
            return Fsck.check(dev, null);
        }
    }

    /** The image's blocks, read and rewritten in place. */
    static final class Raw implements AutoCloseable {
        final BlockDevice dev;
        final Superblock sb;
        final int bs;

        Raw(Path image) {
            this.dev = FileBlockDevice.open(image, false, false);
            this.sb = ConcordFs.readSuperblock(dev);
            this.bs = sb.blockSize();
        }

        ByteBuffer read(long block) {
            ByteBuffer b = ByteBuffer.allocate(bs);
            dev.read(block * bs, b);
            return b.clear();
        }

        void write(long block, ByteBuffer b) {
            dev.write(block * bs, b.duplicate().clear());
            dev.flush();
        }

        /** Inverts one byte, leaving the checksum as it was. */
        void flip(long block, int offset) {
            ByteBuffer b = read(block);
            b.put(offset, (byte) ~b.get(offset));
            write(block, b);
        }

        Inode inode(long ino) {
            return Inode.decode(read(ino), ino, sb.fsId());
        }

        /** Writes {@code inode} back, sealed: a logical change, not a checksum fault. */
        void write(Inode inode) {
            ByteBuffer b = ByteBuffer.allocate(bs);
            inode.encode(b, 0, sb.fsId());
            write(inode.number(), b);
        }

        BtreeNode root(Inode inode) {
            return BtreeNode.decodeBody(ByteBuffer.wrap(inode.fork()), 0, inode.fork().length, inode.number());
        }

        /** The inode with {@code root} as its tree root. */
        Inode withRoot(Inode inode, BtreeNode root) {
            byte[] fork = new byte[inode.fork().length];
            root.encodeBody(ByteBuffer.wrap(fork), 0);
            return inode.withFork(fork, inode.flags());
        }

        /** The extents of a file whose tree is only its root. */
        List<Extent> extents(long ino) {
            BtreeNode root = root(inode(ino));
            List<Extent> out = new ArrayList<>();
            for (int i = 0; i < root.count(); i++) {
                out.add(Extent.decode(root.keys()[i], root.values()[i], ino));
            }
            return out;
        }

        /** Index in a directory's root leaf of the entry named {@code name}. */
        int entryIndex(BtreeNode leaf, String name) {
            for (int i = 0; i < leaf.count(); i++) {
                if (DirEntry.decode(leaf.values()[i], 0).nameString().equals(name)) {
                    return i;
                }
            }
            throw new AssertionError("no entry " + name);
        }

        boolean bit(long block) {
            int r = sb.rgrpOf(block);
            long bit = block - sb.rgrpFirstBlock(r);
            long per = RgrpBitmap.bitsPerBlock(bs);
            return RgrpBitmap.get(read(sb.rgrpFirstBlock(r) + 1 + bit / per), (int) (bit % per));
        }

        /** Sets or clears the bitmap bit of {@code block} and keeps the group's free count in step, both sealed. */
        void setBit(long block, boolean used) {
            int r = sb.rgrpOf(block);
            long first = sb.rgrpFirstBlock(r);
            long bit = block - first;
            long per = RgrpBitmap.bitsPerBlock(bs);
            long bmBlock = first + 1 + bit / per;
            ByteBuffer bm = read(bmBlock);
            RgrpBitmap.set(bm, (int) (bit % per), used);
            RgrpBitmap.seal(bm, bmBlock, 0, sb.fsId());
            write(bmBlock, bm);
            RgrpHeader h = RgrpHeader.decode(read(first), first, sb.fsId());
            ByteBuffer hb = ByteBuffer.allocate(bs);
            h.withCounts(h.freeBlocks() + (used ? -1 : 1), h.inodes()).encode(hb, 0, sb.fsId());
            write(first, hb);
        }

        @Override
        public void close() {
            dev.close();
        }
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
