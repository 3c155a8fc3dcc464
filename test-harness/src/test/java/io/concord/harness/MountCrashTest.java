package io.concord.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.concord.fs.MkfsOptions;
import io.concord.fsck.FsckReport;
import io.concord.fsck.Problem;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a real mount's daemon ends, and what each ending leaves on the device.
 * <ul>
 * <li>kill -9 during a seeded fsync workload run through the mount: the kernel keeps a stale
 *     mount; the next mount.concord (and the harness's in-JVM {@link MountedFs}) clears it and
 *     replays the journal; every file fsync'd and not touched
 *     since is exactly as fsync'd, everything else reads without error, and fsck -n is clean.
 *     Seeds: {@code -Dconcord.mountcrash.seeds=N} (default 20), {@code -Dconcord.mountcrash.firstSeed=S}
 *     (default 1); a failure names its seed and the command that reruns only it.</li>
 * <li>SIGTERM to a foreground daemon: it unmounts, writes the journal back and exits; the image
 *     is clean with nothing to replay, and holds everything written, fsync'd or not.</li>
 * <li>{@code umount DIR} under a background daemon: the daemon exits within 20 s, the journal is
 *     written back (fsck finds nothing to replay, the next mount logs no replay).</li>
 * </ul>
 */
@Timeout(600)
class MountCrashTest {
    private static final String[] DIRS = {"", "a", "a/b", "c"};
    private static final int NAMES = 8;
    private static final int MAX_FILE = 3 << 20;
    private static final int MAX_OPS = 20_000;

    @TempDir
    Path tmp;

    @Test
    void everyFsyncedFileSurvivesKill9OfTheDaemonAndTheRemountClearsTheStaleMount() throws Exception {
        int seeds = Integer.getInteger("concord.mountcrash.seeds", 20);
        long first = Long.getLong("concord.mountcrash.firstSeed", 1);
        System.out.println("mount crash seeds: " + seeds + " (from " + first + ")");
        int filesChecked = 0;
        for (long seed = first; seed < first + seeds; seed++) {
            try {
                filesChecked += runSeed(seed);
            } catch (Throwable t) {
                throw new AssertionError("mount crash seed " + seed + " failed (rerun only it: bin/build -pl test-harness -am verify "
                        + "-Dsurefire.failIfNoSpecifiedTests=false -Dtest=MountCrashTest#everyFsyncedFileSurvivesKill9OfTheDaemonAndTheRemountClearsTheStaleMount "
                        + "-Dconcord.mountcrash.firstSeed=" + seed + " -Dconcord.mountcrash.seeds=1): " + t, t);
            }
        }
        System.out.println("mount crash: " + filesChecked + " fsync'd files checked byte for byte after kill -9");
        assertTrue(seeds == 0 || filesChecked > 0, "no seed fsync'd a file before the kill: the test checked nothing");
    }

    /** Returns how many fsync'd files it checked byte for byte. */
    private int runSeed(long seed) throws Exception {
        Path work = Files.createDirectories(tmp.resolve("seed-" + seed));
        Path image = Images.formatted(work.resolve("fs.img"), 256L << 20, MkfsOptions.of("mcrash:fs", 2), seed);
        Path dir = Files.createDirectories(work.resolve("mnt"));
        SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L);
        int killAtOp = rnd.nextInt(2, 80);
        long killDelayMicros = rnd.nextLong(0, 30_000);
        Workload w = new Workload(dir, rnd.split());
        AtomicBoolean killing = new AtomicBoolean();
        AtomicReference<Throwable> killFailed = new AtomicReference<>();
        ScheduledExecutorService killer = Executors.newSingleThreadScheduledExecutor();
        int checked;
        boolean replayed;
        try (ForkedMount daemon = ForkedMount.foreground(image, dir, "", work.resolve("daemon.log"))) {
            int stoppedAt;
            try {
                stoppedAt = w.runUntilTheMountFails(killAtOp, () -> killer.schedule(() -> {
                    killing.set(true);
                    try {
                        daemon.kill();
                    } catch (Throwable t) {
                        killFailed.set(t);
                    }
                }, killDelayMicros, TimeUnit.MICROSECONDS), killing);
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "\nthe daemon's log:\n" + daemon.log().strip(), e);
            } finally {
                killer.shutdown();
                assertTrue(killer.awaitTermination(30, TimeUnit.SECONDS), "the kill did not finish");
            }
            if (killFailed.get() != null) {
                throw new AssertionError("kill -9 of the daemon failed", killFailed.get());
            }
            assertFalse(daemon.process().isAlive(), "the daemon outlived kill -9");
            assertTrue(stoppedAt >= killAtOp, "the workload stopped at op " + stoppedAt + ", before the kill at op " + killAtOp);

            // The kernel keeps the dead daemon's mount: listed, but every access fails (ENOTCONN).
            assertEquals(List.of("fuse.concord"), KernelMounts.typesAt(dir), "the dead daemon's mount in /proc/self/mountinfo");
            assertFalse(KernelMounts.answers(dir), "a mount whose daemon was killed still answered");

            // mount.concord on the same directory again: it must detach the stale mount itself.
            try (ForkedMount again = ForkedMount.foreground(image, dir, "", work.resolve("remount.log"))) {
                assertEquals(List.of("fuse.concord"), KernelMounts.typesAt(dir),
                        "the remount must clear the stale mount, not stack on it");
                assertTrue(again.log().contains("cleared a stale FUSE mount at " + dir), "the remount's log: " + again.log());
                checked = w.verify(dir);
                replayed = again.log().contains("replayed");
                ForkedMount.Outcome umount = ForkedMount.umount(work, dir.toString());
                assertEquals(0, umount.exitCode(), "umount after the remount: " + umount);
                assertTrue(again.process().waitFor(20, TimeUnit.SECONDS), "the remount's daemon still runs 20 s after umount");
            }
            assertEquals(List.of(), KernelMounts.typesAt(dir), "mounts left at " + dir);
        }
        assertEquals(List.of(), ForkedMount.daemonsServing(dir), "daemons left for " + dir);
        FsckSupport.assertClean(image);
        Files.delete(image);
        System.out.println("mount crash seed " + seed + ": kill -9 at op " + killAtOp + " + " + killDelayMicros + " us, the mount failed at op "
                + w.failedAt + ", " + w.fsyncs + " fsyncs, " + checked + " fsync'd files intact"
                + (replayed ? "; the remount replayed the journal" : ""));
        return checked;
    }

    /** The harness's in-JVM mount, used by most tests, must also take over a killed daemon's directory. */
    @Test
    void mountedFsRemountsOverTheStaleMountOfAKilledDaemon() throws Exception {
        Path image = Images.formatted(tmp.resolve("stale.img"), 64L << 20, MkfsOptions.of("mcrash:stale", 2), 7);
        Path dir = Files.createDirectories(tmp.resolve("mnt"));
        try (ForkedMount daemon = ForkedMount.foreground(image, dir, "", tmp.resolve("daemon.log"))) {
            Files.writeString(dir.resolve("synced"), "fsync'd before kill -9\n");
            try (FileChannel ch = FileChannel.open(dir.resolve("synced"), StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            daemon.kill();
            assertEquals(List.of("fuse.concord"), KernelMounts.typesAt(dir), "the dead daemon's mount");
            assertFalse(KernelMounts.answers(dir), "a mount whose daemon was killed still answered");
            try (MountedFs again = MountedFs.mount(image, dir, "")) {
                assertEquals(List.of("fuse.concord"), KernelMounts.typesAt(dir), "the remount must replace the stale mount");
                assertEquals("fsync'd before kill -9\n", Files.readString(again.dir().resolve("synced")));
            }
            assertEquals(List.of(), KernelMounts.typesAt(dir), "mounts left at " + dir);
        }
    }

    @Test
    void sigtermUnmountsAndWritesEverythingBack() throws Exception {
        Path image = Images.formatted(tmp.resolve("term.img"), 128L << 20, MkfsOptions.of("mcrash:term", 2), 5);
        Path dir = Files.createDirectories(tmp.resolve("mnt"));
        Map<String, byte[]> written = new TreeMap<>();
        SplittableRandom rnd = new SplittableRandom(5);
        try (ForkedMount daemon = ForkedMount.foreground(image, dir, "", tmp.resolve("daemon.log"))) {
            Files.createDirectory(dir.resolve("d"));
            for (int i = 0; i < 6; i++) {
                byte[] b = new byte[rnd.nextInt(1, 700_000)];
                rnd.nextBytes(b);
                String name = (i % 2 == 0 ? "d/" : "") + "f" + i;
                Files.write(dir.resolve(name), b);
                written.put(name, b);
            }
            try (FileChannel ch = FileChannel.open(dir.resolve("f1"), StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.move(dir.resolve("f3"), dir.resolve("d/moved"));
            written.put("d/moved", written.remove("f3"));
            Files.delete(dir.resolve("d/f4"));
            written.remove("d/f4");
            assertJournalHoldsTransactions(image);

            int exit = daemon.terminate(Duration.ofSeconds(30));
            // The JVM exits 143 (128 + SIGTERM) when a signal ends it; 0 if serving ended first.
            assertTrue(exit == 143 || exit == 0, "exit code after SIGTERM: " + exit + "; log: " + daemon.log());
            assertEquals(List.of(), KernelMounts.typesAt(dir), "SIGTERM must unmount; log: " + daemon.log());
        }
        FsckReport r = FsckSupport.check(image);
        assertEquals(List.of(), r.problems(Problem.JOURNAL_DIRTY), "SIGTERM must write the journal back");
        FsckSupport.assertClean(image);
        try (MountedFs m = MountedFs.mount(image, tmp.resolve("mnt2"), "")) {
            for (Map.Entry<String, byte[]> e : written.entrySet()) {
                assertBytes(e.getValue(), Files.readAllBytes(m.dir().resolve(e.getKey())), e.getKey() + " after SIGTERM");
            }
            try (Stream<Path> s = Files.walk(m.dir())) {
                assertEquals(written.size(), s.filter(Files::isRegularFile).count(), "files after SIGTERM");
            }
        }
    }

    @Test
    void umountEndsABackgroundDaemonAndTheJournalIsWrittenBack() throws Exception {
        Path image = Images.formatted(tmp.resolve("bg.img"), 128L << 20, MkfsOptions.of("mcrash:bg", 2), 9);
        Path dir = Files.createDirectories(tmp.resolve("mnt"));
        Path firstLog = tmp.resolve("first.log");
        Path secondLog = tmp.resolve("second.log");
        byte[] data = new byte[300_000];
        new SplittableRandom(9).nextBytes(data);
        try {
            ForkedMount.Outcome mount = ForkedMount.mountConcord(tmp, image.toString(), dir.toString(), "-o", "nolock,log=" + firstLog);
            assertEquals(0, mount.exitCode(), "background mount: " + mount);
            List<ProcessHandle> daemons = ForkedMount.daemonsServing(dir);
            assertEquals(1, daemons.size(), "one daemon must serve " + dir + " after mount.concord returns: " + daemons);
            ProcessHandle daemon = daemons.getFirst();
            assertEquals(List.of("fuse.concord"), KernelMounts.typesAt(dir));

            Files.createDirectory(dir.resolve("kept"));
            Files.write(dir.resolve("kept/data"), data);
            try (FileChannel ch = FileChannel.open(dir.resolve("kept/data"), StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.writeString(dir.resolve("unsynced"), "written, never fsync'd\n");
            assertJournalHoldsTransactions(image);

            ForkedMount.Outcome umount = ForkedMount.umount(tmp, dir.toString());
            assertEquals(0, umount.exitCode(), "umount: " + umount);
            try {
                daemon.onExit().get(20, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                fail("the daemon (pid " + daemon.pid() + ") still runs 20 s after umount " + dir);
            }
            assertEquals(List.of(), KernelMounts.typesAt(dir));
            assertTrue(Files.readString(firstLog).contains("journal written back"), "daemon log: " + Files.readString(firstLog));

            FsckReport r = FsckSupport.check(image);
            assertEquals(List.of(), r.problems(Problem.JOURNAL_DIRTY), "umount must leave nothing to replay");
            FsckSupport.assertClean(image);

            mount = ForkedMount.mountConcord(tmp, image.toString(), dir.toString(), "-o", "nolock,log=" + secondLog);
            assertEquals(0, mount.exitCode(), "second background mount: " + mount);
            String log = Files.readString(secondLog);
            assertTrue(log.contains("mounted " + image), "the second daemon's log: " + log);
            assertFalse(log.contains("replayed"), "the remount replayed a journal that umount should have written back: " + log);
            assertBytes(data, Files.readAllBytes(dir.resolve("kept/data")), "kept/data");
            assertEquals("written, never fsync'd\n", Files.readString(dir.resolve("unsynced")));
            ProcessHandle second = ForkedMount.daemonsServing(dir).getFirst();
            assertEquals(0, ForkedMount.umount(tmp, dir.toString()).exitCode());
            second.onExit().get(20, TimeUnit.SECONDS);
            FsckSupport.assertClean(image);
        } finally {
            ForkedMount.cleanUp(dir);
        }
        assertEquals(List.of(), ForkedMount.daemonsServing(dir), "daemons left for " + dir);
    }

    /** Before a clean stop: fsck sees committed transactions not yet in place, so "nothing to replay" afterwards means something. */
    private static void assertJournalHoldsTransactions(Path image) {
        assertFalse(FsckSupport.check(image).problems(Problem.JOURNAL_DIRTY).isEmpty(),
                "after an fsync the live image's journal should hold transactions not yet written back");
    }

    static void assertBytes(byte[] expected, byte[] actual, String what) {
        if (!Arrays.equals(expected, actual)) {
            int at = Arrays.mismatch(expected, actual);
            fail(what + ": " + actual.length + " bytes, expected " + expected.length + "; first difference at byte " + at);
        }
    }

    /**
     * A seeded sequence of file operations through a mount, and the model that says what must
     * survive a crash: each file's content at its last successful fsync, and which paths were
     * touched since (marked before the operation starts, since a crash can land inside it).
     */
    private static final class Workload {
        private final Path dir;
        private final SplittableRandom rnd;
        private final Set<String> dirs = new HashSet<>(Set.of(""));
        private final TreeMap<String, byte[]> files = new TreeMap<>();
        private final TreeMap<String, byte[]> synced = new TreeMap<>();
        private final Set<String> touched = new HashSet<>();
        private final Set<String> everCreated = new HashSet<>();
        private int fsyncs;
        private int failedAt = -1;

        Workload(Path dir, SplittableRandom rnd) {
            this.dir = dir;
            this.rnd = rnd;
        }

        /**
         * Runs operations; at op {@code killAt} calls {@code kill} (which SIGKILLs the daemon soon,
         * setting {@code killing} first). Returns the op that failed once the daemon was gone. An
         * error while the daemon is alive fails the test.
         */
        int runUntilTheMountFails(int killAt, Runnable kill, AtomicBoolean killing) {
            for (int op = 0; op < MAX_OPS; op++) {
                if (op == killAt) {
                    kill.run();
                }
                try {
                    step();
                } catch (IOException | UncheckedIOException e) {
                    if (killing.get()) {
                        failedAt = op;
                        return op;
                    }
                    throw new AssertionError("op " + op + " failed while the daemon was alive: " + e, e);
                }
            }
            throw new AssertionError("the workload ran " + MAX_OPS + " operations without noticing the daemon was killed");
        }

        private void step() throws IOException {
            String d = DIRS[rnd.nextInt(DIRS.length)];
            if (!dirs.contains(d)) {
                String parent = d.contains("/") ? d.substring(0, d.lastIndexOf('/')) : "";
                if (dirs.contains(parent)) {
                    dirs.add(d);
                    Files.createDirectory(dir.resolve(d));
                }
                return;
            }
            String path = name(d);
            int kind = rnd.nextInt(100);
            byte[] content = files.get(path);
            if (content == null) {
                touch(path);
                everCreated.add(path);
                byte[] b = randomBytes(size());
                try (FileChannel ch = FileChannel.open(dir.resolve(path), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    files.put(path, new byte[0]);
                    writeFully(ch, b, 0);
                    files.put(path, b);
                    maybeFsync(ch, path);
                }
            } else if (kind < 40) {
                touch(path);
                int off = kind < 15 ? content.length : rnd.nextInt(0, content.length + 1);
                int len = Math.min(size(), MAX_FILE - off);
                if (len <= 0) {
                    off = 0;
                    len = Math.min(size(), content.length);
                }
                byte[] b = randomBytes(Math.max(1, len));
                try (FileChannel ch = FileChannel.open(dir.resolve(path), StandardOpenOption.WRITE)) {
                    writeFully(ch, b, off);
                    byte[] next = Arrays.copyOf(content, Math.max(content.length, off + b.length));
                    System.arraycopy(b, 0, next, off, b.length);
                    files.put(path, next);
                    maybeFsync(ch, path);
                }
            } else if (kind < 50) {
                touch(path);
                int size = rnd.nextInt(4) == 0 ? Math.min(MAX_FILE, content.length + rnd.nextInt(1, 200_000)) : rnd.nextInt(0, content.length + 1);
                try (RandomAccessFile f = new RandomAccessFile(dir.resolve(path).toFile(), "rw")) {
                    f.setLength(size);
                    files.put(path, Arrays.copyOf(content, size));
                }
            } else if (kind < 60) {
                String toDir = DIRS[rnd.nextInt(DIRS.length)];
                if (!dirs.contains(toDir)) {
                    return;
                }
                String to = name(toDir);
                if (to.equals(path)) {
                    return;
                }
                touch(path);
                touch(to);
                everCreated.add(to);
                Files.move(dir.resolve(path), dir.resolve(to), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                files.put(to, files.remove(path));
            } else if (kind < 68) {
                touch(path);
                Files.delete(dir.resolve(path));
                files.remove(path);
            } else {
                try (FileChannel ch = FileChannel.open(dir.resolve(path), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                    fsync(ch, path);
                }
            }
        }

        private String name(String d) {
            return (d.isEmpty() ? "" : d + "/") + "f" + rnd.nextInt(NAMES);
        }

        /** Mostly small files, some of a few hundred KiB, a few of some MiB. */
        private int size() {
            int k = rnd.nextInt(20);
            return k < 14 ? rnd.nextInt(0, 64 << 10) : k < 19 ? rnd.nextInt(0, 512 << 10) : rnd.nextInt(1 << 20, MAX_FILE);
        }

        private byte[] randomBytes(int n) {
            byte[] b = new byte[n];
            rnd.nextBytes(b);
            return b;
        }

        private void touch(String path) {
            touched.add(path);
        }

        private void maybeFsync(FileChannel ch, String path) throws IOException {
            if (rnd.nextInt(3) == 0) {
                fsync(ch, path);
            }
        }

        private void fsync(FileChannel ch, String path) throws IOException {
            ch.force(true);
            synced.put(path, files.get(path));
            touched.remove(path);
            fsyncs++;
        }

        private static void writeFully(FileChannel ch, byte[] b, long at) throws IOException {
            ByteBuffer buf = ByteBuffer.wrap(b);
            while (buf.hasRemaining()) {
                ch.write(buf, at + buf.position());
            }
        }

        /**
         * After the remount: the fsync'd files are exact, everything reads, nothing unexpected
         * exists. Returns how many fsync'd files it compared.
         */
        int verify(Path mount) throws IOException {
            TreeMap<String, Path> present = new TreeMap<>();
            try (Stream<Path> s = Files.walk(mount)) {
                for (Path p : s.toList()) {
                    String rel = mount.relativize(p).toString();
                    if (!rel.isEmpty()) {
                        present.put(rel, p);
                    }
                }
            }
            int checked = 0;
            for (Map.Entry<String, byte[]> e : synced.entrySet()) {
                String path = e.getKey();
                if (touched.contains(path)) {
                    continue;
                }
                Path p = present.get(path);
                assertTrue(p != null, "fsync'd " + path + " is missing after the crash (" + fsyncs + " fsyncs, present: " + present.keySet() + ")");
                assertTrue(Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS), "fsync'd " + path + " is no longer a regular file");
                assertBytes(e.getValue(), Files.readAllBytes(p), "fsync'd " + path);
                checked++;
            }
            for (Map.Entry<String, Path> e : present.entrySet()) {
                if (Files.isDirectory(e.getValue(), LinkOption.NOFOLLOW_LINKS)) {
                    assertTrue(dirs.contains(e.getKey()), "unexpected directory " + e.getKey() + " after the crash");
                    continue;
                }
                assertTrue(everCreated.contains(e.getKey()), "unexpected " + e.getKey() + " after the crash");
                long size = Files.size(e.getValue());
                assertEquals(size, Files.readAllBytes(e.getValue()).length, "bytes read from " + e.getKey());
            }
            return checked;
        }
    }
}
