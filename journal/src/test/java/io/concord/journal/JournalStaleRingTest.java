package io.concord.journal;

import static io.concord.journal.JournalDisk.BLOCK_SIZE;
import static io.concord.journal.JournalDisk.bytes;
import static io.concord.journal.JournalDisk.read;
import static io.concord.journal.JournalDisk.tx;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.concord.device.BlockDevice;
import io.concord.device.FileBlockDevice;
import io.concord.format.BlockHeader;
import io.concord.format.BlockType;
import io.concord.format.LogBlockList;
import io.concord.format.LogCommit;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What else may lie in the ring: the log of an earlier filesystem on the same device, random
 * bytes, blocks of another journal slot, misplaced or damaged blocks. Replay must use only this
 * journal's sound committed transactions.
 */
class JournalStaleRingTest {
    private static final long OLD_FS_ID = 0x0DDF_5EEDL;

    @TempDir
    Path dir;

    @Test
    @Timeout(60)
    void logOfAnEarlierFilesystemIsNeverReplayed() {
        JournalDisk old = JournalDisk.create(dir.resolve("d.img"), 64, 16, OLD_FS_ID);
        JournalDisk fresh = old.withFsId(JournalDisk.FS_ID);
        Map<Long, byte[]> expected;
        try (FileBlockDevice device = old.open()) {
            Journal earlier = old.formatAndOpen(device);
            RandomWorkload work = new RandomWorkload(old, 9, 5, false);
            for (int i = 0; i < 150; i++) {
                LoggedTransaction tx = work.next();
                earlier.commit(tx);
                work.committed(tx, device);
            }
            // The earlier filesystem stops without a checkpoint: its ring is full of commits with
            // sequence numbers far above any the new one will reach here.
            assertTrue(new JournalReplayer(device, old.region).replay(false).blocksWritten() > 0);
            expected = old.inPlace(device);

            Journal.format(device, fresh.region);
            device.flush();
            Journal journal = Journal.open(device, fresh.region, JournalDisk.CLOCK);
            assertEquals(0, journal.replayAtOpen().blocksWritten(), journal.replayAtOpen().toString());
            assertNull(JournalDisk.firstDifference(expected, fresh.inPlace(device)), "open after mkfs replayed the earlier filesystem's log");
            long a = fresh.dataBlock(0);
            long b = fresh.dataBlock(1);
            journal.commit(tx(Map.of(a, fresh.image(a, 1))));
            journal.commit(tx(Map.of(b, fresh.image(b, 2))));
            expected.put(a, bytes(fresh.image(a, 1)));
            expected.put(b, bytes(fresh.image(b, 2)));
        }
        try (FileBlockDevice device = fresh.open()) {
            ReplayResult r = new JournalReplayer(device, fresh.region).replay(true);
            assertEquals(2, r.blocksWritten(), r.toString());
            assertNull(JournalDisk.firstDifference(expected, fresh.inPlace(device)), "block " + JournalDisk.firstDifference(expected, fresh.inPlace(device)));
        }
    }

    @Test
    @Timeout(60)
    void randomBytesInTheRingAreIgnoredAtMountAndAtReplay() {
        JournalDisk disk = JournalDisk.create(dir.resolve("d.img"), 64, 16);
        SplittableRandom random = new SplittableRandom(5);
        RandomWorkload work = new RandomWorkload(disk, 5, 3);
        try (FileBlockDevice device = disk.open()) {
            Journal.format(device, disk.region);
            fillWithGarbage(device, disk, 1, disk.region.ringSize(), random);
            device.flush();
            Journal journal = Journal.open(device, disk.region, JournalDisk.CLOCK);
            assertEquals(0, journal.replayAtOpen().blocksWritten(), journal.replayAtOpen().toString());
            assertNull(JournalDisk.firstDifference(disk.zeros(), disk.inPlace(device)));
            for (int i = 0; i < 6; i++) {
                LoggedTransaction tx = work.next();
                journal.commit(tx);
                work.committed(tx, device);
            }
            assertEquals(0, journal.checkpoints());
            // Everything past the head is free ring: fill it with garbage again.
            int head = new JournalReplayer(device, disk.region).replay(false).headIndex();
            assertTrue(head > 6, "head " + head);
            fillWithGarbage(device, disk, head, disk.region.ringSize(), random);
        }
        try (FileBlockDevice device = disk.open()) {
            new JournalReplayer(device, disk.region).replay(true);
            assertNull(JournalDisk.firstDifference(work.expected(), disk.inPlace(device)));
        }
    }

    /** Random blocks, half of them opening with the metadata magic (so only their checksum rejects them). */
    private static void fillWithGarbage(BlockDevice device, JournalDisk disk, int fromIndex, int toIndex, SplittableRandom random) {
        for (int i = fromIndex; i < toIndex; i++) {
            byte[] junk = new byte[BLOCK_SIZE];
            random.nextBytes(junk);
            if (i % 2 == 0) {
                ByteBuffer.wrap(junk).putInt(0, BlockHeader.MAGIC).putShort(4, (short) BlockType.LOG_COMMIT.code());
            }
            JournalDisk.write(device, disk.region.ringBlock(i), junk);
        }
    }

    @Test
    @Timeout(30)
    void commitBlockOfAnotherJournalSlotIsIgnored() {
        JournalDisk disk = JournalDisk.create(dir.resolve("d.img"), 64, 16);
        long b = disk.dataBlock(0);
        try (FileBlockDevice device = disk.open()) {
            Journal journal = disk.formatAndOpen(device);
            journal.commit(tx(Map.of(b, disk.image(b, 1))));
            int free = new JournalReplayer(device, disk.region).replay(false).headIndex() + 2;
            // A newer, self-consistent empty commit that would make the log look empty, were it ours.
            writeCommit(device, disk, free, disk.region.ringBlock(free), disk.region.journalId() + 1, 1_000_000);
        }
        try (FileBlockDevice device = disk.open()) {
            ReplayResult r = new JournalReplayer(device, disk.region).replay(true);
            assertEquals(1, r.blocksWritten(), r.toString());
            assertArrayEquals(bytes(disk.image(b, 1)), read(device, b));
        }
    }

    @Test
    @Timeout(30)
    void commitBlockWrittenToTheWrongRingPositionIsIgnored() {
        JournalDisk disk = JournalDisk.create(dir.resolve("d.img"), 64, 16);
        long b = disk.dataBlock(0);
        try (FileBlockDevice device = disk.open()) {
            Journal journal = disk.formatAndOpen(device);
            journal.commit(tx(Map.of(b, disk.image(b, 1))));
            int free = new JournalReplayer(device, disk.region).replay(false).headIndex() + 2;
            // Sealed for the next ring block, but it landed here (a misdirected write).
            writeCommit(device, disk, free, disk.region.ringBlock(free + 1), disk.region.journalId(), 1_000_000);
        }
        try (FileBlockDevice device = disk.open()) {
            ReplayResult r = new JournalReplayer(device, disk.region).replay(true);
            assertEquals(1, r.blocksWritten(), r.toString());
            assertArrayEquals(bytes(disk.image(b, 1)), read(device, b));
        }
    }

    /** An empty commit (tail marker) at ring {@code index}, sealed as block {@code sealedAs} of journal {@code journalId}. */
    private static void writeCommit(BlockDevice device, JournalDisk disk, int index, long sealedAs, int journalId, long sequence) {
        ByteBuffer block = ByteBuffer.allocate(BLOCK_SIZE);
        new LogCommit(sequence, index, 0, 0, sequence, index, 0).encode(block, sealedAs, journalId, disk.region.fsId());
        device.write(disk.region.ringBlock(index) * BLOCK_SIZE, block.clear());
    }

    @Test
    @Timeout(30)
    void damagedImageInTheLogStopsReplayBeforeItsTransaction() {
        JournalDisk disk = JournalDisk.create(dir.resolve("d.img"), 64, 16);
        long a = disk.dataBlock(0);
        long b = disk.dataBlock(1);
        long c = disk.dataBlock(2);
        try (FileBlockDevice device = disk.open()) {
            Journal journal = disk.formatAndOpen(device);
            journal.commit(tx(Map.of(a, disk.image(a, 1))));
            journal.commit(tx(Map.of(b, disk.image(b, 2))));
            journal.commit(tx(Map.of(c, disk.image(c, 3))));
            // After format the log runs: marker 0, txn 1 at 1..3, txn 2 at 4..6 (its image at 5).
            long imageOfB = disk.region.ringBlock(5);
            assertArrayEquals(bytes(disk.image(b, 2)), read(device, imageOfB), "layout as expected");
            byte[] damaged = read(device, imageOfB);
            damaged[BLOCK_SIZE - 1] ^= 1;
            JournalDisk.write(device, imageOfB, damaged);
        }
        try (FileBlockDevice device = disk.open()) {
            ReplayResult r = new JournalReplayer(device, disk.region).replay(true);
            assertArrayEquals(bytes(disk.image(a, 1)), read(device, a), "the sound transaction before the damage is redone");
            assertArrayEquals(new byte[BLOCK_SIZE], read(device, b), "the damaged image is never written");
            assertArrayEquals(new byte[BLOCK_SIZE], read(device, c), "nothing after the damage is trusted");
            assertEquals(1, r.blocksWritten(), r.toString());
        }
    }

    /**
     * Transaction 12's writes never reached the disk (a lying cache), and its ring slots still hold a
     * transaction of the same shape from an earlier lap: sound, checksummed, but sequence 3. The
     * walk must stop there rather than take it for 12, and so must not trust transaction 13 either.
     */
    @Test
    @Timeout(30)
    void transactionOfAnEarlierLapWhereALostOneShouldBeStopsTheWalk() {
        JournalDisk disk = JournalDisk.create(dir.resolve("d.img"), 64, 16);
        long x = disk.dataBlock(0);
        long y = disk.dataBlock(1);
        try (FileBlockDevice device = disk.open()) {
            Journal.format(device, disk.region);
            LogWriter log = new LogWriter(device, disk.region);
            int at = log.marker(0, 10);
            at = log.transaction(at, 11, Map.of(x, disk.image(x, 11)), 10, 0);
            at = log.transaction(at, 3, Map.of(x, disk.image(x, 3)), 1, 40);
            log.transaction(at, 13, Map.of(y, disk.image(y, 13)), 10, 0);
        }
        try (FileBlockDevice device = disk.open()) {
            ReplayResult r = new JournalReplayer(device, disk.region).replay(true);
            assertArrayEquals(bytes(disk.image(x, 11)), read(device, x), "an earlier lap's image of X was replayed");
            assertArrayEquals(new byte[BLOCK_SIZE], read(device, y), "nothing after the gap is trusted");
            assertEquals(1, r.blocksWritten(), r.toString());
        }
    }

    /**
     * A sound descriptor (checksummed, this journal's) whose list is one short of the ring brings the
     * walk back to the very same block. The walk has a guard against transactions that run around the
     * ring; replay must stop, not spin.
     */
    @Test
    @Timeout(30)
    void descriptorWhoseListRunsAroundTheRingStopsTheWalk() throws Exception {
        JournalDisk disk = JournalDisk.create(dir.resolve("d.img"), 16, 16);
        int ring = disk.region.ringSize();
        AtomicReference<Thread> worker = new AtomicReference<>();
        try (FileBlockDevice device = disk.open()) {
            Journal.format(device, disk.region);
            long[] targets = new long[ring - 1];
            Arrays.fill(targets, disk.dataBlock(0));
            ByteBuffer descriptor = ByteBuffer.allocate(BLOCK_SIZE);
            new LogBlockList(BlockType.LOG_DESCRIPTOR, 10, targets).encode(descriptor, disk.region.ringBlock(2), disk.region.journalId(), disk.region.fsId());
            device.write(disk.region.ringBlock(2) * BLOCK_SIZE, descriptor.clear());
            ByteBuffer commit = ByteBuffer.allocate(BLOCK_SIZE);
            new LogCommit(11, 0, 0, 0, 10, 2, 0).encode(commit, disk.region.ringBlock(0), disk.region.journalId(), disk.region.fsId());
            device.write(disk.region.ringBlock(0) * BLOCK_SIZE, commit.clear());

            CompletableFuture<ReplayResult> replay = CompletableFuture.supplyAsync(() -> {
                worker.set(Thread.currentThread());
                return new JournalReplayer(device, disk.region).replay(false);
            });
            try {
                ReplayResult r = replay.get(5, TimeUnit.SECONDS);
                assertEquals(0, r.blocksWritten(), r.toString());
            } catch (TimeoutException e) {
                worker.get().interrupt(); // closes the channel under the spinning walk, which ends it
                fail("replay is still walking the same descriptor round the ring after 5 s");
            }
        }
    }
}
