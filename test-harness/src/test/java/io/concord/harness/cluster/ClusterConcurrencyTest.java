package io.concord.harness.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.errors.FsException;
import io.concord.fs.Attributes;
import io.concord.fs.Caller;
import io.concord.fs.ConcordFs;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nodes working at once on the same directories and files, through the filesystem's API on the
 * real DLM: operations that take the same locks in opposite orders all finish (no deadlock, no
 * livelock), allocation by several nodes at once never hands a block out twice (fsck after), and a
 * file unlinked on one node stays usable on the node that has it open.
 */
class ClusterConcurrencyTest {
    private static final Caller ROOT = Caller.ROOT;
    private static final long BOUND_SECONDS = 60;

    @TempDir
    Path dir;

    @Test
    @Timeout(180)
    void renamesAndParentChildOperationsInOppositeDirectionsAllFinish() throws Exception {
        try (InProcessCluster c = InProcessCluster.start(dir, 2)) {
            ConcordFs a = c.node(0).fs;
            ConcordFs b = c.node(1).fs;
            long da = a.mkdir(ROOT, a.root(), "a", 0755).inode();
            long db = a.mkdir(ROOT, a.root(), "b", 0755).inode();
            a.create(ROOT, da, "x", 0644);
            b.create(ROOT, db, "y", 0644);
            int rounds = 150;
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<Integer>> work = new ArrayList<>();
                // Node A moves x from a to b and back; node B moves y from b to a and back.
                work.add(pool.submit(() -> shuttle(a, da, db, "x", rounds)));
                work.add(pool.submit(() -> shuttle(b, db, da, "y", rounds)));
                // Parent/child in opposite directions: A makes and removes a/sub while B renames
                // files into a/ from the root's side and links into b/.
                work.add(pool.submit(() -> {
                    for (int k = 0; k < rounds; k++) {
                        a.mkdir(ROOT, da, "sub", 0755);
                        a.rmdir(ROOT, da, "sub");
                    }
                    return rounds;
                }));
                work.add(pool.submit(() -> {
                    for (int k = 0; k < rounds; k++) {
                        Attributes f = b.create(ROOT, b.root(), "t" + k, 0644);
                        b.rename(ROOT, b.root(), "t" + k, da, "t" + k, 0);
                        b.link(ROOT, f.inode(), db, "l" + k);
                        b.unlink(ROOT, da, "t" + k);
                        b.unlink(ROOT, db, "l" + k);
                    }
                    return rounds;
                }));
                for (Future<Integer> f : work) {
                    assertEquals(rounds, f.get(BOUND_SECONDS, TimeUnit.SECONDS));
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals(da, a.lookup(ROOT, a.root(), "a").inode());
            b.lookup(ROOT, da, "x");
            a.lookup(ROOT, db, "y");
        }
    }

    private static int shuttle(ConcordFs fs, long from, long to, String name, int rounds) {
        for (int k = 0; k < rounds; k++) {
            fs.rename(ROOT, from, name, to, name, 0);
            fs.rename(ROOT, to, name, from, name, 0);
        }
        return rounds;
    }

    @Test
    @Timeout(180)
    void nodesAllocatingAtOnceNeverShareABlock() throws Exception {
        long seed = Long.getLong("concord.alloc.seed", System.nanoTime());
        System.out.println("nodesAllocatingAtOnceNeverShareABlock seed " + seed);
        try (InProcessCluster c = InProcessCluster.start(dir, 3)) {
            ConcordFs first = c.node(0).fs;
            long shared = first.mkdir(ROOT, first.root(), "shared", 0755).inode();
            Map<String, byte[]> written = new ConcurrentHashMap<>();
            ExecutorService pool = Executors.newFixedThreadPool(6);
            try {
                List<Future<?>> work = new ArrayList<>();
                for (int n = 0; n < c.size(); n++) {
                    ConcordFs fs = c.node(n).fs;
                    long own = fs.mkdir(ROOT, fs.root(), "own" + n, 0755).inode();
                    for (int t = 0; t < 2; t++) {
                        long where = t == 0 ? shared : own;
                        String parentName = t == 0 ? "shared" : "own" + n;
                        String prefix = "n" + n + "t" + t + "-";
                        SplittableRandom rnd = new SplittableRandom(seed + 31L * n + t);
                        work.add(pool.submit(() -> {
                            for (int k = 0; k < 60; k++) {
                                byte[] data = new byte[1 + rnd.nextInt(40_000)];
                                rnd.nextBytes(data);
                                Attributes f = fs.create(ROOT, where, prefix + k, 0644);
                                fs.write(ROOT, f.inode(), 0, ByteBuffer.wrap(data));
                                written.put(parentName + "/" + prefix + k, data);
                                if (k % 7 == 3) {
                                    fs.unlink(ROOT, where, prefix + (k - 2));
                                    written.remove(parentName + "/" + prefix + (k - 2));
                                }
                            }
                            return null;
                        }));
                    }
                }
                for (Future<?> f : work) {
                    f.get(BOUND_SECONDS * 2, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            // Every node reads every surviving file back whole.
            for (int n = 0; n < c.size(); n++) {
                ConcordFs fs = c.node(n).fs;
                for (var e : written.entrySet()) {
                    String[] parts = e.getKey().split("/");
                    long d = fs.lookup(ROOT, fs.root(), parts[0]).inode();
                    Attributes a = fs.lookup(ROOT, d, parts[1]);
                    ByteBuffer got = ByteBuffer.allocate(e.getValue().length);
                    fs.read(a.inode(), 0, got);
                    assertArrayEquals(e.getValue(), got.array(), e.getKey() + " on n" + (n + 1));
                }
            }
        }
    }

    @Test
    @Timeout(120)
    void aFileUnlinkedOnOneNodeStaysUsableWhereItIsOpenAndIsFreedByTheLastClose() throws Exception {
        try (InProcessCluster c = InProcessCluster.start(dir, 2)) {
            ConcordFs a = c.node(0).fs;
            ConcordFs b = c.node(1).fs;
            long before = a.statfs().freeBlocks();
            Attributes f = a.create(ROOT, a.root(), "open-here", 0644);
            a.openCreated(f.inode());
            byte[] data = new byte[300_000];
            new SplittableRandom(5).nextBytes(data);
            a.write(ROOT, f.inode(), 0, ByteBuffer.wrap(data));
            b.unlink(ROOT, b.root(), "open-here");
            assertThrows(FsException.class, () -> b.lookup(ROOT, b.root(), "open-here"));
            // Still whole and writable on A.
            ByteBuffer got = ByteBuffer.allocate(data.length);
            a.read(f.inode(), 0, got);
            assertArrayEquals(data, got.array());
            a.write(ROOT, f.inode(), data.length, ByteBuffer.wrap(data, 0, 4096));
            assertEquals(data.length + 4096, a.getattr(f.inode()).size());
            assertEquals(0, a.getattr(f.inode()).nlink());
            a.release(f.inode());
            assertThrows(FsException.class, () -> a.getattr(f.inode()), "freed by the last close");
            assertTrue(a.statfs().freeBlocks() >= before - 2, "the blocks came back: " + a.statfs().freeBlocks() + " vs " + before);

            // Open on both nodes: the first close leaves it, the second frees it.
            Attributes g = b.create(ROOT, b.root(), "open-both", 0644);
            b.write(ROOT, g.inode(), 0, ByteBuffer.wrap(data));
            a.open(ROOT, g.inode(), 2);
            b.openCreated(g.inode());
            a.unlink(ROOT, a.root(), "open-both");
            b.release(g.inode());
            ByteBuffer again = ByteBuffer.allocate(data.length);
            a.read(g.inode(), 0, again);
            assertArrayEquals(data, again.array(), "still open on A");
            a.release(g.inode());
            assertThrows(FsException.class, () -> b.getattr(g.inode()));
            assertFalse(a.withdrawn() || b.withdrawn());
        }
    }
}
