package io.concord.fs;

import static io.concord.fs.OpsFixtures.assertFails;
import static io.concord.fs.OpsFixtures.pattern;
import static io.concord.fs.OpsFixtures.readAll;
import static io.concord.fs.OpsFixtures.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.errors.FsException.Kind;
import io.concord.format.Inode;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Names and the inodes behind them: lookup, create, mknod, mkdir, unlink, rmdir, link, symlink. */
@Timeout(60)
class NamespaceOpsTest {
    private static final Caller ROOT = Caller.ROOT;
    private static final Caller ALICE = Caller.of(1000, 1000);

    @TempDir
    Path tmp;
    private OpsFixtures image;
    private ConcordFs fs;
    private long top;

    @BeforeEach
    void mount() throws Exception {
        image = OpsFixtures.mounted(tmp);
        fs = image.fs();
        top = fs.mkdir(ROOT, fs.root(), "pub", 0777).inode();
    }

    @AfterEach
    void unmount() {
        image.close();
    }

    // --- lookup and getattr

    @Test
    void lookupAndGetattrAgreeOnANewFileOwnedByItsCreator() {
        Attributes made = fs.create(ALICE, top, "f", 0640);
        Attributes found = fs.lookup(ALICE, top, "f");
        Attributes got = fs.getattr(made.inode());
        for (Attributes a : new Attributes[] {made, found, got}) {
            assertEquals(made.inode(), a.inode());
            assertEquals(Inode.S_IFREG | 0640, a.mode());
            assertEquals(1000, a.uid());
            assertEquals(1000, a.gid());
            assertEquals(1, a.nlink());
            assertEquals(0, a.size());
            assertTrue(a.isRegular());
        }
    }

    @Test
    void lookupOfAMissingNameIsNotFound() {
        assertFails(Kind.NOT_FOUND, () -> fs.lookup(ROOT, top, "nothing"));
    }

    @Test
    void lookupInsideAFileIsNotDirectory() {
        long f = fs.create(ROOT, top, "f", 0644).inode();
        assertFails(Kind.NOT_DIRECTORY, () -> fs.lookup(ROOT, f, "x"));
    }

    @Test
    void dotAndDotDotNameTheDirectoryAndItsParent() {
        long sub = fs.mkdir(ROOT, top, "sub", 0755).inode();
        assertEquals(sub, fs.lookup(ROOT, sub, ".").inode());
        assertEquals(top, fs.lookup(ROOT, sub, "..").inode());
        assertEquals(fs.root(), fs.lookup(ROOT, fs.root(), "..").inode(), "the root is its own parent");
    }

    @Test
    void getattrOfADeletedInodeIsStaleHandle() {
        long f = fs.create(ROOT, top, "f", 0644).inode();
        fs.unlink(ROOT, top, "f");
        assertFails(Kind.STALE_HANDLE, () -> fs.getattr(f));
    }

    // --- create and mknod

    @Test
    void secondCreateOfTheSameNameIsExistsAndLeavesTheFirst() {
        long f = fs.create(ROOT, top, "f", 0600).inode();
        write(fs, f, 0, new byte[] {1, 2, 3});
        assertFails(Kind.EXISTS, () -> fs.create(ROOT, top, "f", 0644));
        assertFails(Kind.EXISTS, () -> fs.mkdir(ROOT, top, "f", 0755));
        Attributes still = fs.lookup(ROOT, top, "f");
        assertEquals(f, still.inode());
        assertEquals(Inode.S_IFREG | 0600, still.mode());
        assertEquals(3, still.size());
    }

    @Test
    void createOfDotIsExists() {
        assertFails(Kind.EXISTS, () -> fs.create(ROOT, top, ".", 0644));
        assertFails(Kind.EXISTS, () -> fs.mkdir(ROOT, top, "..", 0755));
    }

    @Test
    void fifoAndSocketNodesHaveTheirTypeAndNoDeviceNumber() {
        Attributes fifo = fs.mknod(ALICE, top, "fifo", Inode.S_IFIFO | 0620, 1234);
        Attributes sock = fs.mknod(ALICE, top, "sock", Inode.S_IFSOCK | 0755, 0);
        assertEquals(Inode.S_IFIFO | 0620, fs.lookup(ALICE, top, "fifo").mode());
        assertEquals(Inode.S_IFSOCK | 0755, fs.lookup(ALICE, top, "sock").mode());
        assertEquals(0, fifo.rdev(), "a FIFO has no device number");
        assertEquals(0, sock.rdev());
        assertEquals(1000, fifo.uid());
    }

    @Test
    void characterAndBlockDevicesKeepTheirDeviceNumber() {
        long chr = (1L << 8) | 3; // 1:3, /dev/null
        long blk = (8L << 8) | 16;
        fs.mknod(ROOT, top, "null", Inode.S_IFCHR | 0666, chr);
        fs.mknod(ROOT, top, "sdb", Inode.S_IFBLK | 0660, blk);
        Attributes c = fs.lookup(ROOT, top, "null");
        Attributes b = fs.lookup(ROOT, top, "sdb");
        assertEquals(Inode.S_IFCHR, c.type());
        assertEquals(chr, c.rdev());
        assertEquals(Inode.S_IFBLK, b.type());
        assertEquals(blk, b.rdev());
    }

    @Test
    void nonRootCreatingADeviceIsNotPermittedAndLeavesNoEntry() {
        assertFails(Kind.NOT_PERMITTED, () -> fs.mknod(ALICE, top, "c", Inode.S_IFCHR | 0666, 259));
        assertFails(Kind.NOT_PERMITTED, () -> fs.mknod(ALICE, top, "b", Inode.S_IFBLK | 0666, 259));
        assertFails(Kind.NOT_FOUND, () -> fs.lookup(ROOT, top, "c"));
        assertFails(Kind.NOT_FOUND, () -> fs.lookup(ROOT, top, "b"));
    }

    @Test
    void mknodOfADirectoryTypeIsInvalidArgument() {
        assertFails(Kind.INVALID_ARGUMENT, () -> fs.mknod(ROOT, top, "d", Inode.S_IFDIR | 0755, 0));
        assertFails(Kind.INVALID_ARGUMENT, () -> fs.mknod(ROOT, top, "l", Inode.S_IFLNK | 0777, 0));
    }

    @Test
    void mknodWithoutATypeMakesARegularFile() {
        Attributes a = fs.mknod(ROOT, top, "plain", 0644, 0);
        assertTrue(a.isRegular());
    }

    // --- mkdir

    @Test
    void newDirectoryHasTwoLinksAndItsParentGainsOne() {
        int before = fs.getattr(top).nlink();
        Attributes d = fs.mkdir(ALICE, top, "d", 0750);
        assertEquals(2, d.nlink());
        assertEquals(Inode.S_IFDIR | 0750, d.mode());
        assertEquals(before + 1, fs.getattr(top).nlink());
        assertEquals(2, fs.getattr(d.inode()).nlink());
    }

    @Test
    void parentLinkCountCountsSubdirectoriesNotFiles() {
        long p = fs.mkdir(ROOT, top, "p", 0755).inode();
        for (int i = 0; i < 5; i++) {
            fs.mkdir(ROOT, p, "d" + i, 0755);
            fs.create(ROOT, p, "f" + i, 0644);
        }
        assertEquals(2 + 5, fs.getattr(p).nlink());
    }

    // --- unlink and rmdir

    @Test
    void unlinkRemovesTheNameAndTheInode() {
        long f = fs.create(ROOT, top, "f", 0644).inode();
        write(fs, f, 0, pattern(10_000, 1));
        fs.unlink(ROOT, top, "f");
        assertFails(Kind.NOT_FOUND, () -> fs.lookup(ROOT, top, "f"));
        assertFails(Kind.STALE_HANDLE, () -> fs.getattr(f));
    }

    @Test
    void unlinkOfAMissingNameIsNotFound() {
        assertFails(Kind.NOT_FOUND, () -> fs.unlink(ROOT, top, "ghost"));
    }

    @Test
    void unlinkOfADirectoryIsIsDirectory() {
        long d = fs.mkdir(ROOT, top, "d", 0755).inode();
        assertFails(Kind.IS_DIRECTORY, () -> fs.unlink(ROOT, top, "d"));
        assertEquals(d, fs.lookup(ROOT, top, "d").inode());
    }

    @Test
    void rmdirOfAnEmptyDirectoryRemovesItAndDropsTheParentLink() {
        int before = fs.getattr(top).nlink();
        long d = fs.mkdir(ROOT, top, "d", 0755).inode();
        fs.rmdir(ROOT, top, "d");
        assertEquals(before, fs.getattr(top).nlink());
        assertFails(Kind.NOT_FOUND, () -> fs.lookup(ROOT, top, "d"));
        assertFails(Kind.STALE_HANDLE, () -> fs.getattr(d));
    }

    @Test
    void rmdirOfANonEmptyDirectoryIsNotEmpty() {
        long d = fs.mkdir(ROOT, top, "d", 0755).inode();
        fs.create(ROOT, d, "inside", 0644);
        assertFails(Kind.NOT_EMPTY, () -> fs.rmdir(ROOT, top, "d"));
        assertEquals(d, fs.lookup(ROOT, top, "d").inode());
        fs.unlink(ROOT, d, "inside");
        fs.rmdir(ROOT, top, "d");
        assertFails(Kind.NOT_FOUND, () -> fs.lookup(ROOT, top, "d"));
    }

    @Test
    void rmdirOfAFileIsNotDirectory() {
        fs.create(ROOT, top, "f", 0644);
        assertFails(Kind.NOT_DIRECTORY, () -> fs.rmdir(ROOT, top, "f"));
        assertTrue(fs.lookup(ROOT, top, "f").isRegular());
    }

    @Test
    void rmdirOfDotIsInvalidArgument() {
        assertFails(Kind.INVALID_ARGUMENT, () -> fs.rmdir(ROOT, top, "."));
    }

    // --- link

    @Test
    void hardLinkAcrossDirectoriesSharesOneInode() {
        long a = fs.mkdir(ROOT, top, "a", 0755).inode();
        long b = fs.mkdir(ROOT, top, "b", 0755).inode();
        long f = fs.create(ROOT, a, "orig", 0644).inode();
        byte[] data = pattern(9000, 2);
        write(fs, f, 0, data);
        Attributes linked = fs.link(ROOT, f, b, "alias");
        assertEquals(f, linked.inode());
        assertEquals(2, linked.nlink());
        assertEquals(f, fs.lookup(ROOT, b, "alias").inode());
        assertEquals(2, fs.lookup(ROOT, a, "orig").nlink());
        assertEquals(2, fs.getattr(a).nlink(), "a file link does not count in the directory's nlink");

        fs.unlink(ROOT, a, "orig");
        Attributes left = fs.lookup(ROOT, b, "alias");
        assertEquals(1, left.nlink());
        assertArrayEquals(data, readAll(fs, f));
    }

    @Test
    void threeLinksCountThreeAndUnlinkCountsDown() {
        long f = fs.create(ROOT, top, "l0", 0644).inode();
        fs.link(ROOT, f, top, "l1");
        fs.link(ROOT, f, fs.root(), "l2");
        assertEquals(3, fs.getattr(f).nlink());
        fs.unlink(ROOT, top, "l1");
        assertEquals(2, fs.getattr(f).nlink());
        fs.unlink(ROOT, fs.root(), "l2");
        fs.unlink(ROOT, top, "l0");
        assertFails(Kind.STALE_HANDLE, () -> fs.getattr(f));
    }

    @Test
    void hardLinkToADirectoryIsNotPermitted() {
        long d = fs.mkdir(ROOT, top, "d", 0755).inode();
        assertFails(Kind.NOT_PERMITTED, () -> fs.link(ROOT, d, fs.root(), "dlink"));
        assertEquals(2, fs.getattr(d).nlink());
        assertFails(Kind.NOT_FOUND, () -> fs.lookup(ROOT, fs.root(), "dlink"));
    }

    @Test
    void hardLinkOntoAnExistingNameIsExists() {
        long f = fs.create(ROOT, top, "f", 0644).inode();
        long g = fs.create(ROOT, top, "g", 0644).inode();
        assertFails(Kind.EXISTS, () -> fs.link(ROOT, f, top, "g"));
        assertEquals(g, fs.lookup(ROOT, top, "g").inode());
        assertEquals(1, fs.getattr(f).nlink());
    }

    // --- symlink and readlink

    @Test
    void shortSymlinkReadsBackItsTarget() {
        Attributes l = fs.symlink(ALICE, top, "l", "../some/where");
        assertTrue(l.isSymlink());
        assertEquals(Inode.S_IFLNK | 0777, l.mode());
        assertEquals("../some/where".length(), l.size());
        assertEquals("../some/where", fs.readlink(fs.lookup(ALICE, top, "l").inode()));
    }

    @Test
    void fourThousandByteSymlinkTargetReadsBackWhole() {
        String target = longPath(4000);
        Attributes l = fs.symlink(ROOT, top, "long", target);
        assertEquals(4000, l.size());
        assertEquals(target, fs.readlink(l.inode()));
    }

    @Test
    void symlinkTargetOf4095BytesIsAcceptedAndLongerIsNameTooLong() {
        String max = longPath(4095);
        long l = fs.symlink(ROOT, top, "max", max).inode();
        assertEquals(max, fs.readlink(l));
        assertFails(Kind.NAME_TOO_LONG, () -> fs.symlink(ROOT, top, "over", longPath(4096)));
        assertFails(Kind.NOT_FOUND, () -> fs.lookup(ROOT, top, "over"));
    }

    @Test
    void readlinkOfARegularFileIsInvalidArgument() {
        long f = fs.create(ROOT, top, "f", 0644).inode();
        assertFails(Kind.INVALID_ARGUMENT, () -> fs.readlink(f));
    }

    @Test
    void unlinkOfALongSymlinkFreesItsBlocks() {
        long free = fs.statfs().freeBlocks();
        fs.symlink(ROOT, top, "long", longPath(4000));
        assertTrue(fs.statfs().freeBlocks() < free);
        fs.unlink(ROOT, top, "long");
        assertEquals(free, fs.statfs().freeBlocks());
    }

    // --- names

    @Test
    void nameOf255BytesIsAcceptedAnd256IsNameTooLong() {
        String ok = "n".repeat(255);
        String tooLong = "n".repeat(256);
        long f = fs.create(ROOT, top, ok, 0644).inode();
        assertEquals(f, fs.lookup(ROOT, top, ok).inode());
        assertFails(Kind.NAME_TOO_LONG, () -> fs.create(ROOT, top, tooLong, 0644));
        assertFails(Kind.NAME_TOO_LONG, () -> fs.mkdir(ROOT, top, tooLong, 0755));
        assertFails(Kind.NAME_TOO_LONG, () -> fs.symlink(ROOT, top, tooLong, "x"));
        assertFails(Kind.NAME_TOO_LONG, () -> fs.link(ROOT, f, top, tooLong));
        assertFails(Kind.NAME_TOO_LONG, () -> fs.lookup(ROOT, top, tooLong));
        assertFails(Kind.NAME_TOO_LONG, () -> fs.rename(ROOT, top, ok, top, tooLong, 0));
    }

    @Test
    void nameLengthIsCountedInUtf8Bytes() {
        String twoByteChars = "é".repeat(128); // 128 characters, 256 bytes
        assertFails(Kind.NAME_TOO_LONG, () -> fs.create(ROOT, top, twoByteChars, 0644));
        String fits = "é".repeat(127) + "e"; // 255 bytes
        long f = fs.create(ROOT, top, fits, 0644).inode();
        assertEquals(f, fs.lookup(ROOT, top, fits).inode());
    }

    @Test
    void nameWithASlashIsInvalidArgument() {
        assertFails(Kind.INVALID_ARGUMENT, () -> fs.create(ROOT, top, "a/b", 0644));
        assertFails(Kind.INVALID_ARGUMENT, () -> fs.mkdir(ROOT, top, "a/b", 0755));
        assertFails(Kind.INVALID_ARGUMENT, () -> fs.symlink(ROOT, top, "a/b", "t"));
        assertFails(Kind.INVALID_ARGUMENT, () -> fs.lookup(ROOT, top, "a/b"));
        assertFails(Kind.INVALID_ARGUMENT, () -> fs.mknod(ROOT, top, "a/b", Inode.S_IFIFO | 0644, 0));
        assertFalse(fs.readdir(ROOT, top, 2, 10).stream().anyMatch(e -> e.name().contains("/")));
    }

    @Test
    void emptyNameIsNotFound() {
        assertFails(Kind.NOT_FOUND, () -> fs.create(ROOT, top, "", 0644));
        assertFails(Kind.NOT_FOUND, () -> fs.lookup(ROOT, top, ""));
    }

    /** A path of exactly {@code bytes} bytes made of 9-byte components and a tail. */
    static String longPath(int bytes) {
        StringBuilder b = new StringBuilder();
        int k = 0;
        while (b.length() < bytes) {
            b.append(String.format("c%07d/", k++));
        }
        b.setLength(bytes);
        if (b.charAt(bytes - 1) == '/') {
            b.setCharAt(bytes - 1, 'z');
        }
        return b.toString();
    }
}
