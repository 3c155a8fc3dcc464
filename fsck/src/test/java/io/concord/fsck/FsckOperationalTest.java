package io.concord.fsck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.device.BlockDevice;
import io.concord.device.FileBlockDevice;
import io.concord.fs.Caller;
import io.concord.fs.ConcordFs;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Devices that cannot be checked (exit 8), and journals that must be replayed first. */
class FsckOperationalTest {
    @TempDir
    Path tmp;

    @Test
    @Timeout(30)
    void aFileOfRandomBytesIsAnOperationalError() throws Exception {
        byte[] junk = new byte[1 << 20];
        new Random(3).nextBytes(junk);
        Path p = tmp.resolve("junk.img");
        Files.write(p, junk);
        FsckReport r = Images.check(p);
        assertEquals(FsckReport.EXIT_OPERATIONAL, r.exitCode());
        assertFalse(r.isClean());
        assertNotNull(r.operationalError());
        assertTrue(r.operationalError().contains("not a Concord filesystem"), r.operationalError());
        assertTrue(r.summary().contains("cannot be checked"), r.summary());
    }

    @Test
    @Timeout(30)
    void aZeroedDeviceIsAnOperationalError() throws Exception {
        Path p = tmp.resolve("zero.img");
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(16L << 20);
        }
        FsckReport r = Images.check(p);
        assertEquals(FsckReport.EXIT_OPERATIONAL, r.exitCode());
    }

    @Test
    @Timeout(30)
    void aDamagedSuperblockIsAnOperationalError() throws Exception {
        Path image = Images.formatted(tmp, "sb.img", 64L << 20);
        try (Images.Raw raw = new Images.Raw(image)) {
            raw.flip(0, 150); // inside the label
        }
        FsckReport r = Images.check(image);
        assertEquals(FsckReport.EXIT_OPERATIONAL, r.exitCode());
        assertTrue(r.operationalError().contains("superblock is damaged"), r.operationalError());
    }

    @Test
    @Timeout(30)
    void aTruncatedImageIsAnOperationalError() throws Exception {
        Path image = Images.formatted(tmp, "short.img", 64L << 20);
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(40L << 20);
        }
        FsckReport r = Images.check(image);
        assertEquals(FsckReport.EXIT_OPERATIONAL, r.exitCode());
        assertTrue(r.operationalError().contains("device holds"), r.operationalError());
    }

    @Test
    @Timeout(60)
    void aJournalWithCommittedTransactionsNeedsRecoveryAndIsCleanAfterAMount() throws Exception {
        Path image = Images.formatted(tmp, "dirty.img", 64L << 20);
        try (BlockDevice dev = FileBlockDevice.open(image, false, false)) {
            ConcordFs fs = Images.mount(dev);
            try {
                long d = fs.mkdir(Caller.ROOT, fs.root(), "d", 0755).inode();
                long f = fs.create(Caller.ROOT, d, "f", 0644).inode();
                fs.write(Caller.ROOT, f, 0, ByteBuffer.wrap(new byte[10_000]));
                fs.sync(); // committed to the journal, not yet written in place

                FsckReport dirty = Images.check(image);
                Problem p = dirty.problems(Problem.JOURNAL_DIRTY).stream().findFirst()
                        .orElseThrow(() -> new AssertionError("no journal-dirty problem: " + dirty.problems()));
                assertTrue(p.message().startsWith("journal 0 needs recovery (mount it once)"), p.message());
                assertEquals(fs.superblock().journalFirstBlock(0), p.block());
                assertEquals(1, dirty.problemCount(), () -> "the blocks in place are the older, consistent state: " + dirty.problems());
                assertEquals(FsckReport.EXIT_UNCORRECTED, dirty.exitCode());
            } finally {
                fs.close(); // writes the journal back in place
            }
        }
        FsckReport after = Images.check(image);
        assertTrue(after.isClean(), () -> after.problems().toString());
        assertEquals(4, after.directories());
    }

    @Test
    @Timeout(30)
    void aDamagedJournalHeaderIsReported() throws Exception {
        Path image = Images.formatted(tmp, "jh.img", 64L << 20);
        long header;
        try (Images.Raw raw = new Images.Raw(image)) {
            header = raw.sb.journalFirstBlock(1);
            raw.flip(header, 100);
        }
        FsckReport r = Images.check(image);
        assertEquals(1, r.problemCount(), () -> r.problems().toString());
        assertEquals(Problem.CHECKSUM, r.problems().get(0).code());
        assertEquals(header, r.problems().get(0).block());
        assertTrue(r.problems().get(0).message().contains("journal 1"), r.problems().get(0).message());
    }
}
