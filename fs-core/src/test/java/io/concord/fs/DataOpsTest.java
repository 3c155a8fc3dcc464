package io.concord.fs;

import static io.concord.fs.OpsFixtures.BLOCK;
import static io.concord.fs.OpsFixtures.assertFails;
import static io.concord.fs.OpsFixtures.pattern;
import static io.concord.fs.OpsFixtures.read;
import static io.concord.fs.OpsFixtures.readAll;
import static io.concord.fs.OpsFixtures.slice;
import static io.concord.fs.OpsFixtures.write;
import static io.concord.fs.OpsFixtures.zeros;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.errors.FsException.Kind;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** File contents: read, write, truncate, fallocate and SEEK_DATA/SEEK_HOLE. */
@Timeout(120)
class DataOpsTest {
    private static final Caller ROOT = Caller.ROOT;
    private static final int KEEP_SIZE = 0x01;
    private static final int PUNCH_HOLE = 0x02;
    private static final int COLLAPSE_RANGE = 0x08;
    private static final int ZERO_RANGE = 0x10;

    @TempDir
    Path tmp;
    private OpsFixtures image;
    private ConcordFs fs;
    private long f;

    @BeforeEach
    void mount() throws Exception {
        image = OpsFixtures.mounted(tmp);
        fs = image.fs();
        f = fs.create(ROOT, fs.root(), "f", 0644).inode();
    }

    @AfterEach
    void unmount() {
        image.close();
    }

    // --- read and write

    @Test
    void writesAtOddOffsetsAndSizesAcrossBlockBoundariesReadBack() {
        byte[] model = new byte[0];
        long[][] writes = {{4093, 7}, {0, 1}, {12_000, 9_001}, {8191, 2}, {4096 * 7 - 3, 4096 * 3 + 5}, {1, 4095}};
        int seed = 10;
        for (long[] w : writes) {
            byte[] data = pattern((int) w[1], seed++);
            assertEquals(data.length, write(fs, f, w[0], data));
            int end = (int) (w[0] + w[1]);
            if (end > model.length) {
                model = java.util.Arrays.copyOf(model, end);
            }
            System.arraycopy(data, 0, model, (int) w[0], data.length);
        }
        assertEquals(model.length, fs.getattr(f).size());
        assertArrayEquals(model, readAll(fs, f));
        // Reads that start and end inside blocks.
        assertArrayEquals(slice(model, 4095, 4098), read(fs, f, 4095, 3));
        assertArrayEquals(slice(model, 13, 20_013), read(fs, f, 13, 20_000));
    }

    @Test
    void overwriteInTheMiddleChangesOnlyThatRange() {
        byte[] original = pattern(5 * BLOCK, 1);
        write(fs, f, 0, original);
        byte[] patch = pattern(3000, 2);
        write(fs, f, 2 * BLOCK - 1000, patch);
        byte[] expected = original.clone();
        System.arraycopy(patch, 0, expected, 2 * BLOCK - 1000, patch.length);
        assertEquals(5 * BLOCK, fs.getattr(f).size(), "an overwrite inside the file does not change its size");
        assertArrayEquals(expected, readAll(fs, f));
    }

    @Test
    void readPastEndOfFileReturnsNothingAndReadAtEndIsShort() {
        write(fs, f, 0, pattern(100, 3));
        assertEquals(0, fs.read(f, 100, ByteBuffer.allocate(10)));
        assertEquals(0, fs.read(f, 1_000_000, ByteBuffer.allocate(10)));
        assertEquals(40, fs.read(f, 60, ByteBuffer.allocate(100)));
    }

    @Test
    void readOfADirectoryIsIsDirectoryAndNegativeOffsetIsInvalid() {
        assertFails(Kind.IS_DIRECTORY, () -> fs.read(fs.root(), 0, ByteBuffer.allocate(10)));
        assertFails(Kind.IS_DIRECTORY, () -> write(fs, fs.root(), 0, new byte[1]));
        assertFails(Kind.INVALID_ARGUMENT, () -> fs.read(f, -1, ByteBuffer.allocate(10)));
        assertFails(Kind.INVALID_ARGUMENT, () -> write(fs, f, -1, new byte[1]));
    }

    @Test
    void sparseWritesFarApartReadZerosBetweenAndAllocateLittle() {
        long free = fs.statfs().freeBlocks();
        byte[] first = pattern(100, 4);
        byte[] second = pattern(5000, 5);
        long far = 100L << 20;
        write(fs, f, 10, first);
        write(fs, f, far + 7, second);
        assertEquals(far + 7 + 5000, fs.getattr(f).size());
        assertArrayEquals(first, read(fs, f, 10, 100));
        assertArrayEquals(second, read(fs, f, far + 7, 5000));
        assertArrayEquals(zeros(8192), read(fs, f, 50L << 20, 8192), "the hole reads as zeros");
        assertArrayEquals(zeros(BLOCK - 110), read(fs, f, 110, BLOCK - 110), "the rest of the first block is zeros");
        assertArrayEquals(zeros(7), read(fs, f, far, 7));
        assertTrue(free - fs.statfs().freeBlocks() < 16, "a 100 MiB sparse file takes a handful of blocks");
    }

    @Test
    void aFileLargerThanFourGibibytesWrittenSparselyReadsBack() {
        long at = (5L << 30) - 1234;
        byte[] data = pattern(3 * BLOCK, 6);
        write(fs, f, at, data);
        byte[] early = pattern(777, 7);
        write(fs, f, (4L << 30) + 5, early);
        assertEquals(at + data.length, fs.getattr(f).size());
        assertArrayEquals(data, read(fs, f, at, data.length));
        assertArrayEquals(early, read(fs, f, (4L << 30) + 5, early.length));
        assertArrayEquals(zeros(BLOCK), read(fs, f, 3L << 30, BLOCK));
        assertArrayEquals(zeros(BLOCK), read(fs, f, at - BLOCK, BLOCK));
        assertTrue(fs.getattr(f).blocks() < 64 * (BLOCK / 512), "only a few blocks are allocated");

        fs = image.remount();
        assertArrayEquals(data, read(fs, f, at, data.length));
        assertEquals(at + data.length, fs.getattr(f).size());
    }

    @Test
    void writeUpdatesSizeAndBlocks() {
        Attributes before = fs.getattr(f);
        write(fs, f, 0, pattern(3 * BLOCK, 8));
        Attributes after = fs.getattr(f);
        assertEquals(3 * BLOCK, after.size());
        assertEquals(before.blocks() + 3 * (BLOCK / 512), after.blocks());
    }

    // --- truncate

    @Test
    void truncateDownThenUpReadsZerosWhereTheDataWasCut() {
        byte[] data = pattern(4 * BLOCK, 9);
        write(fs, f, 0, data);
        fs.setattr(ROOT, f, SetAttr.size(5000));
        assertEquals(5000, fs.getattr(f).size());
        assertArrayEquals(slice(data, 0, 5000), readAll(fs, f));
        fs.setattr(ROOT, f, SetAttr.size(4 * BLOCK));
        byte[] back = readAll(fs, f);
        assertEquals(4 * BLOCK, back.length);
        assertArrayEquals(slice(data, 0, 5000), slice(back, 0, 5000));
        assertArrayEquals(zeros(4 * BLOCK - 5000), slice(back, 5000, 4 * BLOCK), "the cut part reads as zeros");
    }

    @Test
    void truncateFreesTheBlocksPastTheNewEnd() {
        write(fs, f, 0, pattern(64 * BLOCK, 10));
        long free = fs.statfs().freeBlocks();
        fs.setattr(ROOT, f, SetAttr.size(BLOCK + 1));
        assertEquals(free + 62, fs.statfs().freeBlocks());
        assertEquals(2 * (BLOCK / 512), fs.getattr(f).blocks() - (BLOCK / 512), "two data blocks left (blocks counts the inode too)");
        fs.setattr(ROOT, f, SetAttr.size(0));
        assertEquals(0, fs.getattr(f).size());
        assertEquals(0, readAll(fs, f).length);
    }

    @Test
    void truncateOfADirectoryIsIsDirectory() {
        long d = fs.mkdir(ROOT, fs.root(), "d", 0755).inode();
        assertFails(Kind.IS_DIRECTORY, () -> fs.setattr(ROOT, d, SetAttr.size(0)));
    }

    @Test
    void writeAfterTruncateUpFillsTheHoleOnlyWhereWritten() {
        fs.setattr(ROOT, f, SetAttr.size(10 * BLOCK));
        byte[] mid = pattern(100, 11);
        write(fs, f, 5 * BLOCK + 50, mid);
        byte[] all = readAll(fs, f);
        assertEquals(10 * BLOCK, all.length);
        byte[] expected = new byte[10 * BLOCK];
        System.arraycopy(mid, 0, expected, 5 * BLOCK + 50, 100);
        assertArrayEquals(expected, all);
    }

    // --- fallocate

    @Test
    void fallocateModeZeroExtendsTheSizeAndReadsZeros() {
        long free = fs.statfs().freeBlocks();
        fs.fallocate(ROOT, f, 0, 0, 10 * BLOCK + 100);
        Attributes a = fs.getattr(f);
        assertEquals(10 * BLOCK + 100, a.size());
        assertArrayEquals(zeros(10 * BLOCK + 100), readAll(fs, f));
        assertTrue(free - fs.statfs().freeBlocks() >= 11, "the range is allocated");
        assertTrue(a.blocks() >= 12 * (BLOCK / 512));
    }

    @Test
    void fallocateInsideTheFileKeepsItsData() {
        byte[] data = pattern(3 * BLOCK, 12);
        write(fs, f, 0, data);
        fs.fallocate(ROOT, f, 0, BLOCK, BLOCK);
        assertArrayEquals(data, readAll(fs, f));
        assertEquals(3 * BLOCK, fs.getattr(f).size());
    }

    @Test
    void fallocateKeepSizeAllocatesWithoutChangingTheSize() {
        write(fs, f, 0, pattern(1000, 13));
        long free = fs.statfs().freeBlocks();
        fs.fallocate(ROOT, f, KEEP_SIZE, 0, 20 * BLOCK);
        assertEquals(1000, fs.getattr(f).size());
        assertEquals(free - 19, fs.statfs().freeBlocks(), "19 blocks past the first are allocated");
        // Writing into the preallocated part later reads back, and the rest still reads zeros.
        byte[] later = pattern(100, 14);
        write(fs, f, 10 * BLOCK, later);
        assertEquals(free - 19, fs.statfs().freeBlocks(), "no new allocation for preallocated blocks");
        assertArrayEquals(later, read(fs, f, 10 * BLOCK, 100));
        assertArrayEquals(zeros(BLOCK), read(fs, f, 5 * BLOCK, BLOCK));
    }

    @Test
    void punchHoleZeroesAMiddleRangeAndFreesItsWholeBlocks() {
        byte[] data = pattern(16 * BLOCK, 15);
        write(fs, f, 0, data);
        long free = fs.statfs().freeBlocks();
        long from = 4 * BLOCK + 100;
        long to = 10 * BLOCK + 50;
        fs.fallocate(ROOT, f, PUNCH_HOLE | KEEP_SIZE, from, to - from);

        assertEquals(16 * BLOCK, fs.getattr(f).size());
        byte[] back = readAll(fs, f);
        byte[] expected = data.clone();
        java.util.Arrays.fill(expected, (int) from, (int) to, (byte) 0);
        assertArrayEquals(expected, back);
        assertEquals(free + 5, fs.statfs().freeBlocks(), "blocks 5..9 are wholly inside the hole");
    }

    @Test
    void punchHoleWithoutKeepSizeIsNotSupported() {
        write(fs, f, 0, pattern(4 * BLOCK, 16));
        assertFails(Kind.NOT_SUPPORTED, () -> fs.fallocate(ROOT, f, PUNCH_HOLE, 0, BLOCK));
    }

    @Test
    void zeroRangeZeroesTheRangeAndKeepsTheRest() {
        byte[] data = pattern(8 * BLOCK, 17);
        write(fs, f, 0, data);
        long from = BLOCK - 10;
        long to = 5 * BLOCK + 10;
        fs.fallocate(ROOT, f, ZERO_RANGE, from, to - from);
        byte[] expected = data.clone();
        java.util.Arrays.fill(expected, (int) from, (int) to, (byte) 0);
        assertArrayEquals(expected, readAll(fs, f));
        assertEquals(8 * BLOCK, fs.getattr(f).size());
        // Writing inside the zeroed range works as on any allocated range.
        byte[] patch = pattern(10, 18);
        write(fs, f, 2 * BLOCK + 3, patch);
        assertArrayEquals(patch, read(fs, f, 2 * BLOCK + 3, 10));
        assertArrayEquals(zeros(BLOCK), read(fs, f, 3 * BLOCK, BLOCK));
    }

    @Test
    void zeroRangePastTheEndGrowsTheFileUnlessKeepSize() {
        write(fs, f, 0, pattern(BLOCK, 19));
        fs.fallocate(ROOT, f, ZERO_RANGE | KEEP_SIZE, 2 * BLOCK, BLOCK);
        assertEquals(BLOCK, fs.getattr(f).size());
        fs.fallocate(ROOT, f, ZERO_RANGE, 2 * BLOCK, BLOCK);
        assertEquals(3 * BLOCK, fs.getattr(f).size());
        assertArrayEquals(zeros(2 * BLOCK), read(fs, f, BLOCK, 2 * BLOCK));
    }

    @Test
    void fallocateWithAnUnsupportedModeIsNotSupported() {
        write(fs, f, 0, pattern(4 * BLOCK, 20));
        assertFails(Kind.NOT_SUPPORTED, () -> fs.fallocate(ROOT, f, COLLAPSE_RANGE, 0, BLOCK));
        assertFails(Kind.NOT_SUPPORTED, () -> fs.fallocate(ROOT, f, 0x40, 0, BLOCK));
        assertEquals(4 * BLOCK, fs.getattr(f).size());
    }

    @Test
    void fallocateOfAnEmptyRangeIsInvalidArgument() {
        assertFails(Kind.INVALID_ARGUMENT, () -> fs.fallocate(ROOT, f, 0, 0, 0));
        assertFails(Kind.INVALID_ARGUMENT, () -> fs.fallocate(ROOT, f, 0, -1, 10));
    }

    // --- lseek

    @Test
    void seekDataAndSeekHoleFindDataHoleData() {
        write(fs, f, 0, pattern(2 * BLOCK, 21));
        long second = 1L << 20;
        write(fs, f, second, pattern(BLOCK, 22));
        long size = second + BLOCK;

        assertEquals(0, fs.lseek(f, 0, ConcordFs.SEEK_DATA));
        assertEquals(100, fs.lseek(f, 100, ConcordFs.SEEK_DATA));
        assertEquals(2 * BLOCK, fs.lseek(f, 0, ConcordFs.SEEK_HOLE));
        assertEquals(2 * BLOCK, fs.lseek(f, BLOCK + 5, ConcordFs.SEEK_HOLE));
        assertEquals(second, fs.lseek(f, 2 * BLOCK, ConcordFs.SEEK_DATA));
        assertEquals(second, fs.lseek(f, 3 * BLOCK + 1, ConcordFs.SEEK_DATA));
        assertEquals(3 * BLOCK + 1, fs.lseek(f, 3 * BLOCK + 1, ConcordFs.SEEK_HOLE), "inside a hole, SEEK_HOLE stays");
        assertEquals(size, fs.lseek(f, second, ConcordFs.SEEK_HOLE), "the end of the file is a hole");
        assertEquals(second + 10, fs.lseek(f, second + 10, ConcordFs.SEEK_DATA));
    }

    @Test
    void seekAtOrPastTheEndIsNoSuchOffset() {
        write(fs, f, 0, pattern(BLOCK, 23));
        assertFails(Kind.NO_SUCH_OFFSET, () -> fs.lseek(f, BLOCK, ConcordFs.SEEK_DATA));
        assertFails(Kind.NO_SUCH_OFFSET, () -> fs.lseek(f, BLOCK, ConcordFs.SEEK_HOLE));
        assertFails(Kind.NO_SUCH_OFFSET, () -> fs.lseek(f, 10 * BLOCK, ConcordFs.SEEK_DATA));
    }

    @Test
    void seekDataInATrailingHoleIsNoSuchOffset() {
        write(fs, f, 0, pattern(BLOCK, 24));
        fs.setattr(ROOT, f, SetAttr.size(8 * BLOCK));
        assertEquals(BLOCK, fs.lseek(f, 0, ConcordFs.SEEK_HOLE));
        assertFails(Kind.NO_SUCH_OFFSET, () -> fs.lseek(f, 2 * BLOCK, ConcordFs.SEEK_DATA));
    }

    @Test
    void seekTreatsPreallocatedAndPunchedRangesAsHoles() {
        write(fs, f, 0, pattern(6 * BLOCK, 25));
        fs.fallocate(ROOT, f, PUNCH_HOLE | KEEP_SIZE, 2 * BLOCK, 2 * BLOCK);
        assertEquals(2 * BLOCK, fs.lseek(f, 0, ConcordFs.SEEK_HOLE));
        assertEquals(4 * BLOCK, fs.lseek(f, 2 * BLOCK, ConcordFs.SEEK_DATA));
        fs.fallocate(ROOT, f, 0, 6 * BLOCK, 4 * BLOCK);
        assertEquals(6 * BLOCK, fs.lseek(f, 4 * BLOCK, ConcordFs.SEEK_HOLE), "unwritten blocks read as zeros: a hole");
    }

    @Test
    void seekWithAnotherWhenceIsInvalidArgument() {
        write(fs, f, 0, pattern(BLOCK, 26));
        assertFails(Kind.INVALID_ARGUMENT, () -> fs.lseek(f, 0, 0));
    }
}
