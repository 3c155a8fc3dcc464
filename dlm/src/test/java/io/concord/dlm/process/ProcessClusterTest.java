package io.concord.dlm.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.dlm.check.LockChecker;
import io.concord.dlm.check.LockHistory;
import io.concord.dlm.check.TcpProxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * DLM nodes in processes of their own, failing as real nodes do: SIGKILL, SIGSTOP past the session
 * timeout, a node cut off ZooKeeper, and a second death during recovery. What every scenario
 * checks is the recovery contract of {@code LockSpaceRecovery}: a departed node's locks are not
 * released, and nothing conflicting is granted, until some survivor's owner says it is recovered.
 */
@Timeout(90)
class ProcessClusterTest {
    private static final Duration HOOK = Duration.ofSeconds(20);
    private static final Duration ANSWER = Duration.ofSeconds(10);
    // Long enough for a wrongly released lock to be granted: a round trip is a millisecond.
    private static final Duration HELD_BACK = Duration.ofMillis(1200);
    private static final List<String> WAITER_MODES = List.of("PR", "EX", "CW", "CR", "PW");

    private ProcessCluster cluster;
    private TcpProxy proxy;

    @BeforeEach
    void start() throws Exception {
        cluster = new ProcessCluster("proc");
        System.out.println("node logs and histories in " + cluster.dir());
    }

    @AfterEach
    void stop() throws Exception {
        try {
            cluster.close();
        } finally {
            if (proxy != null) {
                proxy.close();
            }
        }
    }

    @Test
    void aKilledNodesLocksAreHeldUntilASurvivorSaysItIsRecovered() throws Exception {
        List<NodeProcess> nodes = cluster.start("a", "b", "c");
        NodeProcess c = nodes.get(2);
        Waiters waiters = victimHoldsAndOthersWait(nodes, c);

        c.kill();
        long dead = awaitHook(List.of(nodes.get(0), nodes.get(1)), "c");
        assertEquals(cluster.incarnation("c"), dead, "the hook names the killed incarnation");
        waiters.assertNoneGranted("after c was killed, before its recovery");

        nodes.get(0).ask("recovered " + dead, "recovered-marked", ANSWER);
        waiters.assertAllGranted();
        waiters.assertValueBlocksDistrusted();
    }

    @Test
    void aNodeStoppedPastItsSessionIsExpelledAndItsLocksHeldUntilRecovered() throws Exception {
        List<NodeProcess> nodes = cluster.start("a", "b", "c");
        NodeProcess c = nodes.get(2);
        Waiters waiters = victimHoldsAndOthersWait(nodes, c);

        c.stop();
        long dead = awaitHook(List.of(nodes.get(0), nodes.get(1)), "c");
        waiters.assertNoneGranted("while c is stopped");
        c.resume();
        c.await("expelled", HOOK);
        String first = waiters.victimHeld.getFirst();
        assertEquals("held " + first + " none", c.ask("held " + first, "held ", ANSWER), "an expelled node still holds a lock");
        c.send("lock " + first + " EX 2000");
        String relock = c.awaitOutcome(first, ANSWER);
        assertTrue(relock.startsWith("error " + first + " ExpelledException"), "an expelled node's request answered: " + relock);
        waiters.assertNoneGranted("after c woke up expelled, before its recovery");

        nodes.get(1).ask("recovered " + dead, "recovered-marked", ANSWER);
        waiters.assertAllGranted();
    }

    @Test
    void aNodeCutOffZooKeeperBrieflyResumesWithItsLocks() throws Exception {
        List<NodeProcess> nodes = startWithCProxied();
        NodeProcess c = nodes.get(2);
        Waiters waiters = victimHoldsAndOthersWait(nodes, c);

        proxy.cut(TcpProxy.CutMode.BLACKHOLE);
        c.await("suspended", ANSWER);
        Thread.sleep(800);
        proxy.restore();
        c.await("resumed", ANSWER);
        for (String resource : waiters.victimHeld) {
            assertEquals("held " + resource + " EX", c.ask("held " + resource, "held ", ANSWER), "lost a lock over a short cut");
        }
        waiters.assertNoneGranted("after c's short cut, while it still holds its locks");
        for (NodeProcess survivor : nodes.subList(0, 2)) {
            assertTrue(survivor.seen("failed").isEmpty(), survivor.name() + " took c for dead: " + survivor.seen("failed"));
        }

        for (String resource : waiters.victimHeld) {
            c.ask("unlock " + resource, "unlocked " + resource, ANSWER);
        }
        waiters.assertAllGranted();
        assertTrue(c.seen("expelled").isEmpty(), "c was expelled: " + c.seen("expelled"));
    }

    // BLACKHOLE closes c's connection, so c is suspended at once; FREEZE leaves it open and silent,
    // so c notices only at its read timeout, two thirds into the session the server is timing out.
    @ParameterizedTest
    @EnumSource(value = TcpProxy.CutMode.class, names = {"BLACKHOLE", "FREEZE"})
    void aNodeCutOffZooKeeperPastItsSessionIsExpelledAndRecoveredByTheOthers(TcpProxy.CutMode how) throws Exception {
        List<NodeProcess> nodes = startWithCProxied();
        NodeProcess c = nodes.get(2);
        Waiters waiters = victimHoldsAndOthersWait(nodes, c);

        proxy.cut(how);
        c.await("suspended", ANSWER);
        long dead = awaitHook(List.of(nodes.get(0), nodes.get(1)), "c");
        waiters.assertNoneGranted("after c's session expired, before its recovery");
        // Curator declares the session lost on its own timer while cut off; should it wait to hear
        // from the server instead, it must hear that the session expired.
        Optional<String> expelled = c.poll("expelled", Duration.ofSeconds(8));
        if (expelled.isEmpty()) {
            System.out.println("c not expelled while cut off; restoring its ZooKeeper link");
            proxy.restore();
            c.await("expelled", HOOK);
        }
        String first = waiters.victimHeld.getFirst();
        assertEquals("held " + first + " none", c.ask("held " + first, "held ", ANSWER), "an expelled node still holds a lock");
        waiters.assertNoneGranted("after c was expelled, before its recovery");

        nodes.get(0).ask("recovered " + dead, "recovered-marked", ANSWER);
        waiters.assertAllGranted();
    }

    @Test
    void aSecondDeathDuringRecoveryIsWaitedForToo() throws Exception {
        List<NodeProcess> nodes = cluster.start("a", "b", "c", "d");
        NodeProcess a = nodes.get(0), b = nodes.get(1), c = nodes.get(2), d = nodes.get(3);
        Map<String, String> masters = cluster.agreedMasters(nodes, candidates(60));
        // Each victim holds resources mastered by every node, itself and the other victim included.
        Map<String, NodeProcess> holderOf = new LinkedHashMap<>();
        for (NodeProcess master : nodes) {
            List<String> mastered = masteredBy(masters, master.name(), 2);
            holderOf.put(mastered.get(0), c);
            holderOf.put(mastered.get(1), d);
        }
        for (var held : holderOf.entrySet()) {
            assertEquals("granted " + held.getKey() + " EX", held.getValue().ask("lock " + held.getKey() + " EX", "granted " + held.getKey(), ANSWER));
        }
        Waiters waiters = new Waiters(List.copyOf(holderOf.keySet()), List.of(a, b));
        waiters.request();

        c.kill();
        String firstHook = a.await("failed c ", HOOK);
        d.kill();
        long deadC = Long.parseLong(firstHook.split(" ")[2]);
        long deadD = awaitHook(List.of(a, b), "d");
        assertEquals(deadC, Long.parseLong(b.await("failed c ", HOOK).split(" ")[2]));
        assertEquals(cluster.incarnation("d"), deadD);
        waiters.assertNoneGranted("with c and d dead, neither recovered");

        a.ask("recovered " + deadC, "recovered-marked", ANSWER);
        waiters.assertNoneGranted("with c recovered and d not");

        b.ask("recovered " + deadD, "recovered-marked", ANSWER);
        waiters.assertAllGranted();
    }

    @Test
    void aRandomizedWorkloadAcrossProcessesSurvivesAKillAndPassesTheChecker() throws Exception {
        long seed = Long.getLong("concord.proc.seed", System.nanoTime() % 100_000);
        System.out.println("workload seed " + seed + " (rerun with -Dconcord.proc.seed=" + seed + ")");
        Map<String, String> zookeeper = new LinkedHashMap<>();
        for (String name : List.of("a", "b", "c")) {
            zookeeper.put(name, cluster.connectString());
        }
        List<NodeProcess> nodes = cluster.start(zookeeper, seed);
        NodeProcess a = nodes.get(0), c = nodes.get(2);
        // The parent's own history holds what only it knows: when c died and when it was declared recovered.
        try (LockHistory parent = LockHistory.streamingTo(cluster.historyFile("test"), LockHistory.WALL_CLOCK)) {
            for (NodeProcess node : nodes) {
                node.send("workload 8");
            }
            for (NodeProcess node : nodes) {
                node.await("workload-started", ANSWER);
            }
            Thread.sleep(2500);
            // Recorded once c is reaped, not before the signal: c goes on working (and releasing)
            // until SIGKILL lands, and the checker takes what c holds at NodeDead as held for good.
            // Nothing of c's can be released between the two: that waits for "recovered".
            c.kill();
            parent.recordNode("test", 0, new LockHistory.NodeDead("c"));
            long dead = Long.parseLong(a.await("failed c ", HOOK).split(" ")[2]);
            // Held back so that a grant conflicting with c's locks would have time to show.
            Thread.sleep(500);
            parent.recordNode("test", 0, new LockHistory.Recovered("c"));
            a.ask("recovered " + dead, "recovered-marked", ANSWER);
            for (NodeProcess survivor : nodes.subList(0, 2)) {
                String done = survivor.await("workload-", Duration.ofSeconds(60));
                assertTrue(done.startsWith("workload-done"), survivor.name() + ": " + done + "\n" + survivor.logTail(40));
                System.out.println(survivor.name() + ": " + done);
            }
        }
        List<Path> files = new ArrayList<>();
        for (String name : List.of("a", "b", "c", "test")) {
            files.add(cluster.historyFile(name));
        }
        List<LockHistory.Event> merged = LockHistory.mergeFiles(files);
        assertTrue(merged.stream().anyMatch(e -> e.node().equals("c") && e.kind() instanceof LockHistory.Granted),
                "c was granted nothing before it was killed: the kill tested nothing");
        LockChecker.Report report = LockChecker.check(merged);
        System.out.println("seed " + seed + ", c killed mid-run: " + report);
        assertTrue(report.grants() > 100, "too few grants to mean anything: " + report);
    }

    // ---- scenario parts ----

    private List<NodeProcess> startWithCProxied() throws Exception {
        String[] server = cluster.connectString().split(":");
        proxy = new TcpProxy(server[0], Integer.parseInt(server[1]));
        Map<String, String> zookeeper = new LinkedHashMap<>();
        zookeeper.put("a", cluster.connectString());
        zookeeper.put("b", cluster.connectString());
        zookeeper.put("c", proxy.address());
        return cluster.start(zookeeper, 0);
    }

    /**
     * The victim (the last node) takes EX on resources it masters and on resources each other node
     * masters; the others then ask for conflicting modes on all of them, and none is granted.
     */
    private Waiters victimHoldsAndOthersWait(List<NodeProcess> nodes, NodeProcess victim) throws InterruptedException {
        Map<String, String> masters = cluster.agreedMasters(nodes, candidates(60));
        List<String> held = new ArrayList<>(masteredBy(masters, victim.name(), 3));
        for (NodeProcess other : nodes) {
            if (other != victim) {
                held.addAll(masteredBy(masters, other.name(), 2));
            }
        }
        for (String resource : held) {
            assertEquals("granted " + resource + " EX", victim.ask("lock " + resource + " EX", "granted " + resource, ANSWER));
            assertEquals("lvb-staged " + resource, victim.ask("lvb-set " + resource + " v-" + resource, "lvb-staged", ANSWER));
        }
        Waiters waiters = new Waiters(held, nodes.stream().filter(n -> n != victim).toList());
        waiters.request();
        return waiters;
    }

    /** Waits for every survivor's recovery hook on {@code dead}; returns the incarnation they name. */
    private static long awaitHook(List<NodeProcess> survivors, String dead) throws InterruptedException {
        long incarnation = -1;
        for (NodeProcess survivor : survivors) {
            String line = survivor.await("failed " + dead + " ", HOOK);
            long named = Long.parseLong(line.split(" ")[2]);
            if (incarnation != -1) {
                assertEquals(incarnation, named, "survivors disagree on the dead incarnation");
            }
            incarnation = named;
        }
        return incarnation;
    }

    private static List<String> candidates(int count) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            names.add("I" + (1000 + i));
        }
        return names;
    }

    private static List<String> masteredBy(Map<String, String> masters, String node, int count) {
        List<String> mine = masters.entrySet().stream().filter(e -> e.getValue().equals(node)).map(Map.Entry::getKey).limit(count).toList();
        assertEquals(count, mine.size(), node + " masters too few of " + masters);
        return mine;
    }

    /**
     * Requests on the victim's resources, spread over the survivors in modes that all conflict
     * with the victim's EX.
     */
    private static final class Waiters {
        final List<String> victimHeld;
        final Map<String, NodeProcess> waiter = new LinkedHashMap<>();
        final Map<String, String> mode = new LinkedHashMap<>();

        Waiters(List<String> resources, List<NodeProcess> survivors) {
            this.victimHeld = resources;
            for (int i = 0; i < resources.size(); i++) {
                waiter.put(resources.get(i), survivors.get(i % survivors.size()));
                mode.put(resources.get(i), WAITER_MODES.get(i % WAITER_MODES.size()));
            }
        }

        void request() throws InterruptedException {
            for (String resource : victimHeld) {
                waiter.get(resource).ask("request " + resource + " " + mode.get(resource), "requested " + resource, ANSWER);
            }
            assertNoneGranted("while the victim holds EX");
        }

        /** Nothing was granted to any waiter up to now, nor over the next {@link #HELD_BACK}. */
        void assertNoneGranted(String when) throws InterruptedException {
            Thread.sleep(HELD_BACK);
            for (NodeProcess node : new LinkedHashSet<>(waiter.values())) {
                List<String> grants = node.seen("granted ");
                assertTrue(grants.isEmpty(), node.name() + " was granted " + grants + " " + when);
                List<String> errors = node.seen("error ");
                assertTrue(errors.isEmpty(), node.name() + " failed " + errors + " " + when);
            }
        }

        void assertAllGranted() throws InterruptedException {
            for (String resource : victimHeld) {
                NodeProcess node = waiter.get(resource);
                assertEquals("granted " + resource + " " + mode.get(resource), node.await("granted " + resource, Duration.ofSeconds(15)));
            }
        }

        /**
         * The victim died holding EX with a value staged: what the survivors read may not claim to
         * be a value the victim could have changed (it is invalid, or shows nothing published).
         */
        void assertValueBlocksDistrusted() throws InterruptedException {
            for (String resource : victimHeld) {
                String lvb = waiter.get(resource).ask("lvb " + resource, "lvb " + resource, ANSWER);
                String[] f = lvb.split(" ");
                assertTrue(f[3].equals("invalid") || f[2].equals("0"), "value block trusted after its EX holder died: " + lvb);
                assertTrue(!f[4].startsWith("v-"), "a value staged but never published reached a survivor: " + lvb);
            }
        }
    }
}
