package io.concord.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.fs.MkfsOptions;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * mount.concord, run as its own process, refuses what it cannot mount with one clear line on
 * stderr and mount(8)'s exit codes (1: usage, 32: mount failure), and leaves neither a mount nor a
 * daemon behind. Refusals that only the daemon can find run in both modes: background (the
 * default: the daemon reports its reason back to the command) and {@code -o foreground}. A
 * read-only mount refuses every change with EROFS.
 */
@Timeout(300)
class MountBadInputTest {
    private static final int EXIT_USAGE = 1;
    private static final int EXIT_FAILURE = 32;

    @TempDir
    Path tmp;

    private Path dir;
    private Path image;

    private Path mountPoint() throws IOException {
        dir = Files.createDirectories(tmp.resolve("mnt"));
        return dir;
    }

    private Path concordImage() throws IOException {
        image = Images.formatted(tmp.resolve("fs.img"), 64L << 20, MkfsOptions.of("bad:input", 1), 3);
        return image;
    }

    /** Options for {@code mode}: the daemon's log stays under the test's directory. */
    private String options(String mode, String extra) {
        String o = extra + ",log=" + tmp.resolve("daemon.log");
        return mode.isEmpty() ? o : o + "," + mode;
    }

    @AfterEach
    void leaveNothingBehind() throws Exception {
        if (dir == null) {
            return;
        }
        List<String> mounts = KernelMounts.typesAt(dir);
        List<ProcessHandle> daemons = ForkedMount.daemonsServing(dir);
        ForkedMount.cleanUp(dir);
        assertEquals(List.of(), mounts, "mounts left at " + dir);
        assertEquals(List.of(), daemons, "mount.concord processes left for " + dir);
    }

    /** The command failed with {@code exit}, said why on exactly one stderr line, and mounted nothing. */
    private void assertRefused(ForkedMount.Outcome o, int exit, String because) throws IOException {
        ForkedMount.assertRefused(o, exit, because, dir);
    }

    @ParameterizedTest(name = "mode ''{0}''")
    @ValueSource(strings = {"", "foreground"})
    void aDeviceThatIsNotConcordIsRefused(String mode) throws Exception {
        byte[] junk = new byte[4 << 20];
        new SplittableRandom(11).nextBytes(junk);
        Path device = Files.write(tmp.resolve("junk.img"), junk);
        ForkedMount.Outcome o = ForkedMount.mountConcord(tmp, device.toString(), mountPoint().toString(), "-o", options(mode, "nolock"));
        assertRefused(o, EXIT_FAILURE, "not a Concord filesystem");
    }

    @Test
    void anUnknownOptionIsAUsageErrorNamingTheOption() throws Exception {
        ForkedMount.Outcome o = ForkedMount.mountConcord(tmp, concordImage().toString(), mountPoint().toString(), "-o", "nolock,bogus");
        assertRefused(o, EXIT_USAGE, "unknown mount option 'bogus'");
    }

    @Test
    void aMissingDeviceIsRefused() throws Exception {
        Path missing = tmp.resolve("no-such.img");
        ForkedMount.Outcome o = ForkedMount.mountConcord(tmp, missing.toString(), mountPoint().toString(), "-o", options("", "nolock"));
        assertRefused(o, EXIT_FAILURE, missing + ": no such device or file");
    }

    @ParameterizedTest(name = "mode ''{0}''")
    @ValueSource(strings = {"", "foreground"})
    void aMountPointInUseIsRefusedAndTheMountThereKeepsServing(String mode) throws Exception {
        Path other = Images.formatted(tmp.resolve("other.img"), 64L << 20, MkfsOptions.of("bad:other", 1), 4);
        try (MountedFs first = MountedFs.mount(concordImage(), mountPoint(), "")) {
            Files.writeString(first.dir().resolve("first"), "still here\n");
            ForkedMount.Outcome o = ForkedMount.mountConcord(tmp, other.toString(), dir.toString(), "-o", options(mode, "nolock"));
            assertEquals(EXIT_FAILURE, o.exitCode(), "exit code: " + o);
            assertEquals(1, o.errorLines().size(), "one line on stderr, not: " + o.errorLines());
            assertTrue(o.errorLines().getFirst().contains("in use"), "the error says the mount point is in use: " + o);
            assertEquals(List.of("fuse.concord"), KernelMounts.typesAt(dir), "only the first mount may be at " + dir);
            assertEquals(List.of(), ForkedMount.daemonsServing(dir), "a refused mount left a process for " + dir);
            assertEquals("still here\n", Files.readString(first.dir().resolve("first")));
        }
        FsckSupport.assertClean(other);
    }

    @ParameterizedTest(name = "mode ''{0}''")
    @ValueSource(strings = {"", "foreground"})
    void aMountPointThatDoesNotExistIsRefused(String mode) throws Exception {
        dir = tmp.resolve("absent");
        ForkedMount.Outcome o = ForkedMount.mountConcord(tmp, concordImage().toString(), dir.toString(), "-o", options(mode, "nolock"));
        assertRefused(o, EXIT_FAILURE, "mount point " + dir + " does not exist");
        assertFalse(Files.exists(dir), "the refused mount created " + dir);
    }

    @ParameterizedTest(name = "mode ''{0}''")
    @ValueSource(strings = {"", "foreground"})
    void aMountPointThatIsAFileIsRefused(String mode) throws Exception {
        dir = Files.writeString(tmp.resolve("a-file"), "not a directory\n");
        ForkedMount.Outcome o = ForkedMount.mountConcord(tmp, concordImage().toString(), dir.toString(), "-o", options(mode, "nolock"));
        assertRefused(o, EXIT_FAILURE, "mount point " + dir + " is not a directory");
        assertEquals("not a directory\n", Files.readString(dir));
    }

    @ParameterizedTest(name = "mode ''{0}''")
    @ValueSource(strings = {"", "foreground"})
    void aClusterFilesystemWithoutZooKeeperSaysWhatToSet(String mode) throws Exception {
        Path emptyConf = Files.writeString(tmp.resolve("concord.conf"), "");
        ForkedMount.Outcome out = ForkedMount.mountConcord(tmp, concordImage().toString(), mountPoint().toString(), "-o",
                options(mode, "rw,conf=" + emptyConf));
        assertRefused(out, EXIT_FAILURE, "a cluster mount needs ZooKeeper: set zk = host:port in " + emptyConf + " or mount with -o zk=host:port");
        assertTrue(out.errorLines().getFirst().contains("-o nolock"), "the error says how to mount a single node anyway: " + out);
        FsckSupport.assertClean(image);
    }

    @ParameterizedTest(name = "mode ''{0}''")
    @ValueSource(strings = {"", "foreground"})
    void aJournalSlotTheFilesystemLacksIsRefused(String mode) throws Exception {
        ForkedMount.Outcome o = ForkedMount.mountConcord(tmp, concordImage().toString(), mountPoint().toString(), "-o",
                options(mode, "nolock,journal=5"));
        assertRefused(o, EXIT_FAILURE, "journal 5 does not exist");
    }

    /** A read-only mount cannot replay, so a journal left by a crash must be refused, not ignored. */
    @Test
    void aReadOnlyMountOfAJournalThatNeedsReplayIsRefused() throws Exception {
        concordImage();
        try (ForkedMount crashed = ForkedMount.foreground(image, mountPoint(), "", tmp.resolve("crashed.log"))) {
            Files.writeString(dir.resolve("synced"), "in the journal only\n");
            try (var ch = java.nio.channels.FileChannel.open(dir.resolve("synced"), StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            crashed.kill();
        }
        assertEquals(List.of(), KernelMounts.typesAt(dir), "the killed daemon's stale mount was not cleared");
        ForkedMount.Outcome o = ForkedMount.mountConcord(tmp, image.toString(), dir.toString(), "-o", options("", "nolock,ro"));
        assertRefused(o, EXIT_FAILURE, "mount read-write once to replay them");
    }

    @Test
    void aReadOnlyMountRefusesEveryChangeWithEROFS() throws Exception {
        concordImage();
        try (MountedFs rw = MountedFs.mount(image, mountPoint(), "")) {
            Files.createDirectory(rw.dir().resolve("d"));
            Files.writeString(rw.dir().resolve("d/file"), "original\n");
        }
        try (MountedFs ro = MountedFs.mount(image, dir, "ro")) {
            Path d = ro.dir().resolve("d");
            assertEquals("original\n", Files.readString(d.resolve("file")));
            assertReadOnly(() -> Files.writeString(d.resolve("new"), "x"), "create");
            assertReadOnly(() -> Files.writeString(d.resolve("file"), "changed\n", StandardOpenOption.APPEND), "append");
            assertReadOnly(() -> Files.writeString(d.resolve("file"), "changed\n"), "truncate and write");
            assertReadOnly(() -> Files.createDirectory(d.resolve("sub")), "mkdir");
            assertReadOnly(() -> Files.move(d.resolve("file"), d.resolve("renamed")), "rename");
            assertReadOnly(() -> Files.delete(d.resolve("file")), "unlink");
            assertReadOnly(() -> Files.setLastModifiedTime(d.resolve("file"), java.nio.file.attribute.FileTime.fromMillis(0)), "utimes");
            assertEquals("original\n", Files.readString(d.resolve("file")));
            try (var s = Files.list(d)) {
                assertEquals(List.of("file"), s.map(p -> p.getFileName().toString()).toList());
            }
        }
    }

    private static void assertReadOnly(Executable change, String what) {
        FileSystemException e = assertThrows(FileSystemException.class, change, what + " on a read-only mount");
        assertTrue(String.valueOf(e.getMessage()).contains("Read-only file system"), what + ": expected EROFS, got " + e);
    }
}
