package io.concord.dlm.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.dlm.Lock;
import io.concord.dlm.LockFlag;
import io.concord.dlm.LockMode;
import io.concord.dlm.LockSpace;
import io.concord.dlm.NoLockManager;
import io.concord.dlm.ResourceName;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The workload driver and the checker together, over the single-node manager. Handles of one lock
 * space conflict exactly as handles on different nodes would, so one shared space stands in for
 * a cluster whose "nodes" are only names in the history.
 */
class WorkloadTest {
    private static final List<ResourceName> RESOURCES = IntStream.range(0, 8)
            .mapToObj(i -> new ResourceName(ResourceName.INODE, 100 + i)).toList();

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    @Timeout(60)
    void workloadOverOneSharedLockSpacePassesTheChecker(long seed) throws Exception {
        LockSpace space = new NoLockManager().openLockSpace("shared");
        LockHistory history = LockHistory.inMemory();
        List<Workload.Node> nodes = List.of(new Workload.Node("n1", space), new Workload.Node("n2", space), new Workload.Node("n3", space));
        Workload.Stats stats = new Workload(nodes, history, seed).resources(RESOURCES).workersPerNode(3)
                .duration(Duration.ofSeconds(2)).run();

        LockChecker.Report report = LockChecker.check(history);
        System.out.println("seed " + seed + ": " + stats + "\n  " + report);
        assertEquals(0, stats.abandonedHandles(), "requests left unresolved");
        assertEquals(stats.grants(), report.grants());
        assertEquals(stats.refusals(), report.refusals());
        assertTrue(report.grants() >= 1_000, "too few grants to mean anything: " + report);
        assertTrue(report.basts() >= 50, "too few BASTs: " + report);
        assertTrue(report.refusals() >= 50, "too few refusals: " + report);
        assertTrue(report.publications() >= 20, "too few value publications: " + report);
        assertTrue(report.maxConcurrentHolders() >= 2, "never more than one holder at once: " + report);
        for (ResourceName r : RESOURCES) { // everything was released
            Lock probe = space.newLock(r, null);
            assertEquals(LockMode.EX, probe.request(LockMode.EX, Set.of(LockFlag.NOQUEUE)).getNow(null), r + " is still held");
            probe.unlock();
        }
        space.close();
    }

    /** Two lock spaces never conflict: as "nodes" they make a lock manager that ignores the other node. */
    @Test
    @Timeout(60)
    void checkerCatchesALockManagerThatDoesNotCoordinateNodes() throws Exception {
        NoLockManager manager = new NoLockManager();
        try (LockSpace one = manager.openLockSpace("one"); LockSpace two = manager.openLockSpace("two")) {
            LockHistory history = LockHistory.inMemory();
            new Workload(List.of(new Workload.Node("n1", one), new Workload.Node("n2", two)), history, 7)
                    .resources(RESOURCES.subList(0, 2)).workersPerNode(2).duration(Duration.ofMillis(500)).run();
            LockChecker.Report report = LockChecker.analyze(history.events());
            assertFalse(report.passed(), "two uncoordinated lock spaces passed the checker: " + report);
            assertTrue(report.violations().stream().anyMatch(v -> v.contains("safety")), String.join("\n", report.violations()));
            // Each space keeps its own value blocks, so grants on one miss the other's publications.
            assertTrue(report.violations().stream().anyMatch(v -> v.contains("value block")), String.join("\n", report.violations()));
        }
    }
}
