package io.concord.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * MiniCluster's process control and its check at close, on one nolock node (no DLM needed): the
 * node is a real daemon process that can be paused, killed and restarted, ZooKeeper a real process,
 * and close leaves no process and no mount behind, and fails when fsck finds the image unclean.
 */
@Timeout(300)
class MiniClusterProcessTest {
    @TempDir
    Path tmp;

    @Test
    void aNodePausedKilledAndRestartedServesAgainAndTheImageIsCleanAtClose() throws Exception {
        try (MiniCluster c = MiniCluster.builder(tmp).nolock().start()) {
            Path file = c.node(1).mountPoint().resolve("kept");
            writeSynced(file, "written before the kill");

            c.pause(1);
            assertEquals('T', c.node(1).processState(), "SIGSTOP did not stop the daemon");
            assertTrue(c.node(1).isPaused());
            c.resume(1);
            assertFalse(c.node(1).isPaused());
            Files.writeString(c.node(1).mountPoint().resolve("after-resume"), "new");
            assertEquals("new", Files.readString(c.node(1).mountPoint().resolve("after-resume")), "the resumed node does not serve");

            long pid = c.node(1).pid();
            c.kill9(1);
            assertFalse(c.node(1).isRunning());
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "the daemon outlived kill -9");
            assertEquals(List.of("fuse.concord"), KernelMounts.typesAt(c.node(1).mountPoint()), "the killed daemon's mount is kept by the kernel");
            assertFalse(KernelMounts.answers(c.node(1).mountPoint()), "a mount whose daemon was killed answered");

            c.restart(1);
            assertTrue(c.node(1).pid() != pid, "restart started no new daemon");
            assertEquals("written before the kill", Files.readString(file), "the fsync'd file after restart and replay");
            assertTrue(c.status().contains("no lock space mini:fs"), "ZooKeeper serves, and no node joined a lock space: " + c.status());
        }
    }

    @Test
    void closeStopsEveryProcessItStartedAndLeavesNoMount() throws Exception {
        MiniCluster c = MiniCluster.builder(tmp).nolock().start();
        long node = c.node(1).pid();
        Path at = c.node(1).mountPoint();
        String zookeeper = c.zookeeper();
        Files.writeString(at.resolve("f"), "x");
        c.close();
        assertFalse(ProcessHandle.of(node).map(ProcessHandle::isAlive).orElse(false), "the node's daemon outlived close");
        assertEquals(List.of(), KernelMounts.typesAt(at), "close left a mount");
        assertEquals(List.of(), ForkedMount.daemonsServing(at), "close left a mount.concord process");
        assertFalse(c.node(1).isRunning());
        assertTrue(c.status().contains("cannot reach ZooKeeper at " + zookeeper), "ZooKeeper still answers after close");
    }

    @Test
    void closeFailsWhenFsckFindsTheImageNotCleanAndStillStopsEverything() throws Exception {
        MiniCluster c = MiniCluster.builder(tmp).nolock().mountOptions("commit=3600").start();
        writeSynced(c.node(1).mountPoint().resolve("in-the-journal"), "fsync'd, so committed to the journal and not yet written back");
        c.kill9(1);
        AssertionError e = assertThrows(AssertionError.class, c::close);
        assertTrue(e.getMessage().contains("fsck.concord -n") && e.getMessage().contains("needs recovery"),
                "close must fail on the killed node's unreplayed journal: " + e.getMessage());
        assertEquals(List.of(), KernelMounts.typesAt(c.node(1).mountPoint()), "close left the killed daemon's mount");
    }

    @Test
    void aNolockClusterHasOneNode() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MiniCluster.builder(tmp).nolock().nodes(2).start());
        assertTrue(e.getMessage().contains("exactly one node"), e.getMessage());
    }

    private static void writeSynced(Path file, String text) throws Exception {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
            ch.force(true);
        }
    }
}
