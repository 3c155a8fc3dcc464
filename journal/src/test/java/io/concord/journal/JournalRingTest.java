package io.concord.journal;

import static io.concord.journal.JournalDisk.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.device.FileBlockDevice;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A small journal (64 blocks) driven round its ring many times, so that commits have to
 * checkpoint to make room and new transactions overwrite the blocks of old ones. The image file is
 * copied every few commits while the journal runs: each copy is what a crash at that moment would
 * leave, and replaying it must give every block its newest committed content.
 */
class JournalRingTest {
    private static final int JOURNAL_BLOCKS = 64;
    private static final int POOL = 24;
    private static final int TRANSACTIONS = 400;
    private static final int SNAPSHOT_EVERY = 7;

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    @Timeout(120)
    void crashAnywhereInAWorkloadThatWrapsTheRingReplaysTheNewestImageOfEveryBlock(long seed) throws Exception {
        JournalDisk disk = JournalDisk.create(dir.resolve("d.img"), JOURNAL_BLOCKS, POOL);
        RandomWorkload work = new RandomWorkload(disk, seed, 6);
        int ring = disk.region.ringSize();
        long logBlocks = 0;
        try (FileBlockDevice device = disk.open()) {
            Journal journal = disk.formatAndOpen(device);
            for (int i = 1; i <= TRANSACTIONS; i++) {
                LoggedTransaction tx = work.next();
                journal.commit(tx);
                logBlocks += 1 + tx.images().size() + 1 + (tx.revokes().isEmpty() ? 0 : 1);
                work.committed(tx, device);
                assertReadersSeeTheCommittedState(journal, device, work.expected(), i);
                if (i % SNAPSHOT_EVERY == 0) {
                    Path copy = dir.resolve("crash-" + i + ".img");
                    Files.copy(disk.path, copy);
                    assertReplayRestores(disk.at(copy), work.expected(), "seed " + seed + ", crash after commit " + i);
                    Files.delete(copy);
                }
            }
            assertTrue(journal.checkpoints() >= 5, "commits had to checkpoint to make room: " + journal.checkpoints());
            assertTrue(logBlocks > 3L * ring, "the workload wrapped the ring at least three times: " + logBlocks + " log blocks");
        }
        assertReplayRestores(disk, work.expected(), "seed " + seed + ", crash at the end");
    }

    /** What the filesystem reads: the committed image while it is in the log, else the block in place. */
    private static void assertReadersSeeTheCommittedState(Journal journal, FileBlockDevice device, Map<Long, byte[]> expected, int commit) {
        for (var e : expected.entrySet()) {
            ByteBuffer logged = journal.committedImage(e.getKey());
            byte[] seen = logged != null ? JournalDisk.bytes(logged) : read(device, e.getKey());
            assertArrayEquals(e.getValue(), seen, "block " + e.getKey() + " after commit " + commit);
        }
    }

    private static void assertReplayRestores(JournalDisk disk, Map<Long, byte[]> expected, String when) {
        try (FileBlockDevice device = disk.open()) {
            Journal.open(device, disk.region, JournalDisk.CLOCK);
            Map<Long, byte[]> actual = disk.inPlace(device);
            assertNull(JournalDisk.firstDifference(expected, actual), when + ": block " + JournalDisk.firstDifference(expected, actual)
                    + " is not its newest committed content");
        }
    }

    /** The largest transaction the journal accepts (one descriptor, 27 images, the commit: 29 blocks) still fits, lap after lap. */
    @ParameterizedTest
    @ValueSource(ints = {1, 5, 13, 27})
    @Timeout(60)
    void transactionsUpToTheSizeLimitKeepFittingTheRingLapAfterLap(int images) {
        JournalDisk disk = JournalDisk.create(dir.resolve("d.img"), JOURNAL_BLOCKS, 32);
        long version = 0;
        try (FileBlockDevice device = disk.open()) {
            Journal journal = disk.formatAndOpen(device);
            assertTrue(images + 2 <= journal.maxTransactionBlocks());
            for (int round = 0; round < 20; round++) {
                Map<Long, ByteBuffer> tx = new LinkedHashMap<>();
                for (int i = 0; i < images; i++) {
                    tx.put(disk.dataBlock(i), disk.image(disk.dataBlock(i), ++version));
                }
                journal.commit(JournalDisk.tx(tx));
            }
        }
        try (FileBlockDevice device = disk.open()) {
            new JournalReplayer(device, disk.region).replay(true);
            for (int i = 0; i < images; i++) {
                long b = disk.dataBlock(i);
                assertArrayEquals(JournalDisk.bytes(disk.image(b, version - images + 1 + i)), read(device, b), "block " + b);
            }
        }
    }
}
