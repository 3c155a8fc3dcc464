package io.concord.harness;

import static io.concord.harness.PosixSyscalls.EACCES;
import static io.concord.harness.PosixSyscalls.EEXIST;
import static io.concord.harness.PosixSyscalls.ENODATA;
import static io.concord.harness.PosixSyscalls.EOPNOTSUPP;
import static io.concord.harness.PosixSyscalls.EPERM;
import static io.concord.harness.PosixSyscalls.XATTR_CREATE;
import static io.concord.harness.PosixSyscalls.XATTR_REPLACE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What is said about files rather than in them: statfs, extended attributes (set, get, list,
 * remove, their flags and errors, and who may touch which namespace), access(2), chmod, chown and
 * timestamps.
 */
@Timeout(90)
class PosixMetadataTest {
    private static final int MIB = 1 << 20;
    private static final PosixProcess.Identity OWNER = new PosixProcess.Identity(1000, 1000);
    private static final PosixProcess.Identity STRANGER = new PosixProcess.Identity(1001, 1001);

    @TempDir
    Path tmp;

    @Test
    void statfsReportsTheSizeFreeSpaceAndNameLengthAndFreeSpaceFollowsWrites() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            FileStore store = Files.getFileStore(m.dir());
            long total = store.getTotalSpace();
            long free = store.getUnallocatedSpace();
            assertTrue(total > 900L * MIB && total <= 1024L * MIB, "a 1 GiB image, less superblock and journals: " + total);
            assertTrue(free > 0 && free <= total, "free " + free + " of " + total);
            assertEquals(free, store.getUsableSpace(), "no space is reserved for root");

            PosixProcess.Outcome df = PosixProcess.sh(m.dir(), "df -B1 --output=size,avail . | tail -1; stat -f -c '%l %S %t' .");
            assertEquals(0, df.exit(), df.toString());
            List<String> lines = df.out().lines().toList();
            String[] sizes = lines.get(0).trim().split("\\s+");
            assertEquals(total, Long.parseLong(sizes[0]), "df and FileStore agree on the size");
            assertEquals(255, Integer.parseInt(lines.get(1).split(" ")[0]), "the longest name");
            assertEquals(4096, Integer.parseInt(lines.get(1).split(" ")[1]), "the fundamental block size");
            assertEquals("65735546", lines.get(1).split(" ")[2], "f_type is FUSE_SUPER_MAGIC");

            Path f = m.dir().resolve("sixteen");
            Files.write(f, new byte[16 * MIB]);
            long afterWrite = Files.getFileStore(m.dir()).getUnallocatedSpace();
            assertTrue(afterWrite <= free - 16L * MIB, "16 MiB written: free went from " + free + " to " + afterWrite);
            Files.delete(f);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (Files.getFileStore(m.dir()).getUnallocatedSpace() < free - 64L * 1024 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(Files.getFileStore(m.dir()).getUnallocatedSpace() >= free - 64L * 1024, "deleting gave the space back");
        }
    }

    @Test
    void userXattrsAreSetReadListedAndRemovedThroughJavasView() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path f = Files.writeString(m.dir().resolve("f"), "x");
            UserDefinedFileAttributeView view = Files.getFileAttributeView(f, UserDefinedFileAttributeView.class);
            view.write("colour", StandardCharsets.UTF_8.encode("blue"));
            view.write("empty", ByteBuffer.allocate(0));
            byte[] big = new byte[3000];
            new java.util.SplittableRandom(1).nextBytes(big);
            view.write("big", ByteBuffer.wrap(big));
            assertEquals(List.of("big", "colour", "empty"), view.list().stream().sorted().toList());
            assertEquals(4, view.size("colour"));
            ByteBuffer b = ByteBuffer.allocate(16);
            view.read("colour", b);
            assertEquals("blue", new String(b.array(), 0, b.position(), StandardCharsets.UTF_8));
            assertEquals(0, view.size("empty"));
            ByteBuffer bigBack = ByteBuffer.allocate(4000);
            view.read("big", bigBack);
            assertArrayEquals(big, java.util.Arrays.copyOf(bigBack.array(), bigBack.position()), "a value too big to live in the inode");

            view.write("colour", StandardCharsets.UTF_8.encode("green, longer"));
            assertEquals("green, longer", PosixSyscalls.getxattr(f, "user.colour").expectOk("getxattr").text(), "replaced");
            view.delete("colour");
            view.delete("big");
            assertEquals(List.of("empty"), view.list());
            assertEquals(List.of("user.empty"), PosixSyscalls.listxattr(f));

            Path d = Files.createDirectory(m.dir().resolve("d"));
            Files.getFileAttributeView(d, UserDefinedFileAttributeView.class).write("on-a-dir", StandardCharsets.UTF_8.encode("yes"));
            assertEquals("yes", PosixSyscalls.getxattr(d, "user.on-a-dir").expectOk("getxattr on a directory").text());
        }
    }

    @Test
    void xattrErrorsAreEnodataEexistErangeAndEopnotsupp() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path f = Files.writeString(m.dir().resolve("f"), "x");
            byte[] v = "value".getBytes(StandardCharsets.UTF_8);
            PosixSyscalls.getxattr(f, "user.missing").expectErrno(ENODATA, "getxattr of a missing attribute");
            PosixSyscalls.removexattr(f, "user.missing").expectErrno(ENODATA, "removexattr of a missing attribute");
            PosixSyscalls.setxattr(f, "user.a", v, XATTR_REPLACE).expectErrno(ENODATA, "XATTR_REPLACE of a missing attribute");
            PosixSyscalls.setxattr(f, "user.a", v, XATTR_CREATE).expectOk("XATTR_CREATE");
            PosixSyscalls.setxattr(f, "user.a", "other".getBytes(StandardCharsets.UTF_8), XATTR_CREATE).expectErrno(EEXIST,
                    "XATTR_CREATE of an existing attribute");
            assertEquals("value", PosixSyscalls.getxattr(f, "user.a").text(), "the refused create changed nothing");
            PosixSyscalls.setxattr(f, "user.a", "v2".getBytes(StandardCharsets.UTF_8), XATTR_REPLACE).expectOk("XATTR_REPLACE");
            assertEquals("v2", PosixSyscalls.getxattr(f, "user.a").text());

            assertEquals(2, PosixSyscalls.getxattrSized(f, "user.a", 0).expectOk("size query").value(), "size 0 asks for the length");
            PosixSyscalls.getxattrSized(f, "user.a", 1).expectErrno(34, "a buffer too small is ERANGE");
            PosixSyscalls.setxattr(f, "nonsense.a", v, 0).expectErrno(EOPNOTSUPP, "an unknown namespace");
            PosixSyscalls.setxattr(f, "user.", v, 0).expectErrno(PosixSyscalls.EINVAL, "a name with nothing after the namespace");

            PosixSyscalls.removexattr(f, "user.a").expectOk("removexattr");
            PosixSyscalls.getxattr(f, "user.a").expectErrno(ENODATA, "getxattr after removexattr");
            assertEquals(List.of(), PosixSyscalls.listxattr(f));
        }
    }

    @Test
    void trustedXattrsAreRootsAndUserXattrsFollowTheFilesPermissions() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path f = Files.writeString(m.dir().resolve("owned"), "x");
            PosixSyscalls.chown(f, OWNER.uid(), OWNER.gid()).expectOk("chown");
            PosixSyscalls.chmod(f, 0644).expectOk("chmod");
            PosixSyscalls.setxattr(f, "trusted.secret", "root only".getBytes(StandardCharsets.UTF_8), 0).expectOk("root sets trusted.*");
            PosixSyscalls.setxattr(f, "user.note", "n".getBytes(StandardCharsets.UTF_8), 0).expectOk("root sets user.*");
            assertEquals(List.of("trusted.secret", "user.note"), PosixSyscalls.listxattr(f).stream().sorted().toList());

            try (PosixProcess owner = PosixProcess.syscalls(OWNER); PosixProcess stranger = PosixProcess.syscalls(STRANGER)) {
                assertEquals("ok 1 " + HexFormat.of().formatHex("user.note".getBytes(StandardCharsets.UTF_8)), owner.call("listxattr", f),
                        "trusted.* is invisible to a non-root caller");
                assertEquals("err 61 ENODATA", owner.call("getxattr", f, "trusted.secret"), "and unreadable");
                assertEquals("err 1 EPERM", owner.call("setxattr", f, "trusted.mine", "x", 0), "and unwritable");
                assertEquals("err 1 EPERM", owner.call("setxattr", f, "security.mine", "x", 0), "security.* is root's to write");
                assertTrue(owner.call("setxattr", f, "user.by-owner", "o", 0).startsWith("ok"), "the owner may write user.*");
                assertTrue(stranger.call("getxattr", f, "user.note").startsWith("ok"), "others may read user.* of a 0644 file");
                assertEquals("err 13 EACCES", stranger.call("setxattr", f, "user.by-stranger", "s", 0),
                        "others may not write user.* of a file they cannot write");
                assertEquals("err 13 EACCES", stranger.call("removexattr", f, "user.note"));
                owner.callOk("chmod", f, "600");
                assertEquals("err 13 EACCES", stranger.call("getxattr", f, "user.note"), "nor read user.* of a file they cannot read");
            }
            assertEquals("o", PosixSyscalls.getxattr(f, "user.by-owner").expectOk("root reads it").text());
            PosixSyscalls.getxattr(f, "user.by-stranger").expectErrno(ENODATA, "the refused set left nothing");
            PosixSyscalls.symlink("owned", m.dir().resolve("link")).expectOk("symlink");
            PosixSyscalls.mknod(m.dir().resolve("fifo"), PosixSyscalls.S_IFIFO | 0666, 0).expectOk("mknod");
            PosixSyscalls.setxattr(m.dir().resolve("fifo"), "user.x", new byte[] {1}, 0).expectErrno(EPERM, "user.* on a fifo");
        }
    }

    @Test
    void accessAnswersForRootByTheExecuteBitsAndForOthersByTheirClass() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path none = Files.writeString(m.dir().resolve("none"), "x");
            PosixSyscalls.chmod(none, 0000).expectOk("chmod 0");
            PosixSyscalls.access(none, PosixSyscalls.R_OK | PosixSyscalls.W_OK).expectOk("root reads and writes a mode-0 file");
            PosixSyscalls.access(none, PosixSyscalls.X_OK).expectErrno(EACCES, "root may not execute a file with no execute bit");
            Path exe = Files.writeString(m.dir().resolve("exe"), "#!/bin/sh\necho ran\n");
            PosixSyscalls.chmod(exe, 0100).expectOk("chmod u+x only");
            PosixSyscalls.access(exe, PosixSyscalls.X_OK).expectOk("root executes when any execute bit is set");
            PosixSyscalls.access(m.dir().resolve("nope"), PosixSyscalls.F_OK).expectErrno(PosixSyscalls.ENOENT, "access of a missing file");

            Path f = Files.writeString(m.dir().resolve("f"), "x");
            PosixSyscalls.chown(f, 1000, 2000).expectOk("chown");
            PosixSyscalls.chmod(f, 0640).expectOk("chmod");
            try (PosixProcess owner = PosixProcess.syscalls(OWNER);
                    PosixProcess member = PosixProcess.syscalls(new PosixProcess.Identity(1001, 1001, 2000));
                    PosixProcess other = PosixProcess.syscalls(STRANGER)) {
                assertTrue(owner.call("access", f, 6).startsWith("ok"), "owner rw");
                assertEquals("err 13 EACCES", owner.call("access", f, 1), "owner x");
                assertTrue(member.call("access", f, 4).startsWith("ok"), "group r through a supplementary group");
                assertEquals("err 13 EACCES", member.call("access", f, 2), "group w");
                assertEquals("err 13 EACCES", other.call("access", f, 4), "other r");
                assertTrue(other.call("access", f, 0).startsWith("ok"), "F_OK needs only search permission on the way");
            }
            PosixProcess.Outcome ran = PosixProcess.sh(m.dir(), "./exe");
            assertEquals("ran\n", ran.out(), ran.toString());
        }
    }

    @Test
    void chmodIsTheOwnersAndChownIsRootsExceptGivingAFileToOnesOwnGroup() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path f = Files.writeString(m.dir().resolve("f"), "x");
            PosixFileAttributeView view = Files.getFileAttributeView(f, PosixFileAttributeView.class);
            PosixSyscalls.chown(f, 1000, 1000).expectOk("root gives the file away");
            view.setPermissions(PosixFilePermissions.fromString("rw-r-----"));
            PosixFileAttributes a = view.readAttributes();
            assertEquals("rw-r-----", PosixFilePermissions.toString(a.permissions()));
            assertEquals(1000, PosixSyscalls.stat(f).uid());
            assertEquals(1000, PosixSyscalls.stat(f).gid());

            try (PosixProcess owner = PosixProcess.syscalls(new PosixProcess.Identity(1000, 1000, 1000, 3000));
                    PosixProcess stranger = PosixProcess.syscalls(STRANGER)) {
                assertEquals("err 1 EPERM", stranger.call("chmod", f, "777"), "only the owner may chmod");
                assertEquals("err 1 EPERM", stranger.call("chown", f, 1001, -1), "only root may chown");
                assertTrue(owner.call("chmod", f, "4751").startsWith("ok"), "the owner chmods, setuid included");
                assertEquals(04751, PosixSyscalls.stat(f).permissions());
                assertEquals("err 1 EPERM", owner.call("chown", f, 1001, -1), "the owner may not give the file away");
                assertTrue(owner.call("chown", f, -1, 3000).startsWith("ok"), "but may give it to a group of its own");
                assertEquals(3000, PosixSyscalls.stat(f).gid());
                assertEquals(0, PosixSyscalls.stat(f).permissions() & 04000, "chown by a non-root caller clears setuid");
                assertEquals("err 1 EPERM", owner.call("chown", f, -1, 4000), "and not to a group it is not in");
            }
            PosixSyscalls.chmod(f, 02755).expectOk("root sets setgid");
            assertEquals(02755, PosixSyscalls.stat(f).permissions());
        }
    }

    @Test
    void chownOfAFileClearsSetuidAndGroupExecutableSetgidEvenWhenRootKeepsTheOwner() throws Exception {
        // Linux's chown(2) always asks to kill set-user-ID (ATTR_KILL_SUID, fs/open.c chown_common); with
        // FUSE_HANDLE_KILLPRIV the kernel leaves that to the filesystem. ext4 gives 755 for both files below.
        try (MountedFs m = MountedFs.create(tmp)) {
            Path suid = Files.writeString(m.dir().resolve("suid"), "x");
            PosixSyscalls.chmod(suid, 04755).expectOk("chmod 4755");
            PosixSyscalls.chown(suid, 0, 0).expectOk("chown root:root, the owner it already has");
            assertEquals(0755, PosixSyscalls.stat(suid).permissions(), "chown cleared set-user-ID");

            Path sgid = Files.writeString(m.dir().resolve("sgid"), "x");
            PosixSyscalls.chmod(sgid, 02755).expectOk("chmod 2755");
            PosixSyscalls.chown(sgid, -1, 0).expectOk("chgrp 0, the group it already has");
            assertEquals(0755, PosixSyscalls.stat(sgid).permissions(), "chown cleared group-executable set-group-ID");

            Path given = Files.writeString(m.dir().resolve("given"), "x");
            PosixSyscalls.chmod(given, 06755).expectOk("chmod 6755");
            PosixSyscalls.chown(given, 1000, 1000).expectOk("chown to another user");
            assertEquals(0755, PosixSyscalls.stat(given).permissions(), "giving a file away clears both");

            Path dir = Files.createDirectory(m.dir().resolve("dir"));
            PosixSyscalls.chmod(dir, 02755).expectOk("chmod 2755 a directory");
            PosixSyscalls.chown(dir, 1000, 1000).expectOk("chown a directory");
            assertEquals(02755, PosixSyscalls.stat(dir).permissions(), "a directory keeps its setgid bit");
        }
    }

    @Test
    void aReadOnlyMountServesReadsAndRefusesEveryChangeWithErofs() throws Exception {
        Path image;
        try (MountedFs m = MountedFs.create(tmp)) {
            image = m.image();
            Files.writeString(m.dir().resolve("kept"), "kept");
            Files.createDirectory(m.dir().resolve("d"));
        }
        try (MountedFs ro = MountedFs.mount(image, tmp.resolve("ro"), "ro")) {
            Path kept = ro.dir().resolve("kept");
            assertEquals("kept", Files.readString(kept));
            int erofs = 30;
            PosixSyscalls.open(kept, PosixSyscalls.O_WRONLY).expectErrno(erofs, "open for writing");
            PosixSyscalls.open(ro.dir().resolve("new"), PosixSyscalls.O_CREAT | PosixSyscalls.O_WRONLY, 0644).expectErrno(erofs, "create");
            PosixSyscalls.mkdir(ro.dir().resolve("nd"), 0755).expectErrno(erofs, "mkdir");
            PosixSyscalls.unlink(kept).expectErrno(erofs, "unlink");
            PosixSyscalls.rmdir(ro.dir().resolve("d")).expectErrno(erofs, "rmdir");
            PosixSyscalls.rename(kept, ro.dir().resolve("moved")).expectErrno(erofs, "rename");
            PosixSyscalls.chmod(kept, 0600).expectErrno(erofs, "chmod");
            PosixSyscalls.truncate(kept, 0).expectErrno(erofs, "truncate");
            PosixSyscalls.setxattr(kept, "user.x", new byte[] {1}, 0).expectErrno(erofs, "setxattr");
            PosixSyscalls.access(kept, PosixSyscalls.W_OK).expectErrno(erofs, "access W_OK");
            PosixSyscalls.access(kept, PosixSyscalls.R_OK).expectOk("access R_OK");
            assertEquals("kept", Files.readString(kept), "nothing changed");
        }
    }

    @Test
    void timestampsAreSetExplicitlyAndMoveOnWriteAndOnMetadataChange() throws Exception {
        try (MountedFs m = MountedFs.create(tmp, 1L << 30, "attr_timeout=0")) {
            Path f = Files.writeString(m.dir().resolve("t"), "x");
            Instant past = Instant.parse("2001-02-03T04:05:06.123456789Z");
            Files.setLastModifiedTime(f, FileTime.from(past));
            assertEquals(FileTime.from(past), Files.getLastModifiedTime(f), "mtime to the nanosecond");
            PosixProcess.Outcome touch = PosixProcess.sh(m.dir(), "touch -a -d '2010-01-01 00:00:00 UTC' t && stat -c '%X %Y' t");
            assertEquals(Instant.parse("2010-01-01T00:00:00Z").getEpochSecond() + " " + past.getEpochSecond() + "\n", touch.out(),
                    "atime set alone leaves mtime: " + touch);

            Instant beforeWrite = Instant.now().minusSeconds(2);
            Files.writeString(f, "more", java.nio.file.StandardOpenOption.APPEND);
            assertTrue(Files.getLastModifiedTime(f).toInstant().isAfter(beforeWrite), "a write sets mtime to now");
            FileTime ctimeBefore = (FileTime) Files.getAttribute(f, "unix:ctime");
            Thread.sleep(20);
            PosixSyscalls.chmod(f, 0600).expectOk("chmod");
            FileTime ctimeAfter = (FileTime) Files.getAttribute(f, "unix:ctime");
            assertTrue(ctimeAfter.compareTo(ctimeBefore) > 0, "chmod moves ctime: " + ctimeBefore + " -> " + ctimeAfter);
            FileTime dirMtime = Files.getLastModifiedTime(m.dir());
            Thread.sleep(20);
            Files.createFile(m.dir().resolve("new"));
            assertTrue(Files.getLastModifiedTime(m.dir()).compareTo(dirMtime) > 0, "creating an entry moves the directory's mtime");
            assertFalse(Files.getLastModifiedTime(m.dir()).toInstant().isAfter(Instant.now().plusSeconds(2)), "and not into the future");
        }
    }
}
