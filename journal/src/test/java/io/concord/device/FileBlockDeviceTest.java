package io.concord.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.errors.DeviceException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class FileBlockDeviceTest {
    private static final int BLOCK = 4096;
    private static final int BLOCKS = 16;

    @TempDir
    Path dir;

    private Path sparseImage(String name, long length) throws IOException {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(length);
        }
        return p;
    }

    private static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    @Test
    @Timeout(10)
    void sparseImageReadsAsZerosAndWritesReadBack() throws IOException {
        try (FileBlockDevice d = FileBlockDevice.open(sparseImage("a.img", BLOCKS * BLOCK), false, false)) {
            assertEquals((long) BLOCKS * BLOCK, d.size());
            ByteBuffer hole = ByteBuffer.allocate(BLOCK);
            d.read(5L * BLOCK, hole);
            assertArrayEquals(new byte[BLOCK], hole.array());
            byte[] data = pattern(2 * BLOCK, 1);
            d.write(7L * BLOCK, ByteBuffer.wrap(data));
            d.flush();
            ByteBuffer back = ByteBuffer.allocate(2 * BLOCK);
            d.read(7L * BLOCK, back);
            assertArrayEquals(data, back.array());
        }
    }

    @Test
    @Timeout(10)
    void directIoReadsAndWritesEverySizeTheFilesystemUses() throws IOException {
        // The superblock is read as 1,024 bytes; metadata and data in whole 4 KiB blocks, up to 1 MiB.
        try (FileBlockDevice d = FileBlockDevice.open(sparseImage("d.img", 512L * BLOCK), false, true)) {
            int[] sizes = {1024, BLOCK, 2 * BLOCK, 256 * BLOCK, 1024, BLOCK};
            long at = 0;
            for (int i = 0; i < sizes.length; i++) {
                byte[] data = pattern(sizes[i], 10 + i);
                d.write(at, ByteBuffer.wrap(data));
                ByteBuffer back = ByteBuffer.allocate(sizes[i]);
                d.read(at, back);
                assertArrayEquals(data, back.array(), sizes[i] + " bytes at " + at);
                at += Math.max(sizes[i], BLOCK);
            }
            d.flush();
        }
    }

    @Test
    @Timeout(10)
    void ioOutsideTheDeviceIsADeviceException() throws IOException {
        try (FileBlockDevice d = FileBlockDevice.open(sparseImage("a.img", BLOCKS * BLOCK), false, false)) {
            long size = d.size();
            DeviceException past = assertThrows(DeviceException.class, () -> d.read(size, ByteBuffer.allocate(BLOCK)));
            assertTrue(past.getMessage().contains("outside the device"), past.getMessage());
            assertThrows(DeviceException.class, () -> d.read(size - BLOCK / 2, ByteBuffer.allocate(BLOCK)), "a read straddling the end");
            assertThrows(DeviceException.class, () -> d.read(-BLOCK, ByteBuffer.allocate(BLOCK)));
            assertThrows(DeviceException.class, () -> d.write(size, ByteBuffer.allocate(BLOCK)));
            assertThrows(DeviceException.class, () -> d.write(-BLOCK, ByteBuffer.allocate(BLOCK)));
            assertEquals(size, d.size(), "a refused write must not grow the image");
        }
    }

    /** An offset so large that offset + length overflows a long is still outside the device. */
    @Test
    @Timeout(10)
    void ioWhoseEndOverflowsALongIsADeviceException() throws IOException {
        try (FileBlockDevice d = FileBlockDevice.open(sparseImage("a.img", BLOCKS * BLOCK), false, false)) {
            long offset = Long.MAX_VALUE - BLOCK / 2;
            assertThrows(DeviceException.class, () -> d.read(offset, ByteBuffer.allocate(BLOCK)));
            assertThrows(DeviceException.class, () -> d.write(offset, ByteBuffer.allocate(BLOCK)));
            assertEquals((long) BLOCKS * BLOCK, d.size());
        }
    }

    @Test
    @Timeout(10)
    void missingPathIsADeviceExceptionThatNamesIt() {
        Path missing = dir.resolve("no-such.img");
        DeviceException e = assertThrows(DeviceException.class, () -> FileBlockDevice.open(missing, false, false));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("no such device or file"), e.getMessage());
    }

    @Test
    @Timeout(10)
    void directoryIsNotADevice() {
        DeviceException e = assertThrows(DeviceException.class, () -> FileBlockDevice.open(dir, false, false));
        assertTrue(e.getMessage().contains("is a directory"), e.getMessage());
    }

    @Test
    @Timeout(10)
    void writeToAReadOnlyDeviceIsRefused() throws IOException {
        Path p = sparseImage("a.img", BLOCKS * BLOCK);
        try (FileBlockDevice d = FileBlockDevice.open(p, true, false)) {
            assertTrue(d.readOnly());
            DeviceException e = assertThrows(DeviceException.class, () -> d.write(0, ByteBuffer.allocate(BLOCK)));
            assertTrue(e.getMessage().contains("read-only"), e.getMessage());
            d.read(0, ByteBuffer.allocate(BLOCK));
        }
    }

    /** The image shrank under an open device (another tool truncated it): what is gone reads as zeros. */
    @Test
    @Timeout(10)
    void readingAShortImagePastItsEndYieldsZeros() throws IOException {
        Path p = sparseImage("a.img", BLOCKS * BLOCK);
        try (FileBlockDevice d = FileBlockDevice.open(p, false, false)) {
            byte[] data = pattern(2 * BLOCK, 2);
            d.write(3L * BLOCK, ByteBuffer.wrap(data));
            try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
                f.setLength(4L * BLOCK);
            }
            ByteBuffer straddling = ByteBuffer.allocate(2 * BLOCK);
            d.read(3L * BLOCK, straddling);
            byte[] want = new byte[2 * BLOCK];
            System.arraycopy(data, 0, want, 0, BLOCK);
            assertArrayEquals(want, straddling.array());
            ByteBuffer beyond = ByteBuffer.wrap(pattern(BLOCK, 3));
            d.read(10L * BLOCK, beyond);
            assertArrayEquals(new byte[BLOCK], beyond.array());
        }
    }

    @Test
    @Timeout(10)
    void nameIsThePath() throws IOException {
        Path p = sparseImage("a.img", BLOCKS * BLOCK);
        try (FileBlockDevice d = FileBlockDevice.open(p, false, false)) {
            assertEquals(p.toString(), d.name());
        }
    }
}
