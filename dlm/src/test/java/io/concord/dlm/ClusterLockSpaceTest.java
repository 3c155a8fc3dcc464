package io.concord.dlm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.dlm.LocalCluster.Node;
import io.concord.dlm.membership.Member;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Several DLM nodes in one JVM, on a real ZooKeeper server and real connections. */
@Timeout(120)
class ClusterLockSpaceTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private LocalCluster cluster;

    @BeforeEach
    void start() throws Exception {
        cluster = new LocalCluster(LocalCluster.tempDir(), "test");
    }

    @AfterEach
    void stop() throws Exception {
        cluster.close();
    }

    @Test
    void exclusiveLockBlocksAnotherNodeSendsItABastAndPassesOnRelease() throws Exception {
        Node a = cluster.start("a", "fs");
        Node b = cluster.start("b", "fs");
        for (ResourceName resource : resources(8)) {
            LinkedBlockingQueue<LockMode> basts = new LinkedBlockingQueue<>();
            Lock held = a.space.newLock(resource, (lock, wanted) -> basts.add(wanted));
            assertEquals(LockMode.EX, held.lock(LockMode.EX, WAIT));
            Lock wanting = b.space.newLock(resource, null);
            CompletableFuture<LockMode> grant = wanting.request(LockMode.PR);
            assertEquals(LockMode.PR, basts.poll(10, TimeUnit.SECONDS), "BAST for " + resource);
            assertFalse(grant.isDone(), "granted PR on " + resource + " while another node holds EX");
            held.unlock().get(10, TimeUnit.SECONDS);
            assertEquals(LockMode.PR, grant.get(10, TimeUnit.SECONDS));
            assertEquals(LockMode.PR, wanting.grantedMode());
            wanting.unlock().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void twoNodesTakingExclusiveTurnsOnBastsNeverStall() throws Exception {
        Node a = cluster.start("a", "fs");
        Node b = cluster.start("b", "fs");
        for (Node masterNode : List.of(a, b)) {
            ResourceName resource = resources(50).stream()
                    .filter(r -> a.space.masterOf(r).incarnation() == masterNode.self().incarnation()).findFirst().orElseThrow();
            java.util.concurrent.atomic.AtomicLong bounces = new java.util.concurrent.atomic.AtomicLong();
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            List<CompletableFuture<Void>> players = new ArrayList<>();
            for (Node node : List.of(a, b)) {
                java.util.concurrent.Semaphore blocked = new java.util.concurrent.Semaphore(0);
                Lock lock = node.space.newLock(resource, (l, wanted) -> blocked.release());
                players.add(CompletableFuture.runAsync(() -> {
                    try {
                        while (!stop.get() && bounces.get() < 3000) {
                            lock.request(LockMode.EX).get(10, TimeUnit.SECONDS);
                            bounces.incrementAndGet();
                            // Hold until the other node's request sends a BAST (none comes after the last bounce).
                            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                            while (!blocked.tryAcquire(10, TimeUnit.MILLISECONDS) && bounces.get() < 3000) {
                                if (System.nanoTime() > deadline) {
                                    throw new IllegalStateException("no BAST within 10 s");
                                }
                            }
                            blocked.drainPermits();
                            lock.unlock().get(10, TimeUnit.SECONDS);
                        }
                    } catch (Exception e) {
                        stop.set(true);
                        throw new IllegalStateException(node.name + " stalled at bounce " + bounces.get() + " on " + resource
                                + "\n" + a.space.describe() + b.space.describe(), e);
                    }
                }, java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()));
            }
            CompletableFuture.allOf(players.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            assertTrue(bounces.get() >= 3000);
        }
    }

    @Test
    void framesFromAnOlderEpochOrAnImpostorAreRefusedAndCurrentOnesServed() throws Exception {
        Node a = cluster.start("a", "fs");
        Node b = cluster.start("b", "fs");
        List<ResourceName> onA = resources(200).stream()
                .filter(r -> a.space.masterOf(r).incarnation() == a.self().incarnation()).limit(3).toList();
        long epoch = a.space.epoch();
        long bIncarnation = b.self().incarnation();
        int wire = io.concord.dlm.wire.Frame.lockSpaceId("fs");
        // As b, but in the epoch before: must be dropped.
        b.transport.send("a", a.transport.localAddress(), new io.concord.dlm.wire.Frame(wire, epoch - 1, bIncarnation,
                new io.concord.dlm.wire.Message.Request(900_001, onA.get(0), LockMode.EX, false)));
        // Someone else holding the key, claiming to be b: must be dropped.
        try (io.concord.dlm.net.NettyTransport impostor = io.concord.dlm.net.NettyTransport.start("mallory",
                new java.net.InetSocketAddress("127.0.0.1", 0), io.concord.dlm.net.ClusterKey.load(cluster.keyFile()))) {
            impostor.send("a", a.transport.localAddress(), new io.concord.dlm.wire.Frame(wire, epoch, bIncarnation,
                    new io.concord.dlm.wire.Message.Request(900_002, onA.get(1), LockMode.EX, false)));
            // As b, now: served, so an EX of a's own then waits (this is what shows the test could fail).
            b.transport.send("a", a.transport.localAddress(), new io.concord.dlm.wire.Frame(wire, epoch, bIncarnation,
                    new io.concord.dlm.wire.Message.Request(900_003, onA.get(2), LockMode.EX, false)));
            Thread.sleep(500);
        }
        assertEquals(LockMode.EX, a.space.newLock(onA.get(0), null).lock(LockMode.EX, Duration.ofSeconds(2)), "stale-epoch request was queued");
        assertEquals(LockMode.EX, a.space.newLock(onA.get(1), null).lock(LockMode.EX, Duration.ofSeconds(2)), "impostor's request was queued");
        assertThrows(LockTimeoutException.class, () -> a.space.newLock(onA.get(2), null).lock(LockMode.EX, Duration.ofMillis(500)));
    }

    @Test
    void tryLockFailsAtOnceAndCancelWithdrawsAQueuedRequest() throws Exception {
        Node a = cluster.start("a", "fs");
        Node b = cluster.start("b", "fs");
        ResourceName resource = new ResourceName('I', 42);
        Lock held = a.space.newLock(resource, null);
        held.lock(LockMode.EX, WAIT);
        Lock tryer = b.space.newLock(resource, null);
        ExecutionException refused = assertThrows(ExecutionException.class,
                () -> tryer.request(LockMode.CR, Set.of(LockFlag.NOQUEUE)).get(10, TimeUnit.SECONDS));
        assertTrue(refused.getCause() instanceof WouldBlockException, refused.toString());
        CompletableFuture<LockMode> queued = tryer.request(LockMode.CR);
        assertTrue(tryer.cancel());
        ExecutionException cancelled = assertThrows(ExecutionException.class, () -> queued.get(10, TimeUnit.SECONDS));
        assertTrue(cancelled.getCause() instanceof LockCancelledException, cancelled.toString());
        held.unlock().get(10, TimeUnit.SECONDS);
        assertEquals(LockMode.CR, tryer.lock(LockMode.CR, WAIT));
    }

    @Test
    void valueBlockFollowsTheLastWriterAcrossNodes() throws Exception {
        Node a = cluster.start("a", "fs");
        Node b = cluster.start("b", "fs");
        for (ResourceName resource : resources(6)) {
            Lock writer = a.space.newLock(resource, null);
            writer.lock(LockMode.EX, WAIT);
            byte[] value = value(resource.number());
            writer.setValueBlock(value);
            writer.request(LockMode.NL).get(10, TimeUnit.SECONDS); // down-conversion publishes
            Lock reader = b.space.newLock(resource, null);
            reader.lock(LockMode.PR, WAIT);
            assertArrayEquals(value, reader.valueBlock().value(), resource.toString());
            assertEquals(1, reader.valueBlock().sequence());
            assertTrue(reader.valueBlock().valid());
            reader.unlock().get(10, TimeUnit.SECONDS);
            writer.unlock().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aJoiningNodeTakesOverMastersWithoutLosingLocksOrValueBlocks() throws Exception {
        Node a = cluster.start("a", "fs");
        Node b = cluster.start("b", "fs");
        List<ResourceName> resources = resources(60);
        Map<ResourceName, Lock> held = new HashMap<>();
        for (ResourceName resource : resources) {
            Lock lock = (resource.number() % 2 == 0 ? a : b).space.newLock(resource, null);
            lock.lock(LockMode.EX, WAIT);
            lock.setValueBlock(value(resource.number()));
            lock.request(LockMode.PR).get(10, TimeUnit.SECONDS);
            held.put(resource, lock);
        }
        Node c = cluster.start("c", "fs");
        long movedToC = resources.stream().filter(r -> c.space.masterOf(r).incarnation() == c.self().incarnation()).count();
        assertTrue(movedToC > 5, "only " + movedToC + " of 60 resources moved to the new node");
        List<CompletableFuture<LockMode>> wanted = new ArrayList<>();
        List<Lock> wanters = new ArrayList<>();
        for (ResourceName resource : resources) {
            Lock lock = c.space.newLock(resource, null);
            wanters.add(lock);
            wanted.add(lock.request(LockMode.EX));
        }
        Thread.sleep(300);
        assertTrue(wanted.stream().noneMatch(CompletableFuture::isDone), "EX granted over PR held on another node");
        for (Lock lock : held.values()) {
            lock.unlock().get(10, TimeUnit.SECONDS);
        }
        for (int i = 0; i < resources.size(); i++) {
            assertEquals(LockMode.EX, wanted.get(i).get(10, TimeUnit.SECONDS));
            LockValueBlock lvb = wanters.get(i).valueBlock();
            assertArrayEquals(value(resources.get(i).number()), lvb.value(), resources.get(i) + " lost its value block");
            assertEquals(1, lvb.sequence());
            assertTrue(lvb.valid());
        }
    }

    @Test
    void aDeadNodesLocksHoldUntilTheRecoveryHookSaysItIsRecovered() throws Exception {
        Node a = cluster.start("a", "fs");
        Node b = cluster.start("b", "fs");
        Node c = cluster.start("c", "fs");
        List<ResourceName> resources = resources(30);
        for (ResourceName resource : resources) {
            Lock lock = c.space.newLock(resource, null);
            lock.lock(LockMode.EX, WAIT);
            lock.setValueBlock(value(resource.number()));
        }
        Member dead = c.self();
        c.crash();
        Member told = a.failed.poll(20, TimeUnit.SECONDS);
        assertEquals(dead, told, "a's recovery hook");
        assertEquals(dead, b.failed.poll(20, TimeUnit.SECONDS), "b's recovery hook");
        List<CompletableFuture<LockMode>> wanted = new ArrayList<>();
        List<Lock> wanters = new ArrayList<>();
        for (ResourceName resource : resources) {
            Lock lock = (resource.number() % 2 == 0 ? a : b).space.newLock(resource, null);
            wanters.add(lock);
            wanted.add(lock.request(LockMode.PR));
        }
        Thread.sleep(1000);
        assertTrue(wanted.stream().noneMatch(CompletableFuture::isDone), "granted before the dead node was recovered");
        assertTrue(a.space.frozen() && b.space.frozen());
        a.space.recovered(dead);
        for (int i = 0; i < resources.size(); i++) {
            assertEquals(LockMode.PR, wanted.get(i).get(20, TimeUnit.SECONDS));
            LockValueBlock lvb = wanters.get(i).valueBlock();
            // Invalid where a survivor mastered it; where the dead node mastered it too, nobody
            // knows the value existed: sequence 0.
            assertTrue(!lvb.valid() || lvb.sequence() == 0, "the dead EX holder may have changed " + resources.get(i) + "'s value block: " + lvb);
        }
        assertFalse(a.space.frozen());
    }

    @Test
    void aSecondFailureDuringRecoveryIsWaitedForToo() throws Exception {
        Node a = cluster.start("a", "fs");
        Node b = cluster.start("b", "fs");
        Node c = cluster.start("c", "fs");
        Node d = cluster.start("d", "fs");
        List<ResourceName> resources = resources(20);
        for (ResourceName resource : resources) {
            Lock lock = (resource.number() % 2 == 0 ? c : d).space.newLock(resource, null);
            lock.lock(LockMode.EX, WAIT);
        }
        Lock survivorHeld = a.space.newLock(new ResourceName('J', 1), null);
        survivorHeld.lock(LockMode.EX, WAIT);
        Member first = c.self();
        Member second = d.self();
        c.crash();
        assertEquals(first, a.failed.poll(20, TimeUnit.SECONDS));
        d.crash();
        assertEquals(second, a.failed.poll(20, TimeUnit.SECONDS));
        a.space.recovered(first);
        List<CompletableFuture<LockMode>> wanted = new ArrayList<>();
        for (ResourceName resource : resources) {
            wanted.add(b.space.newLock(resource, null).request(LockMode.EX));
        }
        Thread.sleep(1000);
        assertTrue(wanted.stream().noneMatch(CompletableFuture::isDone), "granted while the second dead node awaits recovery");
        assertEquals(LockMode.EX, survivorHeld.grantedMode(), "a survivor's lock stays usable through recovery");
        b.space.recovered(second);
        for (CompletableFuture<LockMode> grant : wanted) {
            assertEquals(LockMode.EX, grant.get(20, TimeUnit.SECONDS));
        }
    }

    @Test
    void eachNodeClaimsItsOwnJournalAndADeadOnesStaysTakenUntilRecovered() throws Exception {
        Node a = cluster.start("a", "fs");
        Node b = cluster.start("b", "fs");
        assertEquals(0, a.space.claimJournalSlot(3));
        assertEquals(1, b.space.claimJournalSlot(3));
        Member dead = b.self();
        b.crash();
        assertEquals(dead, a.failed.poll(20, TimeUnit.SECONDS));
        assertEquals(java.util.OptionalInt.of(1), a.space.journalSlotOf(dead), "the survivor must find the dead node's journal");
        Node c = cluster.start("c", "fs");
        assertEquals(2, c.space.claimJournalSlot(3), "a dead node's journal was given away before its recovery");
        a.space.recovered(dead);
        Node d = cluster.start("d", "fs");
        assertEquals(1, d.space.claimJournalSlot(3));
    }

    @Test
    void aNodeRestartedBeforeItsOldSessionExpiredJoinsOnceItHasAndItsOldLifeIsRecovered() throws Exception {
        Node a = cluster.start("a", "fs");
        Node b = cluster.start("b", "fs");
        ResourceName resource = new ResourceName('I', 77);
        b.space.newLock(resource, null).lock(LockMode.EX, WAIT);
        Member oldLife = b.self();
        // A process crash: the connections go at once, the ZooKeeper session only when it expires.
        b.cutConnections();
        b.client.getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();
        Node b2 = cluster.start("b", "fs");
        assertTrue(b2.self().incarnation() != oldLife.incarnation(), "a restart is a new incarnation");
        assertEquals(oldLife, a.failed.poll(20, TimeUnit.SECONDS));
        Lock again = b2.space.newLock(resource, null);
        CompletableFuture<LockMode> grant = again.request(LockMode.EX);
        Thread.sleep(500);
        assertFalse(grant.isDone(), "the old life's EX was released before its recovery");
        a.space.recovered(oldLife);
        assertEquals(LockMode.EX, grant.get(20, TimeUnit.SECONDS));
    }

    @Test
    void aRequestRacingAnUnlockOfTheSameLockNeverLeavesAGrantTheHolderDoesNotKnow() throws Exception {
        Node a = cluster.start("a", "fs");
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(2)) {
            for (int i = 0; i < 20_000; i++) {
                ResourceName r = new ResourceName('I', 10_000 + i);
                Lock lock = a.space.newLock(r, null);
                java.util.concurrent.CyclicBarrier go = new java.util.concurrent.CyclicBarrier(2);
                var request = pool.submit(() -> {
                    go.await();
                    return lock.request(LockMode.EX);
                });
                var unlock = pool.submit(() -> {
                    go.await();
                    return lock.unlock();
                });
                CompletableFuture<LockMode> grant = request.get(10, TimeUnit.SECONDS);
                unlock.get(10, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS);
                try {
                    grant.get(10, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    // withdrawn by the unlock: fine
                }
                lock.unlock().get(10, TimeUnit.SECONDS);
                assertNull(lock.grantedMode());
                assertTrue(a.space.master().heldModes(r, n -> true).isEmpty(),
                        "iteration " + i + ": the holder holds nothing but the master has " + a.space.master().heldModes(r, n -> true));
            }
        }
    }

    @Test
    void aCleanLeaveNeedsNoRecovery() throws Exception {
        Node a = cluster.start("a", "fs");
        Node b = cluster.start("b", "fs");
        ResourceName resource = new ResourceName('I', 7);
        b.space.newLock(resource, null).lock(LockMode.EX, WAIT);
        b.leave();
        Lock lock = a.space.newLock(resource, null);
        assertEquals(LockMode.EX, lock.lock(LockMode.EX, WAIT));
        assertNull(a.failed.poll(500, TimeUnit.MILLISECONDS), "a clean leave called the recovery hook");
    }

    @Test
    void locksOfAClosedSpaceFail() throws Exception {
        Node a = cluster.start("a", "fs");
        Lock lock = a.space.newLock(new ResourceName('I', 1), null);
        lock.lock(LockMode.EX, WAIT);
        a.space.close();
        assertThrows(LockSpaceClosedException.class, () -> a.space.newLock(new ResourceName('I', 2), null));
        assertNotNull(lock);
    }

    static List<ResourceName> resources(int count) {
        List<ResourceName> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(new ResourceName('I', 1000 + i));
        }
        return out;
    }

    static byte[] value(long seed) {
        byte[] v = new byte[LockValueBlock.SIZE];
        Arrays.fill(v, (byte) seed);
        v[0] = (byte) (seed >>> 8);
        return v;
    }
}
