package io.concord.harness;

import static io.concord.harness.PosixSyscalls.EEXIST;
import static io.concord.harness.PosixSyscalls.EINVAL;
import static io.concord.harness.PosixSyscalls.EISDIR;
import static io.concord.harness.PosixSyscalls.ENOENT;
import static io.concord.harness.PosixSyscalls.ENOTDIR;
import static io.concord.harness.PosixSyscalls.ENOTEMPTY;
import static io.concord.harness.PosixSyscalls.EPERM;
import static io.concord.harness.PosixSyscalls.RENAME_EXCHANGE;
import static io.concord.harness.PosixSyscalls.RENAME_NOREPLACE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operations on names: unlink, rmdir, rename (plain, over a file or an empty directory, across
 * directories, RENAME_NOREPLACE, RENAME_EXCHANGE) and link, with the link counts and ".." they
 * must keep right and the errors they must give.
 */
@Timeout(60)
class PosixNamespaceTest {
    @TempDir
    Path tmp;

    private static List<String> names(Path dir) throws Exception {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void unlinkRemovesOneNameAndTheInodeLivesWhileAnotherNameRemains() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path a = m.dir().resolve("a");
            Path b = m.dir().resolve("b");
            Files.writeString(a, "shared");
            PosixSyscalls.link(a, b).expectOk("link");
            assertEquals(2, PosixSyscalls.stat(a).nlink());
            PosixSyscalls.unlink(a).expectOk("unlink a");
            PosixSyscalls.lstatResult(a).expectErrno(ENOENT, "the unlinked name");
            assertEquals(1, PosixSyscalls.stat(b).nlink(), "the other name's link count went down");
            assertEquals("shared", Files.readString(b));
            PosixSyscalls.unlink(b).expectOk("unlink b");
            assertEquals(List.of(), names(m.dir()));
            PosixSyscalls.unlink(b).expectErrno(ENOENT, "unlink twice");
        }
    }

    @Test
    void unlinkRemovesEveryKindOfInodeAndFreesIt() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path dir = m.dir();
            long free = m.filesystem().statfs().freeBlocks();
            Files.writeString(dir.resolve("file"), "data");
            PosixSyscalls.mknod(dir.resolve("fifo"), PosixSyscalls.S_IFIFO | 0644, 0).expectOk("fifo");
            PosixSyscalls.mknod(dir.resolve("sock"), PosixSyscalls.S_IFSOCK | 0644, 0).expectOk("socket");
            PosixSyscalls.mknod(dir.resolve("chr"), PosixSyscalls.S_IFCHR | 0644, PosixSyscalls.makedev(1, 3)).expectOk("char device");
            PosixSyscalls.mknod(dir.resolve("blk"), PosixSyscalls.S_IFBLK | 0644, PosixSyscalls.makedev(7, 0)).expectOk("block device");
            PosixSyscalls.symlink("t".repeat(4000), dir.resolve("longlink")).expectOk("a symlink too long to keep in the inode");
            Files.createDirectory(dir.resolve("dir"));
            for (String n : List.of("file", "fifo", "sock", "chr", "blk", "longlink")) {
                PosixSyscalls.unlink(dir.resolve(n)).expectOk("unlink " + n);
                PosixSyscalls.lstatResult(dir.resolve(n)).expectErrno(ENOENT, n + " is gone");
            }
            PosixSyscalls.rmdir(dir.resolve("dir")).expectOk("rmdir");
            assertEquals(List.of(), names(dir));
            Files.writeString(dir.resolve("after"), "still working");
            assertEquals("still working", Files.readString(dir.resolve("after")));
            PosixSyscalls.unlink(dir.resolve("after")).expectOk("unlink after");
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (m.filesystem().statfs().freeBlocks() < free && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(free, m.filesystem().statfs().freeBlocks(), "every inode and block came back");
        }
    }

    @Test
    void unlinkOfASymlinkRemovesTheLinkAndLeavesItsTarget() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path dir = m.dir();
            Files.writeString(dir.resolve("target"), "target data");
            PosixSyscalls.symlink("target", dir.resolve("link")).expectOk("symlink");
            PosixSyscalls.unlink(dir.resolve("link")).expectOk("unlink of a symlink");
            PosixSyscalls.lstatResult(dir.resolve("link")).expectErrno(ENOENT, "the link is gone");
            assertEquals("target data", Files.readString(dir.resolve("target")), "its target is untouched");
            PosixSyscalls.symlink("target", dir.resolve("link")).expectOk("the name can be used again");
            assertEquals("target data", Files.readString(dir.resolve("link")));
        }
    }

    @Test
    void renameOverASymlinkReplacesTheLink() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path dir = m.dir();
            Files.writeString(dir.resolve("target"), "target data");
            PosixSyscalls.symlink("target", dir.resolve("link")).expectOk("symlink");
            Files.writeString(dir.resolve("new"), "new data");
            PosixSyscalls.rename(dir.resolve("new"), dir.resolve("link")).expectOk("rename over a symlink");
            assertEquals(PosixSyscalls.S_IFREG, PosixSyscalls.lstat(dir.resolve("link")).type(), "the name is now the regular file");
            assertEquals("new data", Files.readString(dir.resolve("link")));
            assertEquals("target data", Files.readString(dir.resolve("target")), "the old link's target is untouched");
            assertEquals(List.of("link", "target"), names(dir));
        }
    }

    @Test
    void rmdirRemovesOnlyEmptyDirectoriesAndCountsDownItsParent() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path p = Files.createDirectory(m.dir().resolve("p"));
            Path full = Files.createDirectory(p.resolve("full"));
            Path empty = Files.createDirectory(p.resolve("empty"));
            Files.writeString(full.resolve("x"), "x");
            assertEquals(4, PosixSyscalls.stat(p).nlink());
            PosixSyscalls.rmdir(full).expectErrno(ENOTEMPTY, "rmdir of a directory with a file");
            PosixSyscalls.rmdir(p.resolve("empty/.")).expectErrno(EINVAL, "rmdir of '.'");
            PosixSyscalls.rmdir(empty).expectOk("rmdir of an empty directory");
            assertEquals(3, PosixSyscalls.stat(p).nlink(), "the parent lost the '..' of the removed directory");
            PosixSyscalls.unlink(full.resolve("x")).expectOk("empty it");
            PosixSyscalls.rmdir(full).expectOk("rmdir once empty");
            assertEquals(2, PosixSyscalls.stat(p).nlink());
            assertEquals(List.of(), names(p));
        }
    }

    @Test
    void renameWithinADirectoryMovesTheSameInode() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path from = m.dir().resolve("from");
            Path to = m.dir().resolve("to");
            Files.writeString(from, "payload");
            long ino = PosixSyscalls.stat(from).ino();
            PosixSyscalls.rename(from, to).expectOk("rename");
            assertEquals(List.of("to"), names(m.dir()));
            assertEquals(ino, PosixSyscalls.stat(to).ino(), "the inode moved, not a copy");
            assertEquals("payload", Files.readString(to));
            PosixSyscalls.rename(m.dir().resolve("from"), to).expectErrno(ENOENT, "rename of a missing source");
            PosixSyscalls.rename(to, to).expectOk("rename onto itself");
            assertEquals("payload", Files.readString(to));
        }
    }

    @Test
    void renameOverAnExistingFileReplacesItAndTheOldFileLivesOnlyInItsOpenDescriptor() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path src = m.dir().resolve("src");
            Path dst = m.dir().resolve("dst");
            Files.writeString(src, "new contents");
            Files.writeString(dst, "old contents");
            long srcIno = PosixSyscalls.stat(src).ino();
            try (FileChannel old = FileChannel.open(dst, StandardOpenOption.READ)) {
                PosixSyscalls.rename(src, dst).expectOk("rename over a file");
                assertEquals(List.of("dst"), names(m.dir()));
                assertEquals(srcIno, PosixSyscalls.stat(dst).ino());
                assertEquals("new contents", Files.readString(dst));
                ByteBuffer b = ByteBuffer.allocate(64);
                old.read(b, 0);
                assertEquals("old contents", new String(b.array(), 0, b.position(), StandardCharsets.UTF_8),
                        "the replaced file is still readable through a descriptor opened before");
            }
        }
    }

    @Test
    void renameOfADirectoryReplacesOnlyAnEmptyDirectoryAndNeverCrossesTypes() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path d = Files.createDirectory(m.dir().resolve("d"));
            Files.writeString(d.resolve("inside"), "i");
            Path empty = Files.createDirectory(m.dir().resolve("empty"));
            Path full = Files.createDirectory(m.dir().resolve("full"));
            Files.writeString(full.resolve("f"), "f");
            Path file = m.dir().resolve("file");
            Files.writeString(file, "file");
            long rootLinks = PosixSyscalls.stat(m.dir()).nlink();

            PosixSyscalls.rename(d, full).expectErrno(ENOTEMPTY, "rename over a non-empty directory");
            PosixSyscalls.rename(d, file).expectErrno(ENOTDIR, "rename of a directory over a file");
            PosixSyscalls.rename(file, empty).expectErrno(EISDIR, "rename of a file over a directory");
            PosixSyscalls.rename(d, d.resolve("sub")).expectErrno(EINVAL, "rename of a directory into itself");
            Files.createDirectory(d.resolve("child"));
            PosixSyscalls.rename(d, d.resolve("child/grandchild")).expectErrno(EINVAL, "rename of a directory below itself");
            assertEquals(List.of("d", "empty", "file", "full"), names(m.dir()), "failed renames changed nothing");

            long dIno = PosixSyscalls.stat(d).ino();
            PosixSyscalls.rename(d, empty).expectOk("rename over an empty directory");
            assertEquals(List.of("empty", "file", "full"), names(m.dir()));
            assertEquals(dIno, PosixSyscalls.stat(empty).ino());
            assertEquals(List.of("child", "inside"), names(empty));
            assertEquals(rootLinks - 1, PosixSyscalls.stat(m.dir()).nlink(), "one subdirectory fewer in the root");
        }
    }

    @Test
    void renameAcrossDirectoriesMovesFilesAndDirectoriesAndFixesDotDotAndLinkCounts() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path one = Files.createDirectory(m.dir().resolve("one"));
            Path two = Files.createDirectory(m.dir().resolve("two"));
            Files.writeString(one.resolve("f"), "file");
            Path sub = Files.createDirectory(one.resolve("sub"));
            Files.writeString(sub.resolve("deep"), "deep");
            assertEquals(3, PosixSyscalls.stat(one).nlink());
            assertEquals(2, PosixSyscalls.stat(two).nlink());

            PosixSyscalls.rename(one.resolve("f"), two.resolve("g")).expectOk("move a file");
            PosixSyscalls.rename(sub, two.resolve("sub")).expectOk("move a directory");
            assertEquals(List.of(), names(one));
            assertEquals(List.of("g", "sub"), names(two));
            assertEquals("file", Files.readString(two.resolve("g")));
            assertEquals("deep", Files.readString(two.resolve("sub/deep")));
            assertEquals(2, PosixSyscalls.stat(one).nlink(), "the source lost a subdirectory");
            assertEquals(3, PosixSyscalls.stat(two).nlink(), "the target gained one");
            assertEquals(PosixSyscalls.stat(two).ino(), PosixSyscalls.stat(two.resolve("sub/..")).ino(), "'..' follows the move");
            PosixProcess.Outcome o = PosixProcess.sh(two.resolve("sub"), "cd .. && pwd -P && ls");
            assertEquals(two.toString() + "\ng\nsub\n", o.out(), o.toString());
            PosixSyscalls.rmdir(one).expectOk("the emptied source directory is removable");
        }
    }

    @Test
    void renameNoreplaceRefusesAnExistingTargetAndOtherwiseRenames() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path a = m.dir().resolve("a");
            Path b = m.dir().resolve("b");
            Files.writeString(a, "A");
            Files.writeString(b, "B");
            PosixSyscalls.renameat2(a, b, RENAME_NOREPLACE).expectErrno(EEXIST, "RENAME_NOREPLACE onto an existing file");
            assertEquals("A", Files.readString(a));
            assertEquals("B", Files.readString(b));
            Files.createDirectory(m.dir().resolve("dir"));
            PosixSyscalls.renameat2(a, m.dir().resolve("dir"), RENAME_NOREPLACE).expectErrno(EEXIST, "RENAME_NOREPLACE onto a directory");
            PosixSyscalls.renameat2(a, m.dir().resolve("c"), RENAME_NOREPLACE).expectOk("RENAME_NOREPLACE onto a free name");
            assertEquals(List.of("b", "c", "dir"), names(m.dir()));
            assertEquals("A", Files.readString(m.dir().resolve("c")));
            PosixSyscalls.renameat2(a, m.dir().resolve("d"), RENAME_NOREPLACE).expectErrno(ENOENT, "RENAME_NOREPLACE of a missing source");
            PosixSyscalls.renameat2(b, m.dir().resolve("e"), RENAME_NOREPLACE | RENAME_EXCHANGE).expectErrno(EINVAL,
                    "NOREPLACE and EXCHANGE together");
        }
    }

    @Test
    void renameExchangeSwapsTwoNamesAtomicallyEvenAFileWithADirectoryAcrossDirectories() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path a = m.dir().resolve("a");
            Path b = m.dir().resolve("b");
            Files.writeString(a, "A");
            Files.writeString(b, "B");
            long aIno = PosixSyscalls.stat(a).ino();
            long bIno = PosixSyscalls.stat(b).ino();
            PosixSyscalls.renameat2(a, b, RENAME_EXCHANGE).expectOk("exchange two files");
            assertEquals("B", Files.readString(a));
            assertEquals("A", Files.readString(b));
            assertEquals(bIno, PosixSyscalls.stat(a).ino());
            assertEquals(aIno, PosixSyscalls.stat(b).ino());

            Path left = Files.createDirectory(m.dir().resolve("left"));
            Path right = Files.createDirectory(m.dir().resolve("right"));
            Path dir = Files.createDirectory(left.resolve("x"));
            Files.writeString(dir.resolve("in-dir"), "D");
            Files.writeString(right.resolve("y"), "F");
            PosixSyscalls.renameat2(left.resolve("x"), right.resolve("y"), RENAME_EXCHANGE).expectOk("exchange a directory with a file");
            assertTrue(Files.isRegularFile(left.resolve("x")));
            assertEquals("F", Files.readString(left.resolve("x")));
            assertTrue(Files.isDirectory(right.resolve("y")));
            assertEquals("D", Files.readString(right.resolve("y/in-dir")));
            assertEquals(2, PosixSyscalls.stat(left).nlink(), "left lost its subdirectory");
            assertEquals(3, PosixSyscalls.stat(right).nlink(), "right gained one");
            assertEquals(PosixSyscalls.stat(right).ino(), PosixSyscalls.stat(right.resolve("y/..")).ino(), "the directory's '..' moved");

            PosixSyscalls.renameat2(a, m.dir().resolve("nothing"), RENAME_EXCHANGE).expectErrno(ENOENT, "exchange with a missing name");
            assertEquals("B", Files.readString(a), "a failed exchange changed nothing");
            PosixSyscalls.renameat2(right, right.resolve("y"), RENAME_EXCHANGE).expectErrno(EINVAL, "exchange a directory with its own child");
        }
    }

    @Test
    void hardLinksAcrossDirectoriesShareOneInodeAndCountTheirNames() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path d1 = Files.createDirectory(m.dir().resolve("d1"));
            Path d2 = Files.createDirectory(m.dir().resolve("d2"));
            Path orig = d1.resolve("orig");
            Files.writeString(orig, "v1");
            PosixSyscalls.link(orig, d2.resolve("alias")).expectOk("link across directories");
            PosixSyscalls.link(orig, d1.resolve("second")).expectOk("link in the same directory");
            PosixSyscalls.Stat s = PosixSyscalls.stat(orig);
            assertEquals(3, s.nlink());
            assertEquals(s.ino(), PosixSyscalls.stat(d2.resolve("alias")).ino());
            assertEquals(3, PosixSyscalls.stat(d2.resolve("alias")).nlink());
            PosixProcess.Outcome ls = PosixProcess.sh(m.dir(), "stat -c %h d1/orig d2/alias d1/second");
            assertEquals("3\n3\n3\n", ls.out(), ls.toString());

            Files.writeString(d2.resolve("alias"), "v2 via the alias");
            assertEquals("v2 via the alias", Files.readString(orig), "one inode: a write through one name shows in the other");

            PosixSyscalls.link(orig, d2.resolve("alias")).expectErrno(EEXIST, "link onto an existing name");
            PosixSyscalls.link(d1.resolve("missing"), d2.resolve("x")).expectErrno(ENOENT, "link of a missing file");
            PosixSyscalls.link(d1, d2.resolve("dirlink")).expectErrno(EPERM, "link of a directory");
            PosixSyscalls.link(orig, d2.resolve("nodir/x")).expectErrno(ENOENT, "link into a missing directory");

            // rename(2) between two names of the same inode does nothing, as POSIX says.
            PosixSyscalls.rename(orig, d1.resolve("second")).expectOk("rename onto another link of itself");
            assertTrue(Files.exists(orig) && Files.exists(d1.resolve("second")));
            assertEquals(3, PosixSyscalls.stat(orig).nlink());

            PosixSyscalls.unlink(orig).expectOk("unlink");
            PosixSyscalls.unlink(d1.resolve("second")).expectOk("unlink");
            assertEquals(1, PosixSyscalls.stat(d2.resolve("alias")).nlink());
            assertEquals("v2 via the alias", Files.readString(d2.resolve("alias")));
            assertFalse(Files.exists(orig));
        }
    }
}
