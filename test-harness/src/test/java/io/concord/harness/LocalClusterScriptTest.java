package io.concord.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/concord up|status|down} as an operator runs them, on the jars this build packaged:
 * a two-node cluster comes up with a slot each, says so when asked again, shows its members, and
 * goes down leaving no process and no mount; bad states are one line.
 */
@Timeout(300)
class LocalClusterScriptTest {
    private static final Path SCRIPT = Path.of("..", "bin", "concord").toAbsolutePath().normalize();
    private static final Duration LIMIT = Duration.ofMinutes(3);

    @TempDir
    Path tmp;

    private final List<Long> pids = new ArrayList<>();

    private BoundedCommand concord(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(SCRIPT.toString()));
        cmd.addAll(List.of(args));
        return BoundedCommand.run(cmd, LIMIT);
    }

    @AfterEach
    void nothingLeftRunning() throws Exception {
        // Whatever the test did, down again; then nothing the script started may still run.
        concord("down", "--dir", tmp.toString());
        for (long pid : pids) {
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "pid " + pid + " outlived bin/concord down");
        }
        for (int i = 1; i <= 2; i++) {
            assertEquals(List.of(), KernelMounts.typesAt(tmp.resolve("node" + i)), "a mount left at node" + i);
        }
    }

    @Test
    void upStatusDownOfATwoNodeCluster() throws Exception {
        BoundedCommand up = concord("up", "--nodes", "2", "--dir", tmp.toString());
        assertEquals(0, up.exitCode(), up.output());
        assertTrue(up.output().contains("up: 2 nodes of local:concord"), up.output());
        for (int i = 1; i <= 2; i++) {
            Path at = tmp.resolve("node" + i);
            assertTrue(KernelMounts.concordAt(at) && KernelMounts.answers(at), "node" + i + " is not serving: " + up.output());
            pids.add(Long.parseLong(Files.readString(tmp.resolve("node" + i + ".pid")).strip()));
        }
        // One writer: two nodes allocating at once take the same inode until fs-core's glocks are on the DLM.
        Files.writeString(tmp.resolve("node1").resolve("from-node1"), "node1");
        pids.add(Long.parseLong(Files.readString(tmp.resolve("zookeeper.pid")).strip()));

        BoundedCommand again = concord("up", "--nodes", "2", "--dir", tmp.toString());
        assertEquals(0, again.exitCode(), again.output());
        assertTrue(again.output().contains("already up"), again.output());

        BoundedCommand status = concord("status", "--dir", tmp.toString());
        assertEquals(0, status.exitCode(), status.output());
        assertTrue(status.output().contains("members node1 node2"), status.output());
        assertEquals(List.of("0", "1"), MiniClusterTest.slots(status.output()).stream().sorted().toList(), status.output());

        BoundedCommand down = concord("down", "--dir", tmp.toString());
        assertEquals(0, down.exitCode(), down.output());
        assertTrue(down.output().contains("node1: unmounted; daemon (pid ") && down.output().contains("ZooKeeper: stopped"), down.output());
        BoundedCommand fsck = BoundedCommand.run(JavaCommand.of(JavaCommand.FSCK, List.of("-n", tmp.resolve("concord.img").toString())), LIMIT);
        assertEquals(0, fsck.exitCode(), "fsck after down: " + fsck.output());
    }

    @Test
    void aStalePidFileAndATakenPortAreOneLineEach() throws Exception {
        Files.writeString(tmp.resolve("zookeeper.pid"), "999999\n");
        BoundedCommand status = concord("status", "--dir", tmp.toString());
        assertTrue(status.output().contains("removed the stale pid file " + tmp.resolve("zookeeper.pid")), status.output());

        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            List<String> cmd = List.of("env", "CONCORD_ZK_PORT=" + taken.getLocalPort(), SCRIPT.toString(), "up", "--nodes", "1", "--dir", tmp.toString());
            BoundedCommand up = BoundedCommand.run(cmd, LIMIT);
            assertEquals(1, up.exitCode(), up.output());
            List<String> ours = up.output().lines().filter(l -> l.startsWith("concord:") && !l.startsWith("concord: made")).toList();
            assertEquals(1, ours.size(), up.output());
            assertTrue(ours.getFirst().contains("port is taken"), up.output());
        }
    }

    @Test
    void badArgumentsAreOneLine() throws Exception {
        BoundedCommand r = concord("up", "--nodes", "0", "--dir", tmp.toString());
        assertEquals(1, r.exitCode());
        assertEquals("concord: --nodes takes a number from 1 to 64, not '0'", r.output().strip());
        r = concord("status", "--nodes", "2", "--dir", tmp.toString());
        assertEquals("concord: --nodes goes with up only", r.output().strip());
    }
}
