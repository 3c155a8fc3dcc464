package io.concord.fs;

import static io.concord.fs.OpsFixtures.BLOCK;
import static io.concord.fs.OpsFixtures.pattern;
import static io.concord.fs.OpsFixtures.read;
import static io.concord.fs.OpsFixtures.readAll;
import static io.concord.fs.OpsFixtures.write;
import static io.concord.fs.OpsFixtures.zeros;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.concord.format.Inode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** An unmount and mount on the same device keeps every kind of thing the operations make. */
@Timeout(120)
class RemountOpsTest {
    private static final Caller ROOT = Caller.ROOT;
    private static final Caller ALICE = Caller.of(1000, 100);

    @TempDir
    Path tmp;

    @Test
    void everythingMadeBeforeAnUnmountIsThereAfterTheMount() throws Exception {
        try (OpsFixtures image = OpsFixtures.mounted(tmp)) {
            ConcordFs fs = image.fs();
            long d = fs.mkdir(ROOT, fs.root(), "d", 02777).inode();
            long sub = fs.mkdir(ALICE, d, "sub", 0750).inode();
            long f = fs.create(ALICE, d, "f", 0640).inode();
            byte[] data = pattern(3 * BLOCK + 123, 1);
            write(fs, f, 0, data);
            long sparse = fs.create(ROOT, sub, "sparse", 0600).inode();
            byte[] tail = pattern(BLOCK, 2);
            write(fs, sparse, 1L << 30, tail);
            fs.link(ROOT, f, fs.root(), "hard");
            fs.symlink(ROOT, d, "short", "f");
            String longTarget = NamespaceOpsTest.longPath(4000);
            fs.symlink(ROOT, d, "long", longTarget);
            fs.mknod(ROOT, d, "chr", Inode.S_IFCHR | 0620, (4L << 8) | 1);
            fs.mknod(ROOT, d, "fifo", Inode.S_IFIFO | 0600, 0);
            fs.setxattr(ALICE, f, "user.small", "v".getBytes(StandardCharsets.UTF_8), 0);
            long xf = fs.create(ROOT, d, "xattrs", 0644).inode();
            byte[] bigValue = pattern(2500, 3);
            fs.setxattr(ROOT, xf, "user.big", bigValue, 0);
            Instant when = Instant.parse("2010-10-10T10:10:10.123456789Z");
            fs.setattr(ALICE, f, SetAttr.times(when, when));
            long preallocated = fs.create(ROOT, d, "prealloc", 0644).inode();
            fs.fallocate(ROOT, preallocated, 0, 0, 5 * BLOCK);
            fs.create(ROOT, d, "gone", 0644);
            fs.unlink(ROOT, d, "gone");
            List<DirListEntry> listing = fs.readdir(ROOT, d, 0, 100);
            StatFs stat = fs.statfs();
            Attributes fBefore = fs.getattr(f);
            Attributes dBefore = fs.getattr(d);

            fs = image.remount();
            assertEquals(stat, fs.statfs());
            assertEquals(listing, fs.readdir(ROOT, d, 0, 100));
            assertEquals(fBefore, fs.getattr(f));
            assertEquals(dBefore, fs.getattr(d));
            assertEquals(when, fs.getattr(f).mtime());
            assertEquals(2, fs.getattr(f).nlink());
            assertEquals(f, fs.lookup(ROOT, fs.root(), "hard").inode());
            assertArrayEquals(data, readAll(fs, f));
            assertEquals((1L << 30) + BLOCK, fs.getattr(sparse).size());
            assertArrayEquals(tail, read(fs, sparse, 1L << 30, BLOCK));
            assertArrayEquals(zeros(BLOCK), read(fs, sparse, 1L << 29, BLOCK));
            assertEquals("f", fs.readlink(fs.lookup(ROOT, d, "short").inode()));
            assertEquals(longTarget, fs.readlink(fs.lookup(ROOT, d, "long").inode()));
            Attributes chr = fs.lookup(ROOT, d, "chr");
            assertEquals(Inode.S_IFCHR | 0620, chr.mode());
            assertEquals((4L << 8) | 1, chr.rdev());
            assertEquals(Inode.S_IFIFO | 0600, fs.lookup(ROOT, d, "fifo").mode());
            assertArrayEquals("v".getBytes(StandardCharsets.UTF_8), fs.getxattr(ALICE, f, "user.small"));
            assertArrayEquals(bigValue, fs.getxattr(ROOT, xf, "user.big"));
            assertEquals(0, fs.getattr(sub).gid(), "sub keeps the setgid directory's group");
            assertEquals(0, fs.getattr(f).gid());
            assertEquals(02750, fs.getattr(sub).mode() & 07777);
            assertEquals(d, fs.lookup(ROOT, sub, "..").inode());
            assertEquals(5 * BLOCK, fs.getattr(preallocated).size());
            assertArrayEquals(zeros(5 * BLOCK), readAll(fs, preallocated));
            assertEquals(3, fs.getattr(d).nlink());
        }
    }

    @Test
    void changesMadeAfterARemountAreKeptByTheNextOne() throws Exception {
        try (OpsFixtures image = OpsFixtures.mounted(tmp)) {
            ConcordFs fs = image.fs();
            long f = fs.create(ROOT, fs.root(), "f", 0644).inode();
            byte[] one = pattern(BLOCK * 2, 4);
            write(fs, f, 0, one);
            fs = image.remount();
            byte[] two = pattern(100, 5);
            write(fs, f, BLOCK - 50, two);
            fs.rename(ROOT, fs.root(), "f", fs.root(), "g", 0);
            fs = image.remount();
            byte[] expected = one.clone();
            System.arraycopy(two, 0, expected, BLOCK - 50, 100);
            assertEquals(f, fs.lookup(ROOT, fs.root(), "g").inode());
            assertArrayEquals(expected, readAll(fs, f));
        }
    }
}
