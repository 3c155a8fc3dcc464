package io.concord.fs;

import io.concord.device.BlockDevice;
import io.concord.errors.FormatException;
import io.concord.format.BtreeNode;
import io.concord.format.HeartbeatBlock;
import io.concord.format.Inode;
import io.concord.format.RgrpBitmap;
import io.concord.format.RgrpHeader;
import io.concord.format.Superblock;
import io.concord.journal.Journal;
import io.concord.journal.JournalRegion;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Instant;
import java.util.UUID;
import java.util.function.IntConsumer;
import java.util.random.RandomGenerator;

/**
 * Makes a new filesystem: lays out journals and resource groups, writes a clean heartbeat block
 * per node slot (multi-mount protection), every rgrp header and bitmap, empty journals, the root
 * directory and one orphan directory per journal, and the superblock last, so that an
 * interrupted mkfs leaves no superblock that could be mounted.
 */
public final class Mkfs {
    private static final int MIN_JOURNAL_BLOCKS = 1024;

    private Mkfs() {
    }

    /** Formats {@code device}; {@code progress} hears whole percentages as rgrps are written. */
    public static Superblock format(BlockDevice device, MkfsOptions o, RandomGenerator random, Clock clock, IntConsumer progress) {
        if (device.readOnly()) {
            throw new FormatException(device.name() + " is open read-only");
        }
        if (!o.force()) {
            String existing = existingFilesystem(device);
            if (existing != null) {
                throw new FormatException(device.name() + " already holds " + existing + "; use -f to overwrite it");
            }
        }
        int bs = o.blockSize();
        long total = device.size() / bs;
        int journalBlocks = journalBlocks(o, total, bs);
        long journalStart = Superblock.heartbeatAreaEnd(bs, o.journals()); // after the superblock and the heartbeat blocks
        long rgrpStart = journalStart + (long) o.journals() * journalBlocks;
        long minData = 64L + o.journals();
        if (rgrpStart + minData > total) {
            throw new FormatException(String.format("%s is too small: %d journals of %d MiB need %d MiB and the device has %d MiB (try fewer journals or -J smaller)",
                    device.name(), o.journals(), (long) journalBlocks * bs >> 20, (rgrpStart + minData) * bs >> 20, device.size() >> 20));
        }
        int rgrpBlocks = rgrpBlocks(o, total - rgrpStart, bs);
        long area = total - rgrpStart;
        int rgrpCount = (int) (area / rgrpBlocks);
        long remainder = area % rgrpBlocks;
        if (remainder >= 64) {
            rgrpCount++;
        } else {
            total -= remainder; // too small to be a group of its own: left unused
        }
        if (rgrpCount == 0) {
            throw new FormatException(device.name() + " is too small for one resource group");
        }
        UUID uuid = new UUID(random.nextLong(), random.nextLong());
        long fsId = Superblock.fsIdOf(uuid);

        for (int j = 0; j < o.journals(); j++) {
            ByteBuffer heartbeat = ByteBuffer.allocate(bs);
            long at = Superblock.heartbeatBlock(bs, j);
            HeartbeatBlock.clean(j).encode(heartbeat, at, fsId);
            device.write(at * bs, heartbeat.clear());
            Journal.format(device, new JournalRegion(j, journalStart + (long) j * journalBlocks, journalBlocks, bs, fsId));
        }

        // The root and the orphan directories are the first blocks after rgrp 0's bitmaps.
        int bitmaps0 = RgrpHeader.bitmapBlocksFor((int) Math.min(rgrpBlocks, total - rgrpStart), bs);
        long root = rgrpStart + 1 + bitmaps0;
        long[] orphanDirs = new long[o.journals()];
        for (int j = 0; j < orphanDirs.length; j++) {
            orphanDirs[j] = root + 1 + j;
        }
        int systemInodes = 1 + o.journals();
        if (1 + bitmaps0 + systemInodes > Math.min(rgrpBlocks, total - rgrpStart)) {
            throw new FormatException("the first resource group is too small for the root and orphan directories");
        }

        int lastPercent = -1;
        for (int r = 0; r < rgrpCount; r++) {
            long first = rgrpStart + (long) r * rgrpBlocks;
            int length = (int) Math.min(rgrpBlocks, total - first);
            writeRgrp(device, bs, fsId, r, first, length, r == 0 ? systemInodes : 0);
            int percent = (int) ((r + 1) * 100L / rgrpCount);
            if (percent != lastPercent) {
                progress.accept(percent);
                lastPercent = percent;
            }
        }

        Instant now = clock.instant();
        writeDirectory(device, bs, fsId, root, root, 0755, now);
        for (long od : orphanDirs) {
            writeDirectory(device, bs, fsId, od, od, 0700, now);
        }
        device.flush();

        Superblock sb = new Superblock(Superblock.FORMAT_VERSION, 0, 0, Superblock.INCOMPAT_MMP, uuid, bs, total, o.lockTable(),
                o.protocol(), o.label(), o.journals(),
                journalBlocks, journalStart, rgrpStart, rgrpBlocks, rgrpCount, root, random.nextLong(), now.getEpochSecond(), orphanDirs);
        ByteBuffer block = ByteBuffer.allocate(bs);
        sb.encode(block);
        device.write(0, block.clear());
        device.flush();
        return sb;
    }

    private static int journalBlocks(MkfsOptions o, long totalBlocks, int bs) {
        long blocks;
        if (o.journalMb() > 0) {
            blocks = ((long) o.journalMb() << 20) / bs;
        } else {
            // GFS2 defaults to 128 MiB; small devices (test images) get a journal that leaves room for data.
            long mb = totalBlocks * bs >= (8L << 30) ? 128 : totalBlocks * bs >= (1L << 30) ? 32 : 8;
            blocks = (mb << 20) / bs;
        }
        if (blocks < MIN_JOURNAL_BLOCKS) {
            throw new FormatException("a journal needs at least " + MIN_JOURNAL_BLOCKS + " blocks (" + ((long) MIN_JOURNAL_BLOCKS * bs >> 10) + " KiB)");
        }
        if (blocks > Integer.MAX_VALUE / 2) {
            throw new FormatException("journal size too large");
        }
        return (int) blocks;
    }

    private static int rgrpBlocks(MkfsOptions o, long dataBlocks, int bs) {
        long blocks;
        if (o.rgrpMb() > 0) {
            blocks = ((long) o.rgrpMb() << 20) / bs;
        } else {
            // 256 MiB as GFS2, but at least 4 groups on a small device so nodes can spread.
            blocks = Math.min((256L << 20) / bs, Math.max(256, dataBlocks / 4));
        }
        long maxBits = RgrpBitmap.bitsPerBlock(bs) * 1024;
        return (int) Math.max(64, Math.min(blocks, Math.min(maxBits, Integer.MAX_VALUE / 2)));
    }

    private static void writeRgrp(BlockDevice device, int bs, long fsId, int index, long first, int length, int systemInodes) {
        int bitmaps = RgrpHeader.bitmapBlocksFor(length, bs);
        long bitsPer = RgrpBitmap.bitsPerBlock(bs);
        int used = 1 + bitmaps + systemInodes;
        ByteBuffer out = ByteBuffer.allocate((1 + bitmaps) * bs);
        for (int bm = 0; bm < bitmaps; bm++) {
            ByteBuffer b = out.duplicate().position((1 + bm) * bs).limit((2 + bm) * bs).slice();
            RgrpBitmap.format(b, index, bm);
            long base = bm * bitsPer;
            for (long bit = 0; bit < Math.min(bitsPer, used - base); bit++) {
                RgrpBitmap.set(b, (int) bit, true); // header, bitmaps, system inodes
            }
            for (long bit = Math.max(0, length - base); bit < bitsPer; bit++) {
                RgrpBitmap.set(b, (int) bit, true); // past the end of the group
            }
            RgrpBitmap.seal(b, first + 1 + bm, 0, fsId);
        }
        ByteBuffer h = out.duplicate().position(0).limit(bs).slice();
        new RgrpHeader(index, length, first, bitmaps, length - used, systemInodes).encode(h, 0, fsId);
        device.write(first * bs, out.clear());
    }

    private static void writeDirectory(BlockDevice device, int bs, long fsId, long number, long parent, int perms, Instant now) {
        byte[] fork = new byte[Inode.forkSize(bs)];
        ByteBuffer f = ByteBuffer.wrap(fork);
        BtreeNode.emptyLeaf().encodeBody(f, 0);
        Inode dir = new Inode(number, now.toEpochMilli() * 1000, Inode.S_IFDIR | perms, 0, 0, 2, 0, 0, now, now, now, now, 0, parent, 0, 0, 0,
                new byte[0], fork);
        ByteBuffer block = ByteBuffer.allocate(bs);
        dir.encode(block, 0, fsId);
        device.write(number * bs, block.clear());
    }

    /** What the device already holds, if anything we recognise; null for nothing. */
    static String existingFilesystem(BlockDevice device) {
        if (device.size() < 128 << 10) {
            return null;
        }
        ByteBuffer head = ByteBuffer.allocate(128 << 10);
        device.read(0, head);
        if (Superblock.peekBlockSize(head.clear()) > 0) {
            return "a Concord filesystem";
        }
        if (head.getInt(65536) == 0x01161970) {
            return "a GFS2 filesystem";
        }
        if ((head.getShort(1024 + 56) & 0xFFFF) == 0x53EF) {
            return "an ext2/3/4 filesystem";
        }
        if (head.getInt(0) == 0x58465342) {
            return "an XFS filesystem";
        }
        return null;
    }
}
