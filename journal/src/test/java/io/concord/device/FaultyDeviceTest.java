package io.concord.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.errors.DeviceException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The volatile write cache that crash tests stand on: it must lose exactly what a real one may. */
class FaultyDeviceTest {
    private static final int SECTOR = FaultyDevice.SECTOR;
    private static final int SECTORS = 64;

    @TempDir
    Path dir;
    private FileBlockDevice durable;

    @BeforeEach
    void createImage() throws IOException {
        Path image = dir.resolve("faulty.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(SECTORS * SECTOR * 4L);
        }
        durable = FileBlockDevice.open(image, false, false);
    }

    @AfterEach
    void closeImage() {
        durable.close();
    }

    private static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    private static byte[] read(BlockDevice device, long offset, int length) {
        ByteBuffer b = ByteBuffer.allocate(length);
        device.read(offset, b);
        assertFalse(b.hasRemaining(), "read fills the buffer");
        return b.array();
    }

    @Test
    @Timeout(10)
    void readsSeeUnflushedWritesThatTheDurableDeviceDoesNotHoldYet() {
        FaultyDevice faulty = new FaultyDevice(durable, new SplittableRandom(1));
        byte[] data = pattern(4 * SECTOR, 1);
        faulty.write(SECTOR, ByteBuffer.wrap(data));
        assertArrayEquals(data, read(faulty, SECTOR, data.length));
        assertArrayEquals(new byte[data.length], read(durable, SECTOR, data.length));
    }

    @Test
    @Timeout(10)
    void readsOfRangesThatStraddleCachedSectorsMixCacheAndDurableBytes() {
        FaultyDevice faulty = new FaultyDevice(durable, new SplittableRandom(1));
        byte[] below = pattern(SECTOR, 2);
        durable.write(0, ByteBuffer.wrap(below));
        byte[] cached = pattern(SECTOR, 3);
        faulty.write(SECTOR, ByteBuffer.wrap(cached));
        byte[] seen = read(faulty, 400, 300);
        byte[] want = new byte[300];
        System.arraycopy(below, 400, want, 0, 112);
        System.arraycopy(cached, 0, want, 112, 188);
        assertArrayEquals(want, seen);
    }

    @Test
    @Timeout(10)
    void readIntoABufferWithAPositionFillsFromThatPosition() {
        FaultyDevice faulty = new FaultyDevice(durable, new SplittableRandom(1));
        byte[] cached = pattern(SECTOR, 4);
        faulty.write(0, ByteBuffer.wrap(cached));
        ByteBuffer dst = ByteBuffer.allocate(SECTOR + 16).position(16);
        faulty.read(0, dst);
        assertEquals(SECTOR + 16, dst.position());
        assertArrayEquals(cached, Arrays.copyOfRange(dst.array(), 16, 16 + SECTOR));
    }

    @Test
    @Timeout(10)
    void flushMakesEveryEarlierWriteDurable() {
        FaultyDevice faulty = new FaultyDevice(durable, new SplittableRandom(1));
        byte[] data = pattern(8 * SECTOR, 5);
        faulty.write(0, ByteBuffer.wrap(data));
        faulty.flush();
        faulty.losePower();
        assertArrayEquals(data, read(durable, 0, data.length));
    }

    @Test
    @Timeout(10)
    void powerLossPersistsSomeButNotAllUnflushedSectorsEachWholeOrNotAtAll() {
        FaultyDevice faulty = new FaultyDevice(durable, new SplittableRandom(7));
        byte[] data = pattern(SECTORS * SECTOR, 6);
        for (int s = 0; s < SECTORS; s += 8) {
            faulty.write((long) s * SECTOR, ByteBuffer.wrap(data, s * SECTOR, 8 * SECTOR));
        }
        faulty.losePower();
        assertTrue(faulty.powerLost());
        byte[] after = read(durable, 0, data.length);
        int persisted = 0;
        for (int s = 0; s < SECTORS; s++) {
            byte[] sector = Arrays.copyOfRange(after, s * SECTOR, (s + 1) * SECTOR);
            if (Arrays.equals(sector, Arrays.copyOfRange(data, s * SECTOR, (s + 1) * SECTOR))) {
                persisted++;
            } else {
                assertArrayEquals(new byte[SECTOR], sector, "sector " + s + " is neither the old nor the new content");
            }
        }
        assertTrue(persisted > 0 && persisted < SECTORS, persisted + " of " + SECTORS + " sectors persisted");
    }

    @Test
    @Timeout(10)
    void theSameSeedLosesTheSameSectors() {
        byte[][] outcomes = new byte[2][];
        for (int run = 0; run < 2; run++) {
            durable.write(0, ByteBuffer.allocate(SECTORS * SECTOR));
            FaultyDevice faulty = new FaultyDevice(durable, new SplittableRandom(11));
            faulty.write(0, ByteBuffer.wrap(pattern(SECTORS * SECTOR, 8)));
            faulty.losePower();
            outcomes[run] = read(durable, 0, SECTORS * SECTOR);
        }
        assertArrayEquals(outcomes[0], outcomes[1]);
    }

    @Test
    @Timeout(10)
    void everyOperationFailsAfterPowerLossButCloseDoesNot() {
        FaultyDevice faulty = new FaultyDevice(durable, new SplittableRandom(1));
        faulty.losePower();
        assertThrows(DeviceException.class, () -> faulty.read(0, ByteBuffer.allocate(SECTOR)));
        assertThrows(DeviceException.class, () -> faulty.write(0, ByteBuffer.allocate(SECTOR)));
        assertThrows(DeviceException.class, faulty::flush);
        assertDoesNotThrow(faulty::close);
    }

    @Test
    @Timeout(10)
    void powerLossAtTheNthWriteFailsThatWriteAndKeepsAtMostWhatWasWritten() {
        FaultyDevice faulty = new FaultyDevice(durable, new SplittableRandom(3));
        faulty.losePowerAtWrite(3);
        byte[] data = pattern(3 * 8 * SECTOR, 9);
        faulty.write(0, ByteBuffer.wrap(data, 0, 8 * SECTOR));
        faulty.write(8 * SECTOR, ByteBuffer.wrap(data, 8 * SECTOR, 8 * SECTOR));
        assertFalse(faulty.powerLost());
        DeviceException e = assertThrows(DeviceException.class, () -> faulty.write(16 * SECTOR, ByteBuffer.wrap(data, 16 * SECTOR, 8 * SECTOR)));
        assertTrue(e.getMessage().contains("power lost"), e.getMessage());
        assertTrue(faulty.powerLost());
        assertEquals(3, faulty.writes());
        assertThrows(DeviceException.class, () -> faulty.read(0, ByteBuffer.allocate(SECTOR)));
        byte[] after = read(durable, 0, data.length);
        for (int s = 0; s < 24; s++) {
            byte[] sector = Arrays.copyOfRange(after, s * SECTOR, (s + 1) * SECTOR);
            assertTrue(Arrays.equals(sector, Arrays.copyOfRange(data, s * SECTOR, (s + 1) * SECTOR)) || Arrays.equals(sector, new byte[SECTOR]),
                    "sector " + s);
        }
    }

    @Test
    @Timeout(10)
    void writesFromTheNthOnFailWithoutReachingTheCacheWhileTheDeviceStaysUp() {
        FaultyDevice faulty = new FaultyDevice(durable, new SplittableRandom(1));
        faulty.failWritesFrom(2);
        byte[] first = pattern(SECTOR, 10);
        faulty.write(0, ByteBuffer.wrap(first));
        assertThrows(DeviceException.class, () -> faulty.write(SECTOR, ByteBuffer.wrap(pattern(SECTOR, 11))));
        assertThrows(DeviceException.class, () -> faulty.write(2 * SECTOR, ByteBuffer.wrap(pattern(SECTOR, 12))));
        assertFalse(faulty.powerLost());
        assertArrayEquals(first, read(faulty, 0, SECTOR));
        assertArrayEquals(new byte[2 * SECTOR], read(faulty, SECTOR, 2 * SECTOR), "a failed write must leave nothing behind");
        faulty.flush();
        assertArrayEquals(first, read(durable, 0, SECTOR));
    }

    @Test
    @Timeout(10)
    void lyingFlushPersistsNothingUntilFlushesTellTheTruthAgain() {
        FaultyDevice faulty = new FaultyDevice(durable, new SplittableRandom(1));
        faulty.setFlushesLie(true);
        byte[] data = pattern(8 * SECTOR, 13);
        faulty.write(0, ByteBuffer.wrap(data));
        faulty.flush();
        assertArrayEquals(new byte[data.length], read(durable, 0, data.length));
        assertArrayEquals(data, read(faulty, 0, data.length));
        faulty.setFlushesLie(false);
        faulty.flush();
        assertArrayEquals(data, read(durable, 0, data.length));
    }

    @Test
    @Timeout(10)
    void unalignedWriteIsRefused() {
        FaultyDevice faulty = new FaultyDevice(durable, new SplittableRandom(1));
        assertThrows(DeviceException.class, () -> faulty.write(100, ByteBuffer.allocate(SECTOR)));
        assertThrows(DeviceException.class, () -> faulty.write(0, ByteBuffer.allocate(SECTOR + 1)));
        assertArrayEquals(new byte[SECTOR], read(faulty, 0, SECTOR));
    }

    @Test
    @Timeout(10)
    void laterWriteOfACachedSectorWins() {
        FaultyDevice faulty = new FaultyDevice(durable, new SplittableRandom(1));
        faulty.write(0, ByteBuffer.wrap(pattern(SECTOR, 14)));
        byte[] newer = pattern(SECTOR, 15);
        faulty.write(0, ByteBuffer.wrap(newer));
        assertArrayEquals(newer, read(faulty, 0, SECTOR));
        faulty.flush();
        assertArrayEquals(newer, read(durable, 0, SECTOR));
    }
}
