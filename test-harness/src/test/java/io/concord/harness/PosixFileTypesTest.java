package io.concord.harness;

import static io.concord.harness.PosixSyscalls.EEXIST;
import static io.concord.harness.PosixSyscalls.EISDIR;
import static io.concord.harness.PosixSyscalls.ELOOP;
import static io.concord.harness.PosixSyscalls.ENAMETOOLONG;
import static io.concord.harness.PosixSyscalls.ENOENT;
import static io.concord.harness.PosixSyscalls.ENOTDIR;
import static io.concord.harness.PosixSyscalls.EPERM;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Creating each kind of inode through the mount — regular file, fifo, socket, character and block
 * device, directory, symbolic link — and the errors that creating and looking up names give:
 * EEXIST, ENOENT, ENOTDIR, EISDIR, ENAMETOOLONG, ELOOP, EPERM.
 */
@Timeout(60)
class PosixFileTypesTest {
    private static final PosixProcess.Identity USER = new PosixProcess.Identity(1000, 1000);

    @TempDir
    Path tmp;

    @Test
    void createMakesAnEmptyFileWithTheModeAskedAndExclusiveCreateOfAnExistingNameIsEexist() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path f = m.dir().resolve("new");
            int fd = PosixSyscalls.open(f, PosixSyscalls.O_CREAT | PosixSyscalls.O_EXCL | PosixSyscalls.O_WRONLY, 0640).expectOk("create").fd();
            PosixSyscalls.close(fd);
            PosixSyscalls.Stat st = PosixSyscalls.stat(f);
            assertEquals(PosixSyscalls.S_IFREG, st.type(), "a regular file");
            assertEquals(0640, st.permissions());
            assertEquals(0, st.size());
            assertEquals(1, st.nlink());
            assertEquals(0, st.uid());

            PosixSyscalls.open(f, PosixSyscalls.O_CREAT | PosixSyscalls.O_EXCL | PosixSyscalls.O_WRONLY, 0600).expectErrno(EEXIST,
                    "O_CREAT|O_EXCL of an existing file");
            int again = PosixSyscalls.open(f, PosixSyscalls.O_CREAT | PosixSyscalls.O_WRONLY, 0600).expectOk("O_CREAT of an existing file").fd();
            PosixSyscalls.close(again);
            assertEquals(0640, PosixSyscalls.stat(f).permissions(), "opening an existing file with O_CREAT keeps its mode");

            PosixSyscalls.open(m.dir().resolve("absent"), PosixSyscalls.O_RDONLY).expectErrno(ENOENT, "open of a missing file");
            PosixSyscalls.open(m.dir().resolve("nodir/x"), PosixSyscalls.O_CREAT | PosixSyscalls.O_WRONLY, 0644).expectErrno(ENOENT,
                    "create in a missing directory");
            PosixSyscalls.open(f.resolve("x"), PosixSyscalls.O_CREAT | PosixSyscalls.O_WRONLY, 0644).expectErrno(ENOTDIR,
                    "create under a regular file");
        }
    }

    @Test
    void aFifoIsCreatedAndCarriesDataBetweenTwoProcesses() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path fifo = m.dir().resolve("pipe");
            PosixSyscalls.mknod(fifo, PosixSyscalls.S_IFIFO | 0644, 0).expectOk("mknod fifo");
            assertEquals(PosixSyscalls.S_IFIFO, PosixSyscalls.stat(fifo).type());
            assertEquals(0644, PosixSyscalls.stat(fifo).permissions());
            PosixProcess.Outcome o = PosixProcess.sh(m.dir(), "echo through-the-fifo > pipe & cat pipe; wait");
            assertEquals(0, o.exit(), o.toString());
            assertEquals("through-the-fifo\n", o.out());

            PosixProcess.Outcome tool = PosixProcess.sh(m.dir(), "mkfifo pipe2 && stat -c %F pipe2");
            assertEquals("fifo\n", tool.out(), tool.toString());
            PosixSyscalls.mknod(fifo, PosixSyscalls.S_IFIFO | 0644, 0).expectErrno(EEXIST, "mknod over an existing name");
        }
    }

    @Test
    void aUnixSocketBoundInTheMountIsASocketInodeThatAcceptsConnections() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path sock = m.dir().resolve("s.sock");
            UnixDomainSocketAddress addr = UnixDomainSocketAddress.of(sock);
            try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                server.bind(addr);
                assertEquals(PosixSyscalls.S_IFSOCK, PosixSyscalls.lstat(sock).type(), "bind(2) made a socket inode");
                try (SocketChannel client = SocketChannel.open(addr); SocketChannel accepted = server.accept()) {
                    client.write(ByteBuffer.wrap("ping".getBytes(StandardCharsets.UTF_8)));
                    ByteBuffer in = ByteBuffer.allocate(4);
                    while (in.hasRemaining() && accepted.read(in) >= 0) {
                        // read all four bytes
                    }
                    assertEquals("ping", new String(in.array(), StandardCharsets.UTF_8));
                }
            }
            Path raw = m.dir().resolve("raw.sock");
            PosixSyscalls.mknod(raw, PosixSyscalls.S_IFSOCK | 0600, 0).expectOk("mknod socket");
            assertEquals(PosixSyscalls.S_IFSOCK, PosixSyscalls.lstat(raw).type());
        }
    }

    @Test
    void rootMakesCharacterAndBlockDevicesWhoseNumbersSurviveButTheMountIsNodev() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path chr = m.dir().resolve("null");
            Path blk = m.dir().resolve("loop");
            Path wide = m.dir().resolve("wide");
            PosixSyscalls.mknod(chr, PosixSyscalls.S_IFCHR | 0640, PosixSyscalls.makedev(1, 3)).expectOk("mknod c 1 3");
            PosixSyscalls.mknod(blk, PosixSyscalls.S_IFBLK | 0660, PosixSyscalls.makedev(7, 0)).expectOk("mknod b 7 0");
            PosixSyscalls.mknod(wide, PosixSyscalls.S_IFCHR | 0600, PosixSyscalls.makedev(300, 70000)).expectOk("mknod c 300 70000");

            PosixSyscalls.Stat c = PosixSyscalls.stat(chr);
            assertEquals(PosixSyscalls.S_IFCHR, c.type());
            assertEquals(0640, c.permissions());
            assertEquals(1, PosixSyscalls.major(c.rdev()));
            assertEquals(3, PosixSyscalls.minor(c.rdev()));
            PosixSyscalls.Stat b = PosixSyscalls.stat(blk);
            assertEquals(PosixSyscalls.S_IFBLK, b.type());
            assertEquals(7, PosixSyscalls.major(b.rdev()));
            assertEquals(0, PosixSyscalls.minor(b.rdev()));
            PosixSyscalls.Stat w = PosixSyscalls.stat(wide);
            assertEquals(300, PosixSyscalls.major(w.rdev()), "a major number above 255");
            assertEquals(70000, PosixSyscalls.minor(w.rdev()), "a minor number above 65535");
            PosixProcess.Outcome ls = PosixProcess.sh(m.dir(), "stat -c '%F %t %T' null loop");
            assertEquals("character special file 1 3\nblock special file 7 0\n", ls.out(), ls.toString());

            // The mount is always nodev: device nodes exist but do not open.
            PosixSyscalls.open(chr, PosixSyscalls.O_RDONLY).expectErrno(PosixSyscalls.EACCES, "open of a device on a nodev mount");

            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(m.dir(), PosixFilePermissions.fromString("rwxrwxrwx"));
            PosixProcess.Outcome user = PosixProcess.sh(USER, m.dir(), "mknod userdev c 1 3");
            assertTrue(user.exit() != 0, "a non-root user made a device: " + user);
            assertTrue(user.err().contains("Operation not permitted"), user.toString());
            assertFalse(Files.exists(m.dir().resolve("userdev"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
            PosixProcess.Outcome userFifo = PosixProcess.sh(USER, m.dir(), "mknod userfifo p && stat -c '%F %u' userfifo");
            assertEquals("fifo 1000\n", userFifo.out(), "a non-root user may make a fifo: " + userFifo);
        }
    }

    @Test
    void mkdirMakesADirectoryWithTwoLinksAndCountsItInItsParent() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path parent = m.dir().resolve("p");
            PosixSyscalls.mkdir(parent, 0755).expectOk("mkdir p");
            assertEquals(2, PosixSyscalls.stat(parent).nlink(), "an empty directory: its name and its '.'");
            PosixSyscalls.mkdir(parent.resolve("a"), 0750).expectOk("mkdir p/a");
            PosixSyscalls.mkdir(parent.resolve("b"), 0700).expectOk("mkdir p/b");
            Files.createFile(parent.resolve("file"));
            assertEquals(4, PosixSyscalls.stat(parent).nlink(), "2 + one '..' per subdirectory; files do not count");
            PosixSyscalls.Stat a = PosixSyscalls.stat(parent.resolve("a"));
            assertEquals(0040000, a.type());
            assertEquals(0750, a.permissions());
            assertEquals(PosixSyscalls.stat(parent).ino(), PosixSyscalls.stat(parent.resolve("a/..")).ino(), "'..' is the parent");
            assertEquals(a.ino(), PosixSyscalls.stat(parent.resolve("a/.")).ino(), "'.' is itself");

            PosixSyscalls.mkdir(parent.resolve("a"), 0755).expectErrno(EEXIST, "mkdir of an existing directory");
            PosixSyscalls.mkdir(parent.resolve("file"), 0755).expectErrno(EEXIST, "mkdir over an existing file");
            PosixSyscalls.mkdir(parent.resolve("missing/sub"), 0755).expectErrno(ENOENT, "mkdir under a missing directory");
            PosixSyscalls.mkdir(parent.resolve("file/sub"), 0755).expectErrno(ENOTDIR, "mkdir under a regular file");
            try (var s = Files.list(parent)) {
                assertEquals(List.of("a", "b", "file"), s.map(x -> x.getFileName().toString()).sorted().toList());
            }
        }
    }

    @Test
    void aSymlinkStoresItsTargetVerbatimAndIsFollowedOnlyWhereItShouldBe() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path dir = m.dir();
            Files.writeString(dir.resolve("target.txt"), "the target\n");
            PosixSyscalls.symlink("target.txt", dir.resolve("rel")).expectOk("symlink");
            PosixSyscalls.symlink(dir.resolve("target.txt").toString(), dir.resolve("abs")).expectOk("symlink absolute");
            PosixSyscalls.symlink("no/such/thing", dir.resolve("dangling")).expectOk("dangling symlink");

            assertEquals("target.txt", PosixSyscalls.readlink(dir.resolve("rel")).expectOk("readlink").text());
            assertEquals("the target\n", Files.readString(dir.resolve("rel")));
            assertEquals("the target\n", Files.readString(dir.resolve("abs")));
            PosixSyscalls.Stat l = PosixSyscalls.lstat(dir.resolve("rel"));
            assertEquals(0120000, l.type(), "lstat sees the link");
            assertEquals("target.txt".length(), l.size(), "a symlink's size is its target's length");
            assertEquals(PosixSyscalls.S_IFREG, PosixSyscalls.stat(dir.resolve("rel")).type(), "stat follows it");
            assertEquals("no/such/thing", PosixSyscalls.readlink(dir.resolve("dangling")).expectOk("readlink dangling").text());
            PosixSyscalls.open(dir.resolve("dangling"), PosixSyscalls.O_RDONLY).expectErrno(ENOENT, "open through a dangling symlink");
            PosixSyscalls.readlink(dir.resolve("target.txt")).expectErrno(PosixSyscalls.EINVAL, "readlink of a regular file");
            PosixSyscalls.symlink("elsewhere", dir.resolve("rel")).expectErrno(EEXIST, "symlink over an existing name");
            PosixSyscalls.open(dir.resolve("rel"), PosixSyscalls.O_RDONLY | PosixSyscalls.O_NOFOLLOW).expectErrno(ELOOP,
                    "O_NOFOLLOW on a symlink");

            // A target of PATH_MAX - 1 bytes, far beyond what fits in the inode, comes back whole.
            String longTarget = "x/".repeat(2047) + "y";
            assertEquals(4095, longTarget.length());
            PosixSyscalls.symlink(longTarget, dir.resolve("long")).expectOk("symlink with a 4095-byte target");
            assertEquals(longTarget, PosixSyscalls.readlink(dir.resolve("long")).expectOk("readlink long").text());
            assertEquals(4095, PosixSyscalls.lstat(dir.resolve("long")).size());
            PosixSyscalls.symlink("z".repeat(4096), dir.resolve("toolong")).expectErrno(ENAMETOOLONG, "a 4096-byte symlink target");
        }
    }

    @Test
    void symlinkLoopsAreEloop() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path dir = m.dir();
            PosixSyscalls.symlink("b", dir.resolve("a")).expectOk("a -> b");
            PosixSyscalls.symlink("a", dir.resolve("b")).expectOk("b -> a");
            PosixSyscalls.symlink("self", dir.resolve("self")).expectOk("self -> self");
            PosixSyscalls.open(dir.resolve("a"), PosixSyscalls.O_RDONLY).expectErrno(ELOOP, "open of a two-link loop");
            PosixSyscalls.open(dir.resolve("self"), PosixSyscalls.O_RDONLY).expectErrno(ELOOP, "open of a self loop");
            PosixSyscalls.open(dir.resolve("a/x"), PosixSyscalls.O_CREAT | PosixSyscalls.O_WRONLY, 0644).expectErrno(ELOOP,
                    "create below a loop");
            // A chain of 41 links is one too many to follow; 40 is allowed.
            Files.writeString(dir.resolve("end"), "end");
            PosixSyscalls.symlink("end", dir.resolve("c0")).expectOk("c0");
            for (int i = 1; i <= 40; i++) {
                PosixSyscalls.symlink("c" + (i - 1), dir.resolve("c" + i)).expectOk("c" + i);
            }
            assertEquals("end", Files.readString(dir.resolve("c39")), "40 links are followed");
            PosixSyscalls.open(dir.resolve("c40"), PosixSyscalls.O_RDONLY).expectErrno(ELOOP, "41 links");
        }
    }

    @Test
    void aNameOf255BytesIsAllowedAndOneOf256IsEnametoolongEverywhere() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path dir = m.dir();
            String ok = "n".repeat(255);
            String tooLong = "n".repeat(256);
            Files.writeString(dir.resolve(ok), "max");
            assertEquals("max", Files.readString(dir.resolve(ok)));
            try (var s = Files.list(dir)) {
                assertEquals(List.of(ok), s.map(p -> p.getFileName().toString()).toList());
            }
            // A 255-byte name in UTF-8 of two-byte characters is also fine.
            String wide = "é".repeat(127) + "x";
            assertEquals(255, wide.getBytes(StandardCharsets.UTF_8).length);
            Files.writeString(dir.resolve(wide), "wide");
            assertEquals("wide", Files.readString(dir.resolve(wide)));

            Path lp = dir.resolve(tooLong);
            PosixSyscalls.open(lp, PosixSyscalls.O_CREAT | PosixSyscalls.O_WRONLY, 0644).expectErrno(ENAMETOOLONG, "create");
            PosixSyscalls.open(lp, PosixSyscalls.O_RDONLY).expectErrno(ENAMETOOLONG, "open");
            PosixSyscalls.lstatResult(lp).expectErrno(ENAMETOOLONG, "lstat");
            PosixSyscalls.mkdir(lp, 0755).expectErrno(ENAMETOOLONG, "mkdir");
            PosixSyscalls.mknod(lp, PosixSyscalls.S_IFIFO | 0644, 0).expectErrno(ENAMETOOLONG, "mknod");
            PosixSyscalls.symlink("t", lp).expectErrno(ENAMETOOLONG, "symlink");
            PosixSyscalls.link(dir.resolve(ok), lp).expectErrno(ENAMETOOLONG, "link");
            PosixSyscalls.rename(dir.resolve(ok), lp).expectErrno(ENAMETOOLONG, "rename");
            PosixSyscalls.unlink(lp).expectErrno(ENAMETOOLONG, "unlink");
            assertTrue(Files.exists(dir.resolve(ok)), "the failed rename left the source");
        }
    }

    @Test
    void directoriesAndFilesRefuseTheOperationsOfTheOtherKind() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path dir = m.dir().resolve("d");
            Path file = m.dir().resolve("f");
            Files.createDirectory(dir);
            Files.writeString(file, "data");
            PosixSyscalls.open(dir, PosixSyscalls.O_WRONLY).expectErrno(EISDIR, "open a directory for writing");
            PosixSyscalls.open(dir, PosixSyscalls.O_RDWR).expectErrno(EISDIR, "open a directory read-write");
            PosixSyscalls.unlink(dir).expectErrno(EISDIR, "unlink of a directory");
            PosixSyscalls.truncate(dir, 0).expectErrno(EISDIR, "truncate of a directory");
            PosixSyscalls.rmdir(file).expectErrno(ENOTDIR, "rmdir of a file");
            PosixSyscalls.open(file, PosixSyscalls.O_RDONLY | PosixSyscalls.O_DIRECTORY).expectErrno(ENOTDIR, "O_DIRECTORY on a file");
            PosixSyscalls.lstatResult(m.dir().resolve("f/x")).expectErrno(ENOTDIR, "a file used as a directory");
            int fd = PosixSyscalls.open(dir, PosixSyscalls.O_RDONLY | PosixSyscalls.O_DIRECTORY).expectOk("open a directory to read").fd();
            PosixSyscalls.pread(fd, 16, 0).expectErrno(EISDIR, "read(2) of a directory");
            PosixSyscalls.close(fd);
            PosixSyscalls.link(dir, m.dir().resolve("dirlink")).expectErrno(EPERM, "hard link to a directory");
            assertTrue(Files.isDirectory(dir));
            assertEquals("data", Files.readString(file));
        }
    }

    @Test
    void missingNamesAreEnoentForEveryOperation() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path gone = m.dir().resolve("gone");
            PosixSyscalls.lstatResult(gone).expectErrno(ENOENT, "lstat");
            PosixSyscalls.unlink(gone).expectErrno(ENOENT, "unlink");
            PosixSyscalls.rmdir(gone).expectErrno(ENOENT, "rmdir");
            PosixSyscalls.rename(gone, m.dir().resolve("x")).expectErrno(ENOENT, "rename");
            PosixSyscalls.link(gone, m.dir().resolve("x")).expectErrno(ENOENT, "link");
            PosixSyscalls.readlink(gone).expectErrno(ENOENT, "readlink");
            PosixSyscalls.truncate(gone, 0).expectErrno(ENOENT, "truncate");
            PosixSyscalls.access(gone, PosixSyscalls.F_OK).expectErrno(ENOENT, "access");
            PosixSyscalls.getxattr(gone, "user.x").expectErrno(ENOENT, "getxattr");
            PosixSyscalls.chmod(gone, 0644).expectErrno(ENOENT, "chmod");
            assertArrayEquals(new String[0], m.dir().toFile().list(), "nothing was created");
        }
    }
}
