package io.concord.harness.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.device.BlockDevice;
import io.concord.device.FaultyDevice;
import io.concord.dlm.membership.Member;
import io.concord.fs.Attributes;
import io.concord.fs.Caller;
import io.concord.fs.ConcordFs;
import io.concord.format.Superblock;
import io.concord.journal.Journal;
import io.concord.journal.JournalRegion;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node that cannot write back what it changed under a lock another node wants withdraws and
 * keeps that lock, also when it is unmounted: the other node gets it only once the withdrawn
 * node's journal is replayed and it is marked recovered (what the node-failure issue automates).
 */
class ClusterWithdrawTest {
    private static final Caller ROOT = Caller.ROOT;

    @TempDir
    Path dir;

    @Test
    @Timeout(120)
    void aFailedWriteBackWithdrawsTheNodeAndKeepsItsLocksUntilItIsRecovered() throws Exception {
        FaultyDevice[] faulty = new FaultyDevice[1];
        BlockDevice[] durable = new BlockDevice[1];
        try (InProcessCluster c = InProcessCluster.start(dir, 1, d -> {
            durable[0] = d;
            faulty[0] = new FaultyDevice(d, new Random(3));
            return faulty[0];
        })) {
            InProcessCluster.Node a = c.node(0);
            InProcessCluster.Node b = c.add(d -> d);
            Attributes f = a.fs.create(ROOT, a.fs.root(), "kept", 0644);
            a.fs.write(ROOT, f.inode(), 0, ByteBuffer.wrap(new byte[5000]));
            a.fs.sync(); // committed to A's journal, not yet written in place
            faulty[0].failWritesFrom(1);

            CompletableFuture<Attributes> wanted = CompletableFuture.supplyAsync(() -> b.fs.lookup(ROOT, b.fs.root(), "kept"));
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!a.fs.withdrawn() && System.nanoTime() < until) {
                Thread.sleep(20);
            }
            assertTrue(a.fs.withdrawn(), "the failed write-back withdrew node A");
            Thread.sleep(2000);
            assertFalse(wanted.isDone(), "B must not get a lock A could not write back");

            Member gone = a.space.self();
            a.close();
            durable[0].close();
            until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!b.failedSeen.contains(gone) && System.nanoTime() < until) {
                Thread.sleep(20);
            }
            assertTrue(b.failedSeen.contains(gone), "B was asked to recover A, which left without releasing");
            Thread.sleep(1000);
            assertFalse(wanted.isDone(), "nor after A unmounted: its locks wait for its recovery");

            // What recovery will do: replay A's journal from B, then mark A recovered.
            int slot = b.space.journalSlotOf(gone).orElseThrow();
            Superblock sb = b.fs.superblock();
            Journal.recover(b.device, new JournalRegion(slot, sb.journalFirstBlock(slot), sb.journalBlocks(), sb.blockSize(), sb.fsId()),
                    Clock.systemUTC());
            b.space.recovered(gone);
            Attributes seen = wanted.get(30, TimeUnit.SECONDS);
            assertEquals(f.inode(), seen.inode(), "A's file, committed before the failure, is there after the replay");
            b.fs.sync();
        }
    }
}
