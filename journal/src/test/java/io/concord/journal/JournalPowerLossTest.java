package io.concord.journal;

import static io.concord.journal.JournalDisk.bytes;
import static io.concord.journal.JournalDisk.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.concord.device.FaultyDevice;
import io.concord.device.FileBlockDevice;
import io.concord.errors.DeviceException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Power loss, through a {@link FaultyDevice} over the image file: unflushed sectors persist at
 * random, so a write caught by the loss is torn anywhere. After each loss the journal is replayed
 * from the durable file alone, as the next mount would.
 */
class JournalPowerLossTest {
    private static final int JOURNAL_BLOCKS = 64;
    private static final int POOL = 16;
    private static final long WORKLOAD_SEED = 20250101;
    private static final int CRASH_SEEDS = Integer.getInteger("concord.crash.seeds", 200);

    @TempDir
    Path dir;

    /** Which commit of the fixed workload the power loss tears. */
    enum TornCommit {
        /** Its log is one device write. */
        PLAIN,
        /** Its log runs off the end of the ring: two writes. */
        WRAPPING,
        /** It must first checkpoint: writes in place, a tail marker, then its log. */
        CHECKPOINTING
    }

    private record Profile(int index, long writes) {
    }

    @ParameterizedTest
    @EnumSource(TornCommit.class)
    @Timeout(600)
    void powerLostAtEachWriteOfTheLastCommitLeavesThePreviousStateOrAllOfTheLastTransaction(TornCommit kind) throws Exception {
        Profile p = profile(kind);
        int seeds = Math.max(3, CRASH_SEEDS / 20);
        for (int seed = 0; seed < seeds; seed++) {
            for (long n = 1; n <= p.writes() + 1; n++) {
                String what = kind + " commit " + p.index() + ", power lost at its write " + n + " of " + p.writes() + ", seed " + seed;
                JournalDisk disk = JournalDisk.create(dir.resolve("t.img"), JOURNAL_BLOCKS, POOL);
                try (FileBlockDevice durable = disk.open()) {
                    FaultyDevice faulty = new FaultyDevice(durable, new SplittableRandom(seed * 7919L + n));
                    Journal journal = disk.formatAndOpen(faulty);
                    RandomWorkload work = new RandomWorkload(disk, WORKLOAD_SEED, 4);
                    for (int i = 0; i < p.index(); i++) {
                        LoggedTransaction tx = work.next();
                        journal.commit(tx);
                        work.committed(tx, durable);
                    }
                    LoggedTransaction last = work.next();
                    faulty.losePowerAtWrite(n);
                    if (n <= p.writes()) {
                        assertThrows(DeviceException.class, () -> journal.commit(last), what);
                    } else {
                        journal.commit(last);
                        faulty.losePower();
                    }
                    Journal.open(durable, disk.region, JournalDisk.CLOCK);
                    Map<Long, byte[]> actual = disk.inPlace(durable);
                    boolean none = JournalDisk.sameBytes(work.expected(), actual);
                    boolean all = sameOutside(work.expectedWith(last), actual, last.revokes());
                    if (n > p.writes()) {
                        assertTrue(all, what + ": a commit that returned was lost");
                    } else {
                        assertTrue(none || all, what + ": replay left neither the previous state nor all of the last transaction"
                                + " (first difference from the previous state at block " + JournalDisk.firstDifference(work.expected(), actual) + ")");
                    }
                }
                Files.delete(disk.path);
            }
        }
    }

    /** Runs the fixed workload on a device that never fails and finds the commit that {@code kind} names. */
    private Profile profile(TornCommit kind) throws Exception {
        JournalDisk disk = JournalDisk.create(dir.resolve("dry.img"), JOURNAL_BLOCKS, POOL);
        try (FileBlockDevice durable = disk.open()) {
            FaultyDevice faulty = new FaultyDevice(durable, new SplittableRandom(0));
            Journal journal = disk.formatAndOpen(faulty);
            RandomWorkload work = new RandomWorkload(disk, WORKLOAD_SEED, 4);
            for (int i = 0; i < 100; i++) {
                LoggedTransaction tx = work.next();
                long writes = faulty.writes();
                long checkpoints = journal.checkpoints();
                journal.commit(tx);
                work.committed(tx, durable);
                long w = faulty.writes() - writes;
                boolean checkpointed = journal.checkpoints() > checkpoints;
                boolean match = switch (kind) {
                    case PLAIN -> !checkpointed && w == 1;
                    case WRAPPING -> !checkpointed && w == 2;
                    case CHECKPOINTING -> checkpointed && w > 3;
                };
                if (i >= 3 && match) {
                    return new Profile(i, w);
                }
            }
        } finally {
            Files.delete(disk.path);
        }
        return fail("the workload has no " + kind + " commit");
    }

    @Test
    @Timeout(600)
    void powerLostAtARandomWriteKeepsEveryCommitThatReturnedAndTheInterruptedOneWholeOrNotAtAll() throws Exception {
        int torn = 0;
        for (int seed = 0; seed < CRASH_SEEDS; seed++) {
            SplittableRandom random = new SplittableRandom(seed);
            JournalDisk disk = JournalDisk.create(dir.resolve("r.img"), JOURNAL_BLOCKS, POOL);
            try (FileBlockDevice durable = disk.open()) {
                FaultyDevice faulty = new FaultyDevice(durable, random.split());
                Journal journal = disk.formatAndOpen(faulty);
                RandomWorkload work = new RandomWorkload(disk, random.nextLong(), 5);
                long at = 1 + random.nextInt(250);
                faulty.losePowerAtWrite(at);
                LoggedTransaction interrupted = null;
                for (int i = 0; i < 150 && interrupted == null; i++) {
                    LoggedTransaction tx = work.next();
                    try {
                        journal.commit(tx);
                        work.committed(tx, durable);
                    } catch (DeviceException e) {
                        interrupted = tx;
                    }
                }
                if (interrupted == null) {
                    faulty.losePower();
                }
                ReplayResult first = new JournalReplayer(durable, disk.region).replay(true);
                Map<Long, byte[]> actual = disk.inPlace(durable);
                String what = "seed " + seed + ", power lost at write " + at;
                if (interrupted == null) {
                    assertNull(JournalDisk.firstDifference(work.expected(), actual), what + ": lost a committed block");
                } else {
                    torn++;
                    boolean none = JournalDisk.sameBytes(work.expected(), actual);
                    boolean all = sameOutside(work.expectedWith(interrupted), actual, interrupted.revokes());
                    assertTrue(none || all, what + ": first difference from the committed state at block "
                            + JournalDisk.firstDifference(work.expected(), actual));
                }
                ReplayResult second = new JournalReplayer(durable, disk.region).replay(true);
                assertEquals(first, second, what);
                assertTrue(JournalDisk.sameBytes(actual, disk.inPlace(durable)), what + ": a second replay changed the data area");
            }
            Files.delete(disk.path);
        }
        assertTrue(torn >= CRASH_SEEDS / 2, "most runs should lose power inside a commit: " + torn + " of " + CRASH_SEEDS);
    }

    @Test
    @Timeout(120)
    void powerLostAfterCommitsReturnedLosesNoneOfThem() throws Exception {
        for (int seed = 0; seed < 10; seed++) {
            JournalDisk disk = JournalDisk.create(dir.resolve("p.img"), JOURNAL_BLOCKS, POOL);
            try (FileBlockDevice durable = disk.open()) {
                FaultyDevice faulty = new FaultyDevice(durable, new SplittableRandom(seed));
                Journal journal = disk.formatAndOpen(faulty);
                RandomWorkload work = new RandomWorkload(disk, seed, 5);
                for (int i = 0; i < 100; i++) {
                    LoggedTransaction tx = work.next();
                    journal.commit(tx);
                    work.committed(tx, durable);
                }
                assertTrue(journal.checkpoints() > 0);
                faulty.losePower();
                Journal.open(durable, disk.region, JournalDisk.CLOCK);
                assertNull(JournalDisk.firstDifference(work.expected(), disk.inPlace(durable)), "seed " + seed);
            }
            Files.delete(disk.path);
        }
    }

    /**
     * With a write cache that lies about flushes nothing is promised about what survives, but the
     * log still never yields a mix: replay leaves the state after some prefix of the commits.
     */
    @Test
    @Timeout(120)
    void lyingFlushesLoseOnlyASuffixOfTheCommits() throws Exception {
        int commits = 20;
        int lossy = 0;
        for (int seed = 0; seed < 20; seed++) {
            JournalDisk disk = JournalDisk.create(dir.resolve("l.img"), 256, POOL);
            try (FileBlockDevice durable = disk.open()) {
                FaultyDevice faulty = new FaultyDevice(durable, new SplittableRandom(seed));
                Journal journal = disk.formatAndOpen(faulty);
                faulty.setFlushesLie(true);
                RandomWorkload work = new RandomWorkload(disk, seed, 4, false);
                List<Map<Long, byte[]>> states = new ArrayList<>(List.of(work.expected()));
                for (int i = 0; i < commits; i++) {
                    LoggedTransaction tx = work.next();
                    journal.commit(tx);
                    work.committed(tx, durable);
                    states.add(work.expected());
                }
                assertEquals(0, journal.checkpoints(), "this test wants the whole history in the log");
                faulty.losePower();
                Journal.open(durable, disk.region, JournalDisk.CLOCK);
                Map<Long, byte[]> actual = disk.inPlace(durable);
                int prefix = -1;
                for (int k = commits; k >= 0 && prefix < 0; k--) {
                    if (JournalDisk.sameBytes(states.get(k), actual)) {
                        prefix = k;
                    }
                }
                assertTrue(prefix >= 0, "seed " + seed + ": replay left a state that no prefix of the commits produces");
                lossy += prefix < commits ? 1 : 0;
            }
            Files.delete(disk.path);
        }
        assertTrue(lossy > 0, "lying flushes never lost a commit: the fault was not injected");
    }

    @Test
    @Timeout(60)
    void oneTruthfulFlushMakesTheCommitsBeforeItDurableToo() throws Exception {
        for (int seed = 0; seed < 10; seed++) {
            JournalDisk disk = JournalDisk.create(dir.resolve("f.img"), 256, POOL);
            try (FileBlockDevice durable = disk.open()) {
                FaultyDevice faulty = new FaultyDevice(durable, new SplittableRandom(seed));
                Journal journal = disk.formatAndOpen(faulty);
                RandomWorkload work = new RandomWorkload(disk, seed, 4, false);
                faulty.setFlushesLie(true);
                for (int i = 0; i < 8; i++) {
                    LoggedTransaction tx = work.next();
                    journal.commit(tx);
                    work.committed(tx, durable);
                }
                faulty.setFlushesLie(false);
                LoggedTransaction tx = work.next();
                journal.commit(tx);
                work.committed(tx, durable);
                faulty.losePower();
                Journal.open(durable, disk.region, JournalDisk.CLOCK);
                assertNull(JournalDisk.firstDifference(work.expected(), disk.inPlace(durable)), "seed " + seed);
            }
            Files.delete(disk.path);
        }
    }

    @Test
    @Timeout(60)
    void orderedDataIsDurableBeforeTheLogOfItsTransactionIsWritten() throws Exception {
        int lostWithoutOrdering = 0;
        for (int seed = 0; seed < 10; seed++) {
            for (boolean ordered : new boolean[] {true, false}) {
                JournalDisk disk = JournalDisk.create(dir.resolve("o.img"), JOURNAL_BLOCKS, POOL);
                long file = disk.dataBlock(0);
                long inode = disk.dataBlock(2);
                try (FileBlockDevice durable = disk.open()) {
                    FaultyDevice faulty = new FaultyDevice(durable, new SplittableRandom(seed));
                    Journal journal = disk.formatAndOpen(faulty);
                    journal.commit(JournalDisk.tx(Map.of(inode, disk.image(inode, 1))));
                    JournalDisk.write(faulty, file, JournalDisk.data(file, 1));
                    faulty.losePowerAtWrite(1);
                    assertThrows(DeviceException.class,
                            () -> journal.commit(new LoggedTransaction(Map.of(inode, disk.image(inode, 2)), Set.of(), ordered)));
                    boolean dataSurvived = Arrays.equals(JournalDisk.data(file, 1), read(durable, file));
                    if (ordered) {
                        assertTrue(dataSurvived, "seed " + seed + ": data=ordered flushed the data before the log write");
                    } else {
                        lostWithoutOrdering += dataSurvived ? 0 : 1;
                    }
                }
                Files.delete(disk.path);
            }
        }
        assertTrue(lostWithoutOrdering > 0, "without data=ordered the unflushed data should sometimes be lost");
    }

    @Test
    @Timeout(30)
    void commitWhoseLogWriteFailsIsNotCommitted() {
        JournalDisk disk = JournalDisk.create(dir.resolve("e.img"), JOURNAL_BLOCKS, POOL);
        long b = disk.dataBlock(0);
        try (FileBlockDevice durable = disk.open()) {
            FaultyDevice faulty = new FaultyDevice(durable, new SplittableRandom(1));
            Journal journal = disk.formatAndOpen(faulty);
            journal.commit(JournalDisk.tx(Map.of(b, disk.image(b, 1))));
            faulty.failWritesFrom(1);
            assertThrows(DeviceException.class, () -> journal.commit(JournalDisk.tx(Map.of(b, disk.image(b, 2)))));
            assertArrayEquals(bytes(disk.image(b, 1)), bytes(journal.committedImage(b)), "readers must not see a commit that failed");
            faulty.losePower();
            new JournalReplayer(durable, disk.region).replay(true);
            assertArrayEquals(bytes(disk.image(b, 1)), read(durable, b));
        }
    }

    /**
     * The hazard the tail marker's flush guards against. Twenty one-image commits of block X fill
     * the ring (marker at 0, transaction k at 3k-2..3k); the next, larger commit must checkpoint
     * (X's newest image goes in place), write a new tail marker at 61, and then wraps its log over
     * ring 62 and 0..12. Power fails during that last write, and the disk keeps only ring 4..12: the
     * old marker and transaction 1 (X's first image) survive, transactions 2..4 are overwritten.
     * Replay must start from the new marker; were that marker not durable before the ring was
     * reused, replay would start at the old tail, redo transaction 1, stop at the overwritten
     * transaction 2, and put X's first image back over its newest.
     */
    @Test
    @Timeout(30)
    void freedRingIsReusedOnlyAfterTheNewTailIsDurable() {
        JournalDisk disk = JournalDisk.create(dir.resolve("m.img"), JOURNAL_BLOCKS, POOL);
        JournalRegion region = disk.region;
        long x = disk.dataBlock(0);
        try (FileBlockDevice file = disk.open()) {
            FaultyDevice[] faulty = new FaultyDevice[1];
            SelectivelyDurableDevice selective = new SelectivelyDurableDevice(file, JournalDisk.BLOCK_SIZE, () -> faulty[0].powerLost(),
                    b -> b >= region.ringBlock(4) && b <= region.ringBlock(12));
            faulty[0] = new FaultyDevice(selective, () -> -1L); // every cached sector is offered to the disk
            Journal journal = disk.formatAndOpen(faulty[0]);
            for (int v = 1; v <= 20; v++) {
                journal.commit(JournalDisk.tx(Map.of(x, disk.image(x, v))));
            }
            assertEquals(61, new JournalReplayer(faulty[0], region).replay(false).headIndex(), "layout as the scenario needs");
            assertEquals(0, journal.checkpoints());
            Map<Long, ByteBuffer> big = new LinkedHashMap<>();
            for (int i = 1; i <= 12; i++) {
                big.put(disk.dataBlock(i), disk.image(disk.dataBlock(i), 100 + i));
            }
            byte[][] before = new byte[13][];
            for (int i = 0; i <= 12; i++) {
                before[i] = read(file, region.ringBlock(i));
            }
            // Writes of the big commit: X in place, the tail marker, ring 62, ring 0..12.
            faulty[0].losePowerAtWrite(4);
            assertThrows(DeviceException.class, () -> journal.commit(JournalDisk.tx(big)));
            assertEquals(1, journal.checkpoints(), "the big commit checkpointed first");
            for (int i = 0; i <= 12; i++) {
                boolean same = Arrays.equals(before[i], read(file, region.ringBlock(i)));
                assertEquals(i < 4, same, "ring " + i + (i < 4 ? " keeps its old block" : " was overwritten"));
            }
            new JournalReplayer(file, region).replay(true);
            assertArrayEquals(bytes(disk.image(x, 20)), read(file, x), "replay brought back an image older than the one checkpointed");
            assertArrayEquals(new byte[JournalDisk.BLOCK_SIZE], read(file, disk.dataBlock(1)), "the torn commit is not replayed");
        }
    }

    /** Equal on every block except {@code ignored} (blocks freed by the transaction: their content is no longer defined). */
    private static boolean sameOutside(Map<Long, byte[]> expected, Map<Long, byte[]> actual, Set<Long> ignored) {
        for (var e : expected.entrySet()) {
            if (!ignored.contains(e.getKey()) && !Arrays.equals(e.getValue(), actual.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }
}
