package io.concord.journal;

import io.concord.device.BlockDevice;
import io.concord.device.FileBlockDevice;
import io.concord.format.BtreeNode;
import io.concord.format.Inode;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A sparse disk image laid out for journal tests: block 0 unused (where a superblock would be), one
 * journal region from block 1, then {@code dataBlocks} blocks that transactions log images of.
 *
 * <p>Images are real sealed metadata blocks of the region's filesystem, addressed to the block
 * they are logged for: an inode on even blocks, a B+tree leaf on odd ones. {@code version} makes
 * every image of a block distinct, so a test can tell which one landed.
 */
final class JournalDisk {
    static final int BLOCK_SIZE = 4096;
    static final int JOURNAL_ID = 3;
    static final long FS_ID = 0x5EED_C0DE_F00DL;
    static final Clock CLOCK = Clock.fixed(Instant.parse("2025-01-01T00:00:00Z"), ZoneOffset.UTC);

    final Path path;
    final JournalRegion region;
    final int dataBlocks;

    private JournalDisk(Path path, JournalRegion region, int dataBlocks) {
        this.path = path;
        this.region = region;
        this.dataBlocks = dataBlocks;
    }

    static JournalDisk create(Path file, int journalBlocks, int dataBlocks) {
        return create(file, journalBlocks, dataBlocks, FS_ID);
    }

    static JournalDisk create(Path file, int journalBlocks, int dataBlocks, long fsId) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength((1L + journalBlocks + dataBlocks) * BLOCK_SIZE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new JournalDisk(file, new JournalRegion(JOURNAL_ID, 1, journalBlocks, BLOCK_SIZE, fsId), dataBlocks);
    }

    /** The same image as seen by a later mkfs, which gave the filesystem another id. */
    JournalDisk withFsId(long fsId) {
        return new JournalDisk(path, new JournalRegion(region.journalId(), region.firstBlock(), region.blocks(), BLOCK_SIZE, fsId), dataBlocks);
    }

    /** The same image under another path (a copy taken as a crash snapshot). */
    JournalDisk at(Path other) {
        return new JournalDisk(other, region, dataBlocks);
    }

    FileBlockDevice open() {
        return FileBlockDevice.open(path, false, false);
    }

    /** mkfs of the journal, then the mount-time open. */
    Journal formatAndOpen(BlockDevice device) {
        Journal.format(device, region);
        device.flush();
        return Journal.open(device, region, CLOCK);
    }

    long dataBlock(int i) {
        return region.firstBlock() + region.blocks() + i;
    }

    List<Long> dataBlockNumbers() {
        List<Long> all = new ArrayList<>();
        for (int i = 0; i < dataBlocks; i++) {
            all.add(dataBlock(i));
        }
        return all;
    }

    ByteBuffer image(long block, long version) {
        ByteBuffer b = ByteBuffer.allocate(BLOCK_SIZE);
        if (block % 2 == 0) {
            Instant t = Instant.ofEpochSecond(1_700_000_000L + version, version % 1_000_000_000L);
            new Inode(block, version, Inode.S_IFREG | 0644, 1000, 1000, 1, version * 4096, version, t, t, t, t, 0, 0, 0, 0, 0,
                    new byte[0], new byte[0]).encode(b, region.journalId(), region.fsId());
        } else {
            byte[] value = ("block " + block + " version " + version).getBytes(StandardCharsets.US_ASCII);
            new BtreeNode(0, new long[] {version}, null, new byte[][] {value})
                    .encodeBlock(b, block, 42, region.journalId(), region.fsId());
        }
        return b.clear();
    }

    /** Decodes {@code bytes} as the image {@link #image} makes for {@code block}; throws if it is not one. */
    void decodeImage(byte[] bytes, long block) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        if (block % 2 == 0) {
            Inode.decode(b, block, region.fsId());
        } else {
            BtreeNode.decodeBlock(b, block, 42, region.fsId());
        }
    }

    /** A block of file data: not metadata, just bytes written in place. */
    static byte[] data(long block, long version) {
        byte[] d = new byte[BLOCK_SIZE];
        long x = block * 0x9E3779B97F4A7C15L + version;
        for (int i = 0; i < d.length; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            d[i] = (byte) x;
        }
        return d;
    }

    static byte[] read(BlockDevice device, long block) {
        ByteBuffer b = ByteBuffer.allocate(BLOCK_SIZE);
        device.read(block * BLOCK_SIZE, b);
        return b.array();
    }

    static void write(BlockDevice device, long block, byte[] bytes) {
        device.write(block * BLOCK_SIZE, ByteBuffer.wrap(bytes));
    }

    /** The whole data area as it is on {@code device}, by block number. */
    Map<Long, byte[]> inPlace(BlockDevice device) {
        Map<Long, byte[]> all = new LinkedHashMap<>();
        for (long b : dataBlockNumbers()) {
            all.put(b, read(device, b));
        }
        return all;
    }

    /** A data area of all-zero blocks: a freshly made sparse image. */
    Map<Long, byte[]> zeros() {
        Map<Long, byte[]> all = new LinkedHashMap<>();
        for (long b : dataBlockNumbers()) {
            all.put(b, new byte[BLOCK_SIZE]);
        }
        return all;
    }

    static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.capacity()];
        b.duplicate().clear().get(out);
        return out;
    }

    static LoggedTransaction tx(Map<Long, ByteBuffer> images) {
        return new LoggedTransaction(images, Set.of(), false);
    }

    static LoggedTransaction tx(Map<Long, ByteBuffer> images, Set<Long> revokes) {
        return new LoggedTransaction(images, revokes, false);
    }

    /** The first block whose bytes differ between two data-area snapshots, or null when equal. */
    static Long firstDifference(Map<Long, byte[]> expected, Map<Long, byte[]> actual) {
        for (var e : expected.entrySet()) {
            if (!Arrays.equals(e.getValue(), actual.get(e.getKey()))) {
                return e.getKey();
            }
        }
        return null;
    }

    static boolean sameBytes(Map<Long, byte[]> a, Map<Long, byte[]> b) {
        return a.keySet().equals(b.keySet()) && firstDifference(a, b) == null;
    }
}
