package io.concord.fs;

import static io.concord.fs.OpsFixtures.BLOCK;
import static io.concord.fs.OpsFixtures.assertFails;
import static io.concord.fs.OpsFixtures.pattern;
import static io.concord.fs.OpsFixtures.readAll;
import static io.concord.fs.OpsFixtures.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.errors.FsException;
import io.concord.errors.FsException.Kind;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Free space: statfs, a full filesystem, and unlinked-but-open files. */
@Timeout(180)
class SpaceOpsTest {
    private static final Caller ROOT = Caller.ROOT;
    private static final int CHUNK = 1 << 20;

    @TempDir
    Path tmp;

    @Test
    void statfsDescribesTheFilesystem() throws Exception {
        try (OpsFixtures image = OpsFixtures.mounted(tmp)) {
            StatFs s = image.fs().statfs();
            var sb = image.fs().superblock();
            assertEquals(BLOCK, s.blockSize());
            assertEquals(sb.totalBlocks() - sb.rgrpStart(), s.blocks(), "as GFS2: the resource groups' blocks");
            assertTrue(s.blocks() < OpsFixtures.IMAGE_BYTES / BLOCK);
            assertTrue(s.freeBlocks() > 0 && s.freeBlocks() < s.blocks());
            assertEquals(s.freeBlocks(), s.freeFiles(), "inodes are blocks");
            assertEquals(255, s.nameMax());
        }
    }

    @Test
    void freeBlocksFallOnWriteAndRiseOnUnlink() throws Exception {
        try (OpsFixtures image = OpsFixtures.mounted(tmp)) {
            ConcordFs fs = image.fs();
            long start = fs.statfs().freeBlocks();
            long f = fs.create(ROOT, fs.root(), "f", 0644).inode();
            long afterCreate = fs.statfs().freeBlocks();
            assertEquals(start - 1, afterCreate, "the inode takes one block");
            write(fs, f, 0, pattern(100 * BLOCK, 1));
            long afterWrite = fs.statfs().freeBlocks();
            assertTrue(afterCreate - afterWrite >= 100, "100 data blocks are in use");
            assertTrue(afterCreate - afterWrite <= 102, "and not many more");
            fs.unlink(ROOT, fs.root(), "f");
            assertEquals(start, fs.statfs().freeBlocks(), "everything the file took is free again");
        }
    }

    @Test
    void aFullFilesystemRefusesWritesKeepsOtherFilesAndRecoversAfterADelete() throws Exception {
        try (OpsFixtures image = smallImage()) {
            ConcordFs fs = image.fs();
            Filled filled = fill(fs);
            assertEquals(Kind.NO_SPACE, filled.refusal().kind());
            assertTrue(filled.files().size() >= 40, "most of the space was usable: " + filled.files().size() + " MiB");
            assertTrue(fs.statfs().freeBlocks() < CHUNK / BLOCK, "less than one chunk left");
            assertEquals(0, fs.getattr(filled.refused()).size(), "the refused write did not change the size");
            for (int i = 0; i < filled.files().size(); i++) {
                assertArrayEquals(filled.contents().get(i), readAll(fs, filled.files().get(i)), "file " + i + " intact");
            }

            fs.unlink(ROOT, fs.root(), "fill-0");
            byte[] again = pattern(CHUNK / 2, 999);
            assertEquals(again.length, write(fs, filled.refused(), 0, again));
            assertArrayEquals(again, readAll(fs, filled.refused()));

            fs = image.remount();
            for (int i = 1; i < filled.files().size(); i++) {
                assertArrayEquals(filled.contents().get(i), readAll(fs, filled.files().get(i)), "file " + i + " intact after remount");
            }
            assertArrayEquals(again, readAll(fs, filled.refused()));
        }
    }

    @Test
    void aWriteRefusedForSpaceAllocatesNothing() throws Exception {
        try (OpsFixtures image = smallImage()) {
            ConcordFs fs = image.fs();
            Filled filled = fill(fs);
            assertEquals(filled.freeBeforeRefusal(), fs.statfs().freeBlocks(),
                    "the blocks the refused write took before it ran out are free again");
            assertEquals(BLOCK / 512, fs.getattr(filled.refused()).blocks(), "the refused file holds only its inode block");
            // Whatever was free before the refused write can still be written.
            long rest = filled.freeBeforeRefusal() - 8;
            long f = fs.create(ROOT, fs.root(), "rest", 0644).inode();
            write(fs, f, 0, pattern((int) rest * BLOCK, 7));
            assertEquals(rest * BLOCK, fs.getattr(f).size());
        }
    }

    @Test
    void aFullFilesystemRefusesNewInodesAndLeavesNoEntryForThem() throws Exception {
        try (OpsFixtures image = smallImage()) {
            ConcordFs fs = image.fs();
            long big = fs.create(ROOT, fs.root(), "big", 0644).inode();
            long dir = fs.mkdir(ROOT, fs.root(), "many", 0755).inode();
            long at = 0;
            try {
                while (true) {
                    write(fs, big, at, pattern(1 << 20, at));
                    at += 1 << 20;
                }
            } catch (FsException e) {
                assertEquals(Kind.NO_SPACE, e.kind());
            }
            assertEquals(at, fs.getattr(big).size(), "the refused write did not change the size");
            int made = 0;
            FsException refused = null;
            while (refused == null && made < 100_000) {
                try {
                    fs.create(ROOT, dir, "i" + made, 0644);
                    made++;
                } catch (FsException e) {
                    refused = e;
                }
            }
            assertTrue(refused != null, "inodes ran out");
            assertEquals(Kind.NO_SPACE, refused.kind());
            assertTrue(fs.statfs().freeBlocks() < 8, "the filesystem is full: " + fs.statfs().freeBlocks());
            String lost = "i" + made;
            assertFails(Kind.NOT_FOUND, () -> fs.lookup(ROOT, dir, lost));
            assertEquals(made, fs.readdir(ROOT, dir, 2, 1_000_000).size(), "every created name, no more");

            fs.setattr(ROOT, big, SetAttr.size(0));
            fs.create(ROOT, dir, lost, 0644);
            assertTrue(fs.lookup(ROOT, dir, lost).isRegular());
        }
    }

    @Test
    void anUnlinkedOpenFileStaysReadableUntilReleasedThenItsSpaceReturns() throws Exception {
        try (OpsFixtures image = OpsFixtures.mounted(tmp)) {
            ConcordFs fs = image.fs();
            long start = fs.statfs().freeBlocks();
            long f = fs.create(ROOT, fs.root(), "open", 0644).inode();
            byte[] data = pattern(50 * BLOCK + 17, 3);
            write(fs, f, 0, data);
            long whileOpen = fs.statfs().freeBlocks();

            fs.open(ROOT, f, 0);
            fs.unlink(ROOT, fs.root(), "open");
            assertFails(Kind.NOT_FOUND, () -> fs.lookup(ROOT, fs.root(), "open"));
            assertEquals(0, fs.getattr(f).nlink());
            assertArrayEquals(data, readAll(fs, f), "still readable through the open handle");
            assertTrue(fs.statfs().freeBlocks() <= whileOpen, "nothing freed while open");

            fs.release(f);
            assertFails(Kind.STALE_HANDLE, () -> fs.getattr(f));
            assertEquals(start, fs.statfs().freeBlocks(), "all its blocks are free after the last release");
        }
    }

    @Test
    void twoOpensNeedTwoReleases() throws Exception {
        try (OpsFixtures image = OpsFixtures.mounted(tmp)) {
            ConcordFs fs = image.fs();
            long f = fs.create(ROOT, fs.root(), "open", 0644).inode();
            write(fs, f, 0, pattern(BLOCK, 4));
            fs.open(ROOT, f, 0);
            fs.open(ROOT, f, 2);
            fs.unlink(ROOT, fs.root(), "open");
            fs.release(f);
            assertEquals(BLOCK, readAll(fs, f).length, "one open is left");
            fs.release(f);
            assertFails(Kind.STALE_HANDLE, () -> fs.getattr(f));
        }
    }

    @Test
    void anUnlinkedOpenFileNeverReleasedIsReclaimedAtTheNextMount() throws Exception {
        try (OpsFixtures image = OpsFixtures.mounted(tmp)) {
            ConcordFs fs = image.fs();
            long f = fs.create(ROOT, fs.root(), "open", 0644).inode();
            byte[] data = pattern(80 * BLOCK, 5);
            write(fs, f, 0, data);
            long whileOpen = fs.statfs().freeBlocks();
            fs.open(ROOT, f, 0);
            fs.unlink(ROOT, fs.root(), "open");
            assertArrayEquals(data, readAll(fs, f));

            ConcordFs again = image.remount();
            assertTrue(again.statfs().freeBlocks() >= whileOpen + 81,
                    "the 80 data blocks and the inode are free after the mount: " + (again.statfs().freeBlocks() - whileOpen));
            assertFails(Kind.STALE_HANDLE, () -> again.getattr(f));
            assertTrue(again.readdir(ROOT, again.root(), 2, 100).stream().noneMatch(e -> e.inode() == f));

            long freeNow = again.statfs().freeBlocks();
            assertEquals(freeNow, image.remount().statfs().freeBlocks(), "nothing is reclaimed twice");
        }
    }

    /** Files of one chunk each, then the file whose write was refused. */
    private record Filled(List<Long> files, List<byte[]> contents, long refused, FsException refusal, long freeBeforeRefusal) {
    }

    /** 64 MiB with a 4 MiB journal: small enough to fill quickly. */
    private OpsFixtures smallImage() throws java.io.IOException {
        return OpsFixtures.mounted(tmp, 64L << 20, MkfsOptions.of("t:f", 1).withJournalMb(4));
    }

    private static Filled fill(ConcordFs fs) {
        List<Long> files = new ArrayList<>();
        List<byte[]> contents = new ArrayList<>();
        for (int k = 0; k < 200; k++) {
            long f = fs.create(ROOT, fs.root(), "fill-" + k, 0644).inode();
            byte[] data = pattern(CHUNK, 100 + k);
            long free = fs.statfs().freeBlocks();
            try {
                write(fs, f, 0, data);
            } catch (FsException e) {
                return new Filled(files, contents, f, e, free);
            }
            files.add(f);
            contents.add(data);
        }
        throw new AssertionError("200 MiB fitted in a 64 MiB filesystem");
    }
}
