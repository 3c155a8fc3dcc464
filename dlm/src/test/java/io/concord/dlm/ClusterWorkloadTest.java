package io.concord.dlm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.dlm.LocalCluster.Node;
import io.concord.dlm.check.LockChecker;
import io.concord.dlm.check.LockHistory;
import io.concord.dlm.check.Workload;
import io.concord.dlm.membership.Member;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;

/**
 * The seeded randomized workload of {@link Workload} over three DLM nodes on real connections and
 * a real ZooKeeper, checked by {@link LockChecker}: no incompatible grants at once, every request
 * answered, value blocks following the last PW/EX writer, and a crashed node's locks never granted
 * to anyone else before its recovery is reported. Rerun a seed by changing the values below.
 */
@Timeout(180)
class ClusterWorkloadTest {
    private LocalCluster cluster;

    @BeforeEach
    void start() throws Exception {
        cluster = new LocalCluster(LocalCluster.tempDir(), "work");
    }

    @AfterEach
    void stop() throws Exception {
        cluster.close();
    }

    @ParameterizedTest
    @ValueSource(longs = {11, 12})
    void threeNodesNeverGrantIncompatibleModesAndAnswerEveryRequest(long seed) throws Exception {
        List<Node> nodes = List.of(cluster.start("a", "fs"), cluster.start("b", "fs"), cluster.start("c", "fs"));
        LockHistory history = LockHistory.inMemory();
        Workload.Stats stats = workload(nodes, history, seed, Duration.ofSeconds(3)).run();
        LockChecker.Report report = LockChecker.check(history);
        System.out.println("seed " + seed + ": " + stats + " / " + report);
        assertTrue(report.grants() > 300, "too few grants to mean anything: " + report);
        assertTrue(report.basts() > 20, "too few BASTs: " + report);
    }

    @ParameterizedTest
    @ValueSource(longs = {21, 22})
    void aNodeCrashingMidWorkloadKeepsItsLocksUntilRecoveredAndTheRestGoOn(long seed) throws Exception {
        Node a = cluster.start("a", "fs");
        Node b = cluster.start("b", "fs");
        Node c = cluster.start("c", "fs");
        LockHistory history = LockHistory.inMemory();
        Member dead = c.self();
        // The survivors' hooks record the recovery, then hold it back a little, so that grants
        // conflicting with the dead node's locks would have time to show up in the history.
        for (Node survivor : List.of(a, b)) {
            survivor.autoRecover = false;
        }
        Workload workload = workload(List.of(a, b, c), history, seed, Duration.ofSeconds(4));
        CompletableFuture<Workload.Stats> run = CompletableFuture.supplyAsync(() -> {
            try {
                return workload.run();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(1500);
        // Cut, recorded, then gone from ZooKeeper: what the node does after the cut reaches no one,
        // and the survivors' recovery cannot start before the death is in the history.
        c.cutConnections();
        history.recordNode("test", c.space.epoch(), new LockHistory.NodeDead("c"));
        c.endSession();
        assertEquals(dead, a.failed.poll(20, TimeUnit.SECONDS), "a's recovery hook");
        Thread.sleep(500);
        history.recordNode("test", a.space.epoch(), new LockHistory.Recovered("c"));
        a.space.recovered(dead);
        Workload.Stats stats = run.get(120, TimeUnit.SECONDS);
        LockChecker.Report report = LockChecker.check(history);
        System.out.println("seed " + seed + " with a crash: " + stats + " / " + report);
        assertTrue(report.grants() > 300, "too few grants to mean anything: " + report);
        assertTrue(a.expelled.isEmpty() && b.expelled.isEmpty(), "a survivor was expelled");
    }

    @ParameterizedTest
    @ValueSource(longs = {31})
    void twoNodesCrashingBackToBackAreBothWaitedForAndTheRestGoOn(long seed) throws Exception {
        Node a = cluster.start("a", "fs");
        Node b = cluster.start("b", "fs");
        Node c = cluster.start("c", "fs");
        Node d = cluster.start("d", "fs");
        LockHistory history = LockHistory.inMemory();
        Workload workload = workload(List.of(a, b, c, d), history, seed, Duration.ofSeconds(4));
        CompletableFuture<Workload.Stats> run = CompletableFuture.supplyAsync(() -> {
            try {
                return workload.run();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(1500);
        Member first = c.self();
        Member second = d.self();
        // Back to back: the second death usually lands while the survivors remaster for the first.
        c.cutConnections();
        d.cutConnections();
        history.recordNode("test", c.space.epoch(), new LockHistory.NodeDead("c"));
        history.recordNode("test", d.space.epoch(), new LockHistory.NodeDead("d"));
        c.endSession();
        d.endSession();
        List<Member> told = new ArrayList<>();
        while (told.size() < 2) {
            Member m = a.failed.poll(20, TimeUnit.SECONDS);
            assertTrue(m != null, "a's recovery hook was not called for both dead nodes: " + told);
            told.add(m);
        }
        assertTrue(told.containsAll(List.of(first, second)), told.toString());
        Thread.sleep(500);
        history.recordNode("test", a.space.epoch(), new LockHistory.Recovered("c"));
        a.space.recovered(first);
        Thread.sleep(300);
        history.recordNode("test", a.space.epoch(), new LockHistory.Recovered("d"));
        b.space.recovered(second);
        Workload.Stats stats = run.get(120, TimeUnit.SECONDS);
        LockChecker.Report report = LockChecker.check(history);
        System.out.println("seed " + seed + " with two crashes: " + stats + " / " + report);
        assertTrue(report.grants() > 300, "too few grants to mean anything: " + report);
    }

    private static Workload workload(List<Node> nodes, LockHistory history, long seed, Duration duration) {
        List<Workload.Node> parts = new ArrayList<>();
        for (Node node : nodes) {
            parts.add(new Workload.Node(node.name, node.space, node.space::epoch));
        }
        List<ResourceName> resources = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            resources.add(new ResourceName('I', 500 + i));
        }
        return new Workload(parts, history, seed)
                .resources(resources)
                .workersPerNode(3)
                .duration(duration)
                .maxWait(Duration.ofSeconds(2))
                .resolveTimeout(Duration.ofSeconds(30));
    }
}
