package io.concord.harness;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.concord.device.BlockDevice;
import io.concord.device.FaultyDevice;
import io.concord.device.FileBlockDevice;
import io.concord.errors.ConcordException;
import io.concord.fs.Attributes;
import io.concord.fs.Caller;
import io.concord.fs.ConcordFs;
import io.concord.fs.DirListEntry;
import io.concord.fs.MkfsOptions;
import io.concord.fs.SetAttr;
import io.concord.format.Superblock;
import io.concord.journal.JournalRegion;
import io.concord.journal.Journal;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Power loss at a random device write during a seeded metadata + data + fsync workload, then
 * recovery by journal replay. After recovery:
 * <ul>
 * <li>every path that an fsync covered and that nothing touched afterwards is exactly as it was
 *     (type, size, every byte), and every directory that existed at that fsync still exists;</li>
 * <li>everything else is readable (no corruption, no error) and the whole tree walks;</li>
 * <li>the filesystem checks clean (fsck -n).</li>
 * </ul>
 * Some seeds also lose power during the recovery itself, to show that replay is idempotent; odd
 * seeds write through journal 1 and are recovered by replaying that slot from outside before
 * slot 0 mounts, as a survivor recovers a dead node.
 * Seeds: {@code -Dconcord.crash.seeds=N} (default 200) and {@code -Dconcord.crash.firstSeed=S};
 * a failure names its seed, and {@code -Dconcord.crash.firstSeed=S -Dconcord.crash.seeds=1}
 * reproduces it.
 */
@Timeout(1200)
class CrashTest {
    private static final int FILES = 12;
    private static final int OPS = 160;

    @TempDir
    Path tmp;

    @Test
    void everyFsyncSurvivesPowerLossAtAnyWrite() throws Exception {
        int seeds = Integer.getInteger("concord.crash.seeds", 200);
        long first = Long.getLong("concord.crash.firstSeed", 1);
        for (long seed = first; seed < first + seeds; seed++) {
            try {
                runSeed(seed);
            } catch (Throwable t) {
                throw new AssertionError("crash seed " + seed + " failed (reproduce with -Dconcord.crash.firstSeed=" + seed
                        + " -Dconcord.crash.seeds=1): " + t, t);
            }
        }
        System.out.println("crash seeds run: " + seeds + " (from " + first + ")");
    }

    /** Replays {@code slot}'s journal in place without mounting it, as a survivor does for a dead node. */
    private static void replaySlot(io.concord.device.BlockDevice dev, int slot) {
        Superblock sb = ConcordFs.readSuperblock(dev);
        Journal.recover(dev, new JournalRegion(slot, sb.journalFirstBlock(slot), sb.journalBlocks(), sb.blockSize(), sb.fsId()),
                java.time.Clock.systemUTC());
    }

    /** The model: path -> content (null for a directory). */
    private static TreeMap<String, byte[]> copy(TreeMap<String, byte[]> m) {
        TreeMap<String, byte[]> c = new TreeMap<>();
        m.forEach((k, v) -> c.put(k, v == null ? null : v.clone()));
        return c;
    }

    private void runSeed(long seed) throws Exception {
        Path image = Images.formatted(tmp.resolve("crash-" + seed + ".img"), 96L << 20,
                MkfsOptions.of("crash:fs", 2).withJournalMb(4), seed);
        SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L);
        TreeMap<String, byte[]> model = new TreeMap<>();
        TreeMap<String, byte[]> synced = new TreeMap<>();
        Set<String> touchedSinceSync = new HashSet<>();
        try (FileBlockDevice durable = FileBlockDevice.open(image, false, false)) {
            FaultyDevice faulty = new FaultyDevice(durable, new SplittableRandom(seed));
            // Odd seeds write through journal 1 and are recovered by "another node" (slot 0)
            // replaying slot 1, as a survivor will replay a dead node's journal.
            int slot = (int) (seed & 1);
            ConcordFs fs = Images.mount(faulty, slot);
            faulty.losePowerAtWrite(rnd.nextInt(1, 700));
            try {
                for (int op = 0; op < OPS; op++) {
                    step(fs, rnd, model, touchedSinceSync);
                    if (rnd.nextInt(8) == 0) {
                        fs.fsync(fs.root(), false);
                        synced = copy(model);
                        touchedSinceSync.clear();
                    }
                }
                faulty.losePower();
            } catch (ConcordException e) {
                assertTrue(faulty.powerLost(), "an operation failed before the power did: " + e);
            }
            try {
                fs.close();
            } catch (ConcordException expected) {
                // The device is gone; unmount only releases what it can.
            }

            if (rnd.nextInt(4) == 0) {
                // Lose power again, this time during recovery.
                FaultyDevice again = new FaultyDevice(durable, new SplittableRandom(~seed));
                again.losePowerAtWrite(rnd.nextInt(1, 40));
                try {
                    replaySlot(again, slot);
                } catch (ConcordException expected) {
                    // Power lost during replay: the next replay starts again.
                }
            }
            if (slot != 0) {
                replaySlot(durable, slot);
            }

            try (ConcordFs fs2 = Images.mount(durable, 0)) {
                verify(fs2, synced, touchedSinceSync, model);
            }
        }
        FsckSupport.assertClean(image);
        Files.delete(image);
    }

    private void step(ConcordFs fs, SplittableRandom rnd, TreeMap<String, byte[]> model, Set<String> touched) {
        String[] dirs = {"", "/a", "/b", "/a/c"};
        int kind = rnd.nextInt(100);
        String dir = dirs[rnd.nextInt(dirs.length)];
        if (!dir.isEmpty() && !model.containsKey(dir)) {
            String parent = dir.substring(0, dir.lastIndexOf('/'));
            if (!parent.isEmpty() && !model.containsKey(parent)) {
                return;
            }
            long p = fs.resolve(Caller.ROOT, parent.isEmpty() ? "/" : parent, true).inode();
            fs.mkdir(Caller.ROOT, p, dir.substring(dir.lastIndexOf('/') + 1), 0755);
            model.put(dir, null);
            touched.add(dir);
            return;
        }
        String path = dir + "/f" + rnd.nextInt(FILES);
        long dirIno = fs.resolve(Caller.ROOT, dir.isEmpty() ? "/" : dir, true).inode();
        String name = path.substring(path.lastIndexOf('/') + 1);
        byte[] content = model.get(path);
        boolean exists = model.containsKey(path);
        touched.add(path);
        if (!exists) {
            fs.create(Caller.ROOT, dirIno, name, 0644);
            model.put(path, new byte[0]);
        } else if (kind < 55) {
            int off = rnd.nextInt(0, 3) == 0 ? content.length : rnd.nextInt(0, content.length + 9000);
            byte[] data = new byte[rnd.nextInt(1, rnd.nextInt(4) == 0 ? 300_000 : 9000)];
            rnd.nextBytes(data);
            long ino = fs.lookup(Caller.ROOT, dirIno, name).inode();
            fs.write(Caller.ROOT, ino, off, ByteBuffer.wrap(data));
            byte[] next = Arrays.copyOf(content, Math.max(content.length, off + data.length));
            System.arraycopy(data, 0, next, off, data.length);
            model.put(path, next);
        } else if (kind < 70) {
            int size = rnd.nextInt(0, content.length + 5000);
            long ino = fs.lookup(Caller.ROOT, dirIno, name).inode();
            fs.setattr(Caller.ROOT, ino, SetAttr.size(size));
            model.put(path, Arrays.copyOf(content, size));
        } else if (kind < 82) {
            fs.unlink(Caller.ROOT, dirIno, name);
            model.remove(path);
        } else {
            String toDir = dirs[rnd.nextInt(dirs.length)];
            if (!toDir.isEmpty() && !model.containsKey(toDir)) {
                return;
            }
            String to = toDir + "/f" + rnd.nextInt(FILES);
            if (to.equals(path)) {
                return;
            }
            long toIno = fs.resolve(Caller.ROOT, toDir.isEmpty() ? "/" : toDir, true).inode();
            fs.rename(Caller.ROOT, dirIno, name, toIno, to.substring(to.lastIndexOf('/') + 1), 0);
            model.put(to, model.remove(path));
            touched.add(to);
        }
    }

    private void verify(ConcordFs fs, TreeMap<String, byte[]> synced, Set<String> touched, TreeMap<String, byte[]> finalModel) {
        TreeMap<String, Attributes> onDisk = new TreeMap<>();
        walk(fs, fs.root(), "", onDisk);
        for (Map.Entry<String, byte[]> e : synced.entrySet()) {
            String path = e.getKey();
            if (touched.contains(path)) {
                continue;
            }
            Attributes a = onDisk.get(path);
            if (a == null) {
                fail("fsync'd " + path + " is missing after recovery");
            }
            if (e.getValue() == null) {
                assertTrue(a.isDirectory(), path + " should be a directory");
                continue;
            }
            assertTrue(a.isRegular(), path + " should be a file");
            assertEquals(e.getValue().length, a.size(), "size of fsync'd " + path);
            ByteBuffer back = ByteBuffer.allocate(e.getValue().length);
            fs.read(a.inode(), 0, back);
            assertArrayEquals(e.getValue(), back.array(), "content of fsync'd " + path);
        }
        // Everything present must read without error.
        for (Map.Entry<String, Attributes> e : onDisk.entrySet()) {
            if (e.getValue().isRegular()) {
                ByteBuffer all = ByteBuffer.allocate((int) e.getValue().size());
                assertEquals(e.getValue().size(), fs.read(e.getValue().inode(), 0, all));
            }
        }
        // Nothing may exist that the workload never created.
        for (String path : onDisk.keySet()) {
            assertTrue(synced.containsKey(path) || touched.contains(path), "unexpected " + path + " after recovery");
        }
    }

    private void walk(ConcordFs fs, long dir, String prefix, TreeMap<String, Attributes> out) {
        long cookie = 0;
        while (true) {
            List<DirListEntry> page = fs.readdir(Caller.ROOT, dir, cookie, 64);
            if (page.isEmpty()) {
                return;
            }
            for (DirListEntry e : page) {
                cookie = e.cookie();
                if (e.name().equals(".") || e.name().equals("..")) {
                    continue;
                }
                Attributes a = fs.lookup(Caller.ROOT, dir, e.name());
                String path = prefix + "/" + e.name();
                out.put(path, a);
                if (a.isDirectory()) {
                    walk(fs, a.inode(), path, out);
                }
            }
        }
    }
}
