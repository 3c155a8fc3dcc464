package io.concord.journal;

import static io.concord.journal.JournalDisk.bytes;
import static io.concord.journal.JournalDisk.data;
import static io.concord.journal.JournalDisk.read;
import static io.concord.journal.JournalDisk.tx;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.device.FileBlockDevice;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Revokes: a freed metadata block may be reused for file data written in place, so replay must
 * never write an image of it that was logged before it was freed; but an image logged after the
 * free is the block's new content and must be replayed.
 */
class JournalRevokeTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(30)
    void revokedBlockOverwrittenInPlaceKeepsItsDataThroughReplay() {
        JournalDisk disk = JournalDisk.create(dir.resolve("d.img"), 64, 8);
        long b = disk.dataBlock(0);
        long other = disk.dataBlock(1);
        try (FileBlockDevice device = disk.open()) {
            Journal journal = disk.formatAndOpen(device);
            journal.commit(tx(Map.of(b, disk.image(b, 1), other, disk.image(other, 1))));
            journal.commit(tx(Map.of(), Set.of(b)));
            JournalDisk.write(device, b, data(b, 7));
        }
        try (FileBlockDevice device = disk.open()) {
            ReplayResult r = Journal.open(device, disk.region, JournalDisk.CLOCK).replayAtOpen();
            assertArrayEquals(data(b, 7), read(device, b), "replay wrote the image of a block revoked after it was logged");
            assertArrayEquals(bytes(disk.image(other, 1)), read(device, other));
            assertEquals(1, r.blocksRevoked());
            assertEquals(1, r.blocksWritten());
        }
    }

    @Test
    @Timeout(30)
    void blockLoggedAgainAfterItsRevokeIsReplayed() {
        JournalDisk disk = JournalDisk.create(dir.resolve("d.img"), 64, 8);
        long b = disk.dataBlock(0);
        try (FileBlockDevice device = disk.open()) {
            Journal journal = disk.formatAndOpen(device);
            journal.commit(tx(Map.of(b, disk.image(b, 1))));
            journal.commit(tx(Map.of(), Set.of(b)));
            JournalDisk.write(device, b, data(b, 7));
            journal.commit(tx(Map.of(b, disk.image(b, 3))));
            assertArrayEquals(bytes(disk.image(b, 3)), bytes(journal.committedImage(b)));
        }
        try (FileBlockDevice device = disk.open()) {
            ReplayResult r = new JournalReplayer(device, disk.region).replay(true);
            assertArrayEquals(bytes(disk.image(b, 3)), read(device, b));
            assertEquals(1, r.blocksRevoked(), "only the image from before the revoke is skipped");
            assertEquals(1, r.blocksWritten());
        }
    }

    @Test
    @Timeout(30)
    void revokeDropsTheCommittedImageSoACheckpointLeavesTheReusedBlockAlone() {
        JournalDisk disk = JournalDisk.create(dir.resolve("d.img"), 64, 8);
        long b = disk.dataBlock(0);
        try (FileBlockDevice device = disk.open()) {
            Journal journal = disk.formatAndOpen(device);
            journal.commit(tx(Map.of(b, disk.image(b, 1))));
            assertTrue(journal.inWindow(b));
            journal.commit(tx(Map.of(), Set.of(b)));
            assertFalse(journal.inWindow(b));
            assertNull(journal.committedImage(b));
            JournalDisk.write(device, b, data(b, 7));
            journal.checkpoint();
            assertArrayEquals(data(b, 7), read(device, b), "the checkpoint wrote back an image of a freed block");
        }
    }

    @Test
    @Timeout(30)
    void revokeOfABlockNoLongerInTheLogIsHarmless() {
        JournalDisk disk = JournalDisk.create(dir.resolve("d.img"), 64, 8);
        long b = disk.dataBlock(0);
        long c = disk.dataBlock(1);
        try (FileBlockDevice device = disk.open()) {
            Journal journal = disk.formatAndOpen(device);
            journal.commit(tx(Map.of(b, disk.image(b, 1))));
            journal.checkpoint();
            journal.commit(tx(Map.of(c, disk.image(c, 2)), Set.of(b)));
            JournalDisk.write(device, b, data(b, 7));
        }
        try (FileBlockDevice device = disk.open()) {
            new JournalReplayer(device, disk.region).replay(true);
            assertArrayEquals(data(b, 7), read(device, b));
            assertArrayEquals(bytes(disk.image(c, 2)), read(device, c));
        }
    }

    /**
     * A transaction may free a block and reuse it as metadata before it commits. The journal takes
     * the new image as committed ({@link Journal#committedImage} returns it, a checkpoint would
     * write it); replay after a crash must agree, or that committed image is lost.
     */
    @Test
    @Timeout(30)
    void imageLoggedInTheSameTransactionAsItsBlocksRevokeIsReplayed() {
        JournalDisk disk = JournalDisk.create(dir.resolve("d.img"), 64, 8);
        long b = disk.dataBlock(0);
        try (FileBlockDevice device = disk.open()) {
            Journal journal = disk.formatAndOpen(device);
            journal.commit(tx(Map.of(b, disk.image(b, 1))));
            journal.commit(tx(Map.of(b, disk.image(b, 2)), Set.of(b)));
            assertArrayEquals(bytes(disk.image(b, 2)), bytes(journal.committedImage(b)), "the journal holds the new image as committed");
        }
        try (FileBlockDevice device = disk.open()) {
            new JournalReplayer(device, disk.region).replay(true);
            assertArrayEquals(bytes(disk.image(b, 2)), read(device, b),
                    "replay dropped the image committed together with its block's revoke");
        }
    }
}
