package io.concord.fsck;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.device.BlockDevice;
import io.concord.device.FileBlockDevice;
import io.concord.fs.Caller;
import io.concord.fs.ConcordFs;
import io.concord.fs.SetAttr;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Filesystems made and changed only through ConcordFs check clean. */
class FsckCleanTest {
    private static final int KEEP_SIZE = 1;
    private static final int PUNCH_HOLE = 2;

    @TempDir
    Path tmp;

    @Test
    @Timeout(60)
    void freshFilesystemIsClean() throws Exception {
        Path image = Images.formatted(tmp, "fresh.img", 64L << 20);
        FsckReport r = Images.check(image);
        assertTrue(r.isClean(), () -> r.summary() + "\n" + r.problems());
        assertEquals(FsckReport.EXIT_CLEAN, r.exitCode());
        assertEquals(3, r.directories(), "the root and two orphan directories");
        assertEquals(3, r.inodes());
    }

    @Test
    @Timeout(300)
    void populatedFilesystemIsClean() throws Exception {
        Path image = Images.formatted(tmp, "full.img", 256L << 20);
        Random random = new Random(42);
        long many;
        long punched;
        try (BlockDevice dev = FileBlockDevice.open(image, false, false); ConcordFs fs = Images.mount(dev)) {
            long root = fs.root();
            long d = fs.mkdir(Caller.ROOT, root, "d", 0755).inode();
            long sub = fs.mkdir(Caller.ROOT, d, "sub", 0755).inode();
            long deep = fs.mkdir(Caller.ROOT, sub, "deep", 0700).inode();
            // Thousands of names: the directory's tree grows internal nodes.
            many = fs.mkdir(Caller.ROOT, root, "many", 0755).inode();
            for (int i = 0; i < 3000; i++) {
                fs.create(Caller.ROOT, many, "file-with-a-longish-name-" + i, 0644);
            }
            for (int i = 0; i < 3000; i += 3) {
                fs.unlink(Caller.ROOT, many, "file-with-a-longish-name-" + i);
            }
            for (int i = 0; i < 20; i++) {
                fs.mkdir(Caller.ROOT, many, "subdir-" + i, 0755);
            }
            fs.rmdir(Caller.ROOT, many, "subdir-7");
            // A large file, and one written in place again.
            byte[] big = new byte[6 << 20];
            random.nextBytes(big);
            long large = fs.create(Caller.ROOT, d, "large", 0644).inode();
            fs.write(Caller.ROOT, large, 0, ByteBuffer.wrap(big));
            fs.write(Caller.ROOT, large, 12345, ByteBuffer.wrap(new byte[5000]));
            // Sparse files: far-apart writes, and one punched full of holes so that its extent tree
            // grows internal nodes (punching, not scattered writes: see fileGrownByScatteredWrites...).
            long sparse = fs.create(Caller.ROOT, d, "sparse", 0644).inode();
            fs.write(Caller.ROOT, sparse, 0, ByteBuffer.wrap(new byte[100]));
            fs.write(Caller.ROOT, sparse, 100L << 20, ByteBuffer.wrap(new byte[8192]));
            punched = fs.create(Caller.ROOT, d, "punched", 0644).inode();
            fs.write(Caller.ROOT, punched, 0, ByteBuffer.wrap(new byte[800 * 4096]));
            for (int i = 0; i < 300; i++) {
                fs.fallocate(Caller.ROOT, punched, PUNCH_HOLE | KEEP_SIZE, (2L * i + 1) * 4096, 4096);
            }
            fs.fallocate(Caller.ROOT, punched, 0, 900L * 4096, 10 * 4096);
            long truncated = fs.create(Caller.ROOT, d, "truncated", 0644).inode();
            fs.write(Caller.ROOT, truncated, 0, ByteBuffer.wrap(new byte[40_000]));
            fs.setattr(Caller.ROOT, truncated, SetAttr.size(5000));
            // Hard links, across directories.
            long linked = fs.create(Caller.ROOT, d, "linked", 0644).inode();
            fs.write(Caller.ROOT, linked, 0, ByteBuffer.wrap("hello".getBytes(StandardCharsets.UTF_8)));
            fs.link(Caller.ROOT, linked, sub, "linked-again");
            fs.link(Caller.ROOT, linked, deep, "and-again");
            // Symbolic links: a short one (inline) and a long one (in blocks).
            fs.symlink(Caller.ROOT, d, "short", "large");
            fs.symlink(Caller.ROOT, d, "long", "x/".repeat(2000));
            // Extended attributes: inline, and one too large for the inode (an xattr block).
            fs.setxattr(Caller.ROOT, large, "user.small", new byte[] {1, 2, 3}, 0);
            long xattrs = fs.create(Caller.ROOT, d, "xattrs", 0644).inode();
            fs.setxattr(Caller.ROOT, xattrs, "user.big", new byte[1500], 0);
            fs.setxattr(Caller.ROOT, sub, "user.dir", new byte[700], 0);
            // Renames, across directories too.
            fs.rename(Caller.ROOT, d, "sub", root, "sub-moved", 0);
            fs.rename(Caller.ROOT, root, "sub-moved", many, "sub-moved-again", 0);
            fs.mknod(Caller.ROOT, d, "fifo", io.concord.format.Inode.S_IFIFO | 0644, 0);
            // Unlinked while open, then unmounted without release: a legitimate orphan.
            long gone = fs.create(Caller.ROOT, d, "gone", 0644).inode();
            fs.write(Caller.ROOT, gone, 0, ByteBuffer.wrap(new byte[3 * 4096]));
            fs.open(Caller.ROOT, gone, 0);
            fs.unlink(Caller.ROOT, d, "gone");
        }
        try (Images.Raw raw = new Images.Raw(image)) {
            assertTrue(raw.root(raw.inode(many)).level() >= 1, "the big directory's tree has internal nodes");
            assertTrue(raw.root(raw.inode(punched)).level() >= 1, "the punched file's extent tree has internal nodes");
            assertEquals(1, raw.inode(raw.sb.orphanDirs()[0]).entries(), "the file unlinked while open waits in journal 0's orphan directory");
        }
        byte[] before = digest(image);
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        FsckReport r;
        try (BlockDevice dev = FileBlockDevice.open(image, true, false)) {
            r = Fsck.check(dev, new PrintStream(progress, true, StandardCharsets.UTF_8));
        }
        assertTrue(r.isClean(), () -> r.summary() + "\n" + String.join("\n", r.problems().stream().map(Problem::toString).toList()));
        assertEquals(0, r.exitCode());
        assertNull(r.operationalError());
        assertTrue(r.files() >= 2000 + 7, r.summary());
        assertEquals(2, r.symlinks(), r.summary());
        assertEquals(3 + 3 + 19 + 1, r.directories(), r.summary());
        assertTrue(r.blocksUsed() > (6 << 20) / 4096, r.summary());
        assertTrue(progress.toString(StandardCharsets.UTF_8).contains("Pass 5"), progress.toString(StandardCharsets.UTF_8));
        assertArrayEquals(before, digest(image), "the check must not change the image");
    }

    /** Scattered writes grow the extent tree; the inode's block count includes the tree's blocks. */
    @Test
    @Timeout(60)
    void fileGrownByScatteredWritesKeepsItsBlockCount() throws Exception {
        Path image = Images.formatted(tmp, "scattered.img", 64L << 20);
        long ino;
        try (BlockDevice dev = FileBlockDevice.open(image, false, false); ConcordFs fs = Images.mount(dev)) {
            ino = fs.create(Caller.ROOT, fs.root(), "scattered", 0644).inode();
            for (int i = 0; i < 400; i++) {
                fs.write(Caller.ROOT, ino, (long) i * 2 * 4096, ByteBuffer.wrap(new byte[] {(byte) i}));
            }
        }
        FsckReport r = Images.check(image);
        assertTrue(r.isClean(), () -> r.summary() + "\n" + r.problems());
    }

    private static byte[] digest(Path image) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (var in = Files.newInputStream(image)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return md.digest();
    }
}
