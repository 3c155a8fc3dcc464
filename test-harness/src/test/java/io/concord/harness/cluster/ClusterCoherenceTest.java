package io.concord.harness.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.concord.errors.FsException;
import io.concord.fs.Attributes;
import io.concord.fs.Caller;
import io.concord.fs.ConcordFs;
import io.concord.fs.DirListEntry;
import io.concord.fs.SetAttr;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Coherence between nodes at the filesystem's own API (glocks on the real DLM, no kernel in
 * front): a change that returned on one node is seen by the next operation on another. A seeded
 * random sequence of changes, each made on a random node, is checked after every step on another
 * node against a model of what was acknowledged.
 */
class ClusterCoherenceTest {
    private static final Caller ROOT = Caller.ROOT;

    @TempDir
    Path dir;

    @Test
    @Timeout(180)
    void everyNodeSeesEveryAcknowledgedChange() throws Exception {
        long seed = Long.getLong("concord.coherence.seed", System.nanoTime());
        int steps = Integer.getInteger("concord.coherence.steps", 400);
        System.out.println("ClusterCoherenceTest seed " + seed + " (rerun: -Dconcord.coherence.seed=" + seed + ")");
        try (InProcessCluster c = InProcessCluster.start(dir, 3)) {
            new Workload(c, new SplittableRandom(seed), seed).run(steps);
        }
    }

    @Test
    @Timeout(120)
    void aNameLookedUpAbsentOnOneNodeIsFoundOnceAnotherCreatesIt() throws Exception {
        try (InProcessCluster c = InProcessCluster.start(dir, 2)) {
            ConcordFs a = c.node(0).fs;
            ConcordFs b = c.node(1).fs;
            for (int k = 0; k < 100; k++) {
                String name = "late-" + k;
                ConcordFs x = k % 2 == 0 ? a : b;
                ConcordFs y = k % 2 == 0 ? b : a;
                assertThrows(FsException.class, () -> y.lookup(ROOT, y.root(), name));
                Attributes made = x.create(ROOT, x.root(), name, 0644);
                assertEquals(made.inode(), y.lookup(ROOT, y.root(), name).inode(), "step " + k);
                x.unlink(ROOT, x.root(), name);
                assertThrows(FsException.class, () -> y.lookup(ROOT, y.root(), name), "step " + k);
            }
        }
    }

    /** The seeded workload and its model. */
    private static final class Workload {
        private final InProcessCluster c;
        private final SplittableRandom rnd;
        private final long seed;
        /** Name (in the root or in "d/") to model inode id. */
        private final TreeMap<String, Integer> names = new TreeMap<>();
        private final Map<Integer, byte[]> contents = new HashMap<>();
        private final Map<Integer, Integer> modes = new HashMap<>();
        private final TreeSet<String> dirs = new TreeSet<>();
        private int nextId;
        private int checks;

        Workload(InProcessCluster c, SplittableRandom rnd, long seed) {
            this.c = c;
            this.rnd = rnd;
            this.seed = seed;
        }

        void run(int steps) {
            for (int step = 0; step < steps; step++) {
                int actor = rnd.nextInt(c.size());
                ConcordFs fs = c.node(actor).fs;
                String what = change(fs);
                int observer = (actor + 1 + rnd.nextInt(c.size() - 1)) % c.size();
                try {
                    verify(c.node(observer).fs, "seed " + seed + " step " + step + " (" + what + " on n" + (actor + 1) + ", checked on n"
                            + (observer + 1) + ")");
                } catch (AssertionError e) {
                    StringBuilder states = new StringBuilder(e.getMessage());
                    for (int i = 0; i < c.size(); i++) {
                        ConcordFs n = c.node(i).fs;
                        states.append("\n  n").append(i + 1).append(": ").append(n.lockState(n.root()));
                    }
                    throw new AssertionError(states.toString(), e);
                }
            }
            for (int i = 0; i < c.size(); i++) {
                verify(c.node(i).fs, "seed " + seed + " at the end on n" + (i + 1));
            }
            System.out.println("ClusterCoherenceTest: " + checks + " checks, 0 stale");
        }

        private String pick() {
            List<String> l = new ArrayList<>(names.keySet());
            return l.get(rnd.nextInt(l.size()));
        }

        private String freshName() {
            String d = !dirs.isEmpty() && rnd.nextBoolean() ? dirs.first() + "/" : "";
            return d + "f" + rnd.nextInt(40);
        }

        private long parent(ConcordFs fs, String path) {
            int slash = path.indexOf('/');
            return slash < 0 ? fs.root() : fs.lookup(ROOT, fs.root(), path.substring(0, slash)).inode();
        }

        private static String leaf(String path) {
            int slash = path.indexOf('/');
            return slash < 0 ? path : path.substring(slash + 1);
        }

        private long ino(ConcordFs fs, String path) {
            return fs.lookup(ROOT, parent(fs, path), leaf(path)).inode();
        }

        private byte[] randomBytes(int n) {
            byte[] b = new byte[n];
            for (int i = 0; i < n; i++) {
                b[i] = (byte) rnd.nextInt(256);
            }
            return b;
        }

        private String change(ConcordFs fs) {
            int op = names.isEmpty() ? 0 : rnd.nextInt(10);
            switch (op) {
                case 0, 1 -> {
                    String n = freshName();
                    if (names.containsKey(n)) {
                        return "nothing";
                    }
                    Attributes a = fs.create(ROOT, parent(fs, n), leaf(n), 0644);
                    byte[] data = randomBytes(rnd.nextInt(6000));
                    fs.write(ROOT, a.inode(), 0, ByteBuffer.wrap(data));
                    int id = nextId++;
                    names.put(n, id);
                    contents.put(id, data);
                    modes.put(id, 0644);
                    return "create " + n;
                }
                case 2 -> {
                    String n = pick();
                    int id = names.get(n);
                    byte[] old = contents.get(id);
                    int at = rnd.nextInt(old.length + 1 + 5000);
                    byte[] data = randomBytes(1 + rnd.nextInt(9000));
                    fs.write(ROOT, ino(fs, n), at, ByteBuffer.wrap(data));
                    byte[] now = java.util.Arrays.copyOf(old, Math.max(old.length, at + data.length));
                    System.arraycopy(data, 0, now, at, data.length);
                    contents.put(id, now);
                    return "write " + n + " at " + at;
                }
                case 3 -> {
                    String n = pick();
                    int id = names.get(n);
                    int size = rnd.nextInt(contents.get(id).length + 3000);
                    fs.setattr(ROOT, ino(fs, n), SetAttr.size(size));
                    contents.put(id, java.util.Arrays.copyOf(contents.get(id), size));
                    return "truncate " + n + " to " + size;
                }
                case 4 -> {
                    String from = pick();
                    String to = freshName();
                    if (to.equals(from)) {
                        return "nothing";
                    }
                    fs.rename(ROOT, parent(fs, from), leaf(from), parent(fs, to), leaf(to), 0);
                    if (names.get(from).equals(names.get(to))) {
                        return "rename " + from + " -> " + to + " (links to one inode: nothing happens)";
                    }
                    int id = names.remove(from);
                    names.put(to, id);
                    return "rename " + from + " -> " + to;
                }
                case 5 -> {
                    String n = pick();
                    fs.unlink(ROOT, parent(fs, n), leaf(n));
                    names.remove(n);
                    return "unlink " + n;
                }
                case 6 -> {
                    String from = pick();
                    String to = freshName();
                    if (names.containsKey(to)) {
                        return "nothing";
                    }
                    fs.link(ROOT, ino(fs, from), parent(fs, to), leaf(to));
                    names.put(to, names.get(from));
                    return "link " + from + " -> " + to;
                }
                case 7 -> {
                    String n = pick();
                    int mode = 0600 | rnd.nextInt(0100);
                    fs.setattr(ROOT, ino(fs, n), SetAttr.mode(mode));
                    modes.put(names.get(n), mode);
                    return "chmod " + n;
                }
                case 8 -> {
                    if (dirs.isEmpty()) {
                        fs.mkdir(ROOT, fs.root(), "d", 0755);
                        dirs.add("d");
                        return "mkdir d";
                    }
                    if (names.keySet().stream().noneMatch(k -> k.startsWith("d/"))) {
                        fs.rmdir(ROOT, fs.root(), "d");
                        dirs.clear();
                        return "rmdir d";
                    }
                    return "nothing";
                }
                default -> {
                    String n = pick();
                    int id = names.get(n);
                    byte[] data = randomBytes(1 + rnd.nextInt(3000));
                    long ino = ino(fs, n);
                    long size = fs.getattr(ino).size();
                    fs.write(ROOT, ino, size, ByteBuffer.wrap(data));
                    byte[] old = contents.get(id);
                    byte[] now = java.util.Arrays.copyOf(old, old.length + data.length);
                    System.arraycopy(data, 0, now, old.length, data.length);
                    contents.put(id, now);
                    return "append " + n;
                }
            }
        }

        private void verify(ConcordFs fs, String where) {
            TreeSet<String> listed = new TreeSet<>();
            for (DirListEntry e : fs.readdir(ROOT, fs.root(), 0, 10_000)) {
                if (!e.name().equals(".") && !e.name().equals("..")) {
                    listed.add(e.name());
                }
            }
            for (String d : dirs) {
                long dino = fs.lookup(ROOT, fs.root(), d).inode();
                listed.remove(d);
                for (DirListEntry e : fs.readdir(ROOT, dino, 0, 10_000)) {
                    if (!e.name().equals(".") && !e.name().equals("..")) {
                        listed.add(d + "/" + e.name());
                    }
                }
            }
            assertEquals(names.keySet(), listed, "names, " + where);
            checks++;
            Map<Integer, Long> inodeOf = new HashMap<>();
            for (var e : names.entrySet()) {
                Attributes a = fs.lookup(ROOT, parent(fs, e.getKey()), leaf(e.getKey()));
                int id = e.getValue();
                byte[] want = contents.get(id);
                assertEquals(want.length, a.size(), "size of " + e.getKey() + ", " + where);
                assertEquals(modes.get(id), a.mode() & 07777, "mode of " + e.getKey() + ", " + where);
                long links = names.values().stream().filter(v -> v == id).count();
                assertEquals(links, a.nlink(), "nlink of " + e.getKey() + ", " + where);
                Long same = inodeOf.putIfAbsent(id, a.inode());
                if (same != null) {
                    assertEquals(same, a.inode(), "hard links of one inode, " + where);
                }
                ByteBuffer got = ByteBuffer.allocate(want.length + 10);
                int n = fs.read(a.inode(), 0, got);
                assertEquals(want.length, Math.max(n, 0), "bytes read from " + e.getKey() + ", " + where);
                assertArrayEquals(want, java.util.Arrays.copyOf(got.array(), want.length), "content of " + e.getKey() + ", " + where);
                checks += 5;
            }
        }
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
