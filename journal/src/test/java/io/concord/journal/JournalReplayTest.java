package io.concord.journal;

import static io.concord.journal.JournalDisk.BLOCK_SIZE;
import static io.concord.journal.JournalDisk.bytes;
import static io.concord.journal.JournalDisk.read;
import static io.concord.journal.JournalDisk.tx;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.device.FileBlockDevice;
import io.concord.format.BlockType;
import io.concord.format.LogBlockList;
import io.concord.format.MetaBlocks;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Commit, crash (the Journal object is dropped without close), replay: the basic redo contract. */
class JournalReplayTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(30)
    void committedImagesAreNotWrittenInPlaceBeforeACheckpoint() {
        JournalDisk disk = JournalDisk.create(dir.resolve("d.img"), 64, 8);
        try (FileBlockDevice device = disk.open()) {
            Journal journal = disk.formatAndOpen(device);
            long b = disk.dataBlock(0);
            journal.commit(tx(Map.of(b, disk.image(b, 1))));
            assertArrayEquals(new byte[BLOCK_SIZE], read(device, b), "a commit writes only the log; the block stays as it was in place");
        }
    }

    @Test
    @Timeout(30)
    void replayOnAFreshJournalPutsTheNewestImageOfEveryCommittedBlockInPlace() {
        JournalDisk disk = JournalDisk.create(dir.resolve("d.img"), 64, 8);
        long a = disk.dataBlock(0);
        long b = disk.dataBlock(1);
        long c = disk.dataBlock(2);
        try (FileBlockDevice device = disk.open()) {
            Journal journal = disk.formatAndOpen(device);
            journal.commit(tx(Map.of(a, disk.image(a, 1), b, disk.image(b, 2))));
            journal.commit(tx(Map.of(b, disk.image(b, 3))));
            journal.commit(tx(Map.of(c, disk.image(c, 4), a, disk.image(a, 5))));
            // crash: the journal is dropped without close
        }
        try (FileBlockDevice device = disk.open()) {
            Journal journal = Journal.open(device, disk.region, JournalDisk.CLOCK);
            assertArrayEquals(bytes(disk.image(a, 5)), read(device, a));
            assertArrayEquals(bytes(disk.image(b, 3)), read(device, b));
            assertArrayEquals(bytes(disk.image(c, 4)), read(device, c));
            assertArrayEquals(new byte[BLOCK_SIZE], read(device, disk.dataBlock(3)), "a block never logged is left alone");
            // What landed is a sound metadata block of this filesystem, addressed to where it is.
            disk.decodeImage(read(device, a), a);
            disk.decodeImage(read(device, b), b);
            ReplayResult r = journal.replayAtOpen();
            assertEquals(3, r.transactions());
            assertEquals(5, r.blocksWritten());
            assertEquals(0, r.blocksRevoked());
        }
    }

    @Test
    @Timeout(30)
    void replayingTwiceLeavesTheSameBytesOnTheDevice() throws Exception {
        JournalDisk disk = JournalDisk.create(dir.resolve("d.img"), 64, 8);
        try (FileBlockDevice device = disk.open()) {
            Journal journal = disk.formatAndOpen(device);
            for (int v = 1; v <= 6; v++) {
                long b = disk.dataBlock(v % 4);
                journal.commit(tx(Map.of(b, disk.image(b, v))));
            }
            long freed = disk.dataBlock(1);
            journal.commit(tx(Map.of(), Set.of(freed)));
            JournalDisk.write(device, freed, JournalDisk.data(freed, 1));
        }
        try (FileBlockDevice device = disk.open()) {
            ReplayResult first = new JournalReplayer(device, disk.region).replay(true);
            byte[] once = Files.readAllBytes(disk.path);
            ReplayResult second = new JournalReplayer(device, disk.region).replay(true);
            byte[] twice = Files.readAllBytes(disk.path);
            assertArrayEquals(once, twice, "a second replay must write exactly what the first did");
            assertEquals(first, second);
            assertTrue(first.blocksWritten() > 0, "the replay had something to redo: " + first);
        }
    }

    @Test
    @Timeout(30)
    void replayWithoutWritingCountsTheWorkButLeavesTheDeviceUntouched() throws Exception {
        JournalDisk disk = JournalDisk.create(dir.resolve("d.img"), 64, 8);
        try (FileBlockDevice device = disk.open()) {
            Journal journal = disk.formatAndOpen(device);
            long b = disk.dataBlock(0);
            journal.commit(tx(Map.of(b, disk.image(b, 1))));
        }
        byte[] before = Files.readAllBytes(disk.path);
        try (FileBlockDevice device = disk.open()) {
            ReplayResult r = new JournalReplayer(device, disk.region).replay(false);
            assertEquals(1, r.blocksWritten());
        }
        assertArrayEquals(before, Files.readAllBytes(disk.path));
    }

    @Test
    @Timeout(60)
    void transactionWhoseImagesNeedSeveralDescriptorBlocksIsReplayedWhole() {
        int perDescriptor = LogBlockList.capacity(BLOCK_SIZE);
        int images = perDescriptor + 54;
        JournalDisk disk = JournalDisk.create(dir.resolve("d.img"), 1200, images + 8);
        Map<Long, ByteBuffer> tx = new LinkedHashMap<>();
        for (int i = 0; i < images; i++) {
            tx.put(disk.dataBlock(i), disk.image(disk.dataBlock(i), 1000 + i));
        }
        try (FileBlockDevice device = disk.open()) {
            Journal journal = disk.formatAndOpen(device);
            assertTrue(images + 3 <= journal.maxTransactionBlocks(), "the journal must take the transaction in one piece");
            journal.commit(tx(tx));
            // After format the first tail marker sits at ring index 0, so the transaction starts at 1:
            // a descriptor, its images, then the second descriptor.
            ByteBuffer second = ByteBuffer.wrap(read(device, disk.region.ringBlock(2 + perDescriptor)));
            assertEquals(BlockType.LOG_DESCRIPTOR, MetaBlocks.check(second, disk.region.ringBlock(2 + perDescriptor), disk.region.fsId()),
                    "the transaction really spans two descriptor blocks");
            assertEquals(images - perDescriptor, LogBlockList.decode(second, BlockType.LOG_DESCRIPTOR, 0).blocks().length);
        }
        try (FileBlockDevice device = disk.open()) {
            ReplayResult r = new JournalReplayer(device, disk.region).replay(true);
            assertEquals(images, r.blocksWritten());
            for (var e : tx.entrySet()) {
                assertArrayEquals(bytes(e.getValue()), read(device, e.getKey()), "block " + e.getKey());
            }
        }
    }

    @Test
    @Timeout(60)
    void revokesThatNeedSeveralRevokeBlocksAllTakeEffect() {
        int perBlock = LogBlockList.capacity(BLOCK_SIZE);
        int revoked = perBlock + 94;
        int kept = 60;
        JournalDisk disk = JournalDisk.create(dir.resolve("d.img"), 1200, revoked + kept);
        try (FileBlockDevice device = disk.open()) {
            Journal journal = disk.formatAndOpen(device);
            int half = (revoked + kept) / 2;
            for (int from : new int[] {0, half}) {
                Map<Long, ByteBuffer> tx = new LinkedHashMap<>();
                for (int i = from; i < Math.min(revoked + kept, from + half); i++) {
                    tx.put(disk.dataBlock(i), disk.image(disk.dataBlock(i), 1));
                }
                journal.commit(tx(tx));
            }
            Set<Long> freed = new HashSet<>();
            for (int i = 0; i < revoked; i++) {
                freed.add(disk.dataBlock(i));
            }
            journal.commit(tx(Map.of(), freed));
            assertEquals(0, journal.checkpoints(), "the revoked images must still be in the log for this test to mean anything");
            for (long b : freed) {
                assertNull(journal.committedImage(b), "block " + b);
                JournalDisk.write(device, b, JournalDisk.data(b, 1));
            }
        }
        try (FileBlockDevice device = disk.open()) {
            ReplayResult r = new JournalReplayer(device, disk.region).replay(true);
            assertEquals(revoked, r.blocksRevoked());
            assertEquals(kept, r.blocksWritten());
            for (int i = 0; i < revoked + kept; i++) {
                long b = disk.dataBlock(i);
                byte[] want = i < revoked ? JournalDisk.data(b, 1) : bytes(disk.image(b, 1));
                assertArrayEquals(want, read(device, b), "block " + b + (i < revoked ? " (revoked)" : ""));
            }
        }
    }

    @Test
    @Timeout(30)
    void closeWritesEverythingInPlaceAndLeavesNothingToReplay() {
        JournalDisk disk = JournalDisk.create(dir.resolve("d.img"), 64, 8);
        long a = disk.dataBlock(0);
        long b = disk.dataBlock(1);
        try (FileBlockDevice device = disk.open()) {
            try (Journal journal = disk.formatAndOpen(device)) {
                journal.commit(tx(Map.of(a, disk.image(a, 1), b, disk.image(b, 1))));
                journal.commit(tx(Map.of(a, disk.image(a, 2))));
            }
            assertArrayEquals(bytes(disk.image(a, 2)), read(device, a));
            assertArrayEquals(bytes(disk.image(b, 1)), read(device, b));
        }
        try (FileBlockDevice device = disk.open()) {
            ReplayResult r = Journal.open(device, disk.region, JournalDisk.CLOCK).replayAtOpen();
            assertEquals(0, r.blocksWritten(), r.toString());
            assertEquals(0, r.transactions(), r.toString());
        }
    }

    @Test
    @Timeout(30)
    void emptyTransactionIsNotLogged() {
        JournalDisk disk = JournalDisk.create(dir.resolve("d.img"), 64, 8);
        try (FileBlockDevice device = disk.open()) {
            Journal journal = disk.formatAndOpen(device);
            assertEquals(0, journal.commit(new LoggedTransaction(Map.of(), Set.of(), true)));
            assertEquals(0, journal.commits());
        }
    }

    @Test
    @Timeout(30)
    void transactionLargerThanTheJournalAllowsIsRefusedAndLeavesTheJournalUsable() {
        JournalDisk disk = JournalDisk.create(dir.resolve("d.img"), 64, 64);
        try (FileBlockDevice device = disk.open()) {
            Journal journal = disk.formatAndOpen(device);
            Map<Long, ByteBuffer> big = new LinkedHashMap<>();
            for (int i = 0; i < journal.maxTransactionBlocks(); i++) {
                big.put(disk.dataBlock(i), disk.image(disk.dataBlock(i), 1));
            }
            assertThrows(IllegalArgumentException.class, () -> journal.commit(tx(big)));
            long b = disk.dataBlock(0);
            assertNull(journal.committedImage(b));
            journal.commit(tx(Map.of(b, disk.image(b, 2))));
            assertArrayEquals(bytes(disk.image(b, 2)), bytes(journal.committedImage(b)));
        }
    }

    @Test
    @Timeout(30)
    void imageThatIsNotOneBlockLongIsRefused() {
        JournalDisk disk = JournalDisk.create(dir.resolve("d.img"), 64, 8);
        try (FileBlockDevice device = disk.open()) {
            Journal journal = disk.formatAndOpen(device);
            long b = disk.dataBlock(0);
            assertThrows(IllegalArgumentException.class, () -> journal.commit(tx(Map.of(b, ByteBuffer.allocate(BLOCK_SIZE / 2)))));
            assertNull(journal.committedImage(b));
        }
    }

    @Test
    @Timeout(30)
    void sequenceNumbersKeepRisingAcrossACrashAndReopen() {
        JournalDisk disk = JournalDisk.create(dir.resolve("d.img"), 64, 8);
        long b = disk.dataBlock(0);
        long last;
        try (FileBlockDevice device = disk.open()) {
            Journal journal = disk.formatAndOpen(device);
            long first = journal.commit(tx(Map.of(b, disk.image(b, 1))));
            last = journal.commit(tx(Map.of(b, disk.image(b, 2))));
            assertTrue(last > first);
        }
        try (FileBlockDevice device = disk.open()) {
            Journal journal = Journal.open(device, disk.region, JournalDisk.CLOCK);
            assertTrue(journal.replayAtOpen().nextSequence() > last, journal.replayAtOpen().toString());
            assertTrue(journal.commit(tx(Map.of(b, disk.image(b, 3)))) > last);
        }
    }
}
