package io.concord.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.format.HeartbeatBlock;
import io.concord.format.LockProtocol;
import io.concord.fs.MkfsOptions;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Multi-mount protection between real mount.concord processes on one image: a single-node mount
 * is refused while any other mount is live, a cluster mount while a single-node one is, each
 * refusal naming the holder; a holder killed with -9 keeps nobody out for longer than the watch.
 */
@Timeout(300)
class MultiMountTest {
    private static final int EXIT_FAILURE = 32;

    @TempDir
    Path tmp;

    private AdminMounts mounts;
    private ClusterFixture cluster;

    @org.junit.jupiter.api.BeforeEach
    void mountPoints() {
        mounts = new AdminMounts(tmp);
    }

    @AfterEach
    void leaveNothingBehind() throws Exception {
        List<String> left = mounts.cleanUp();
        if (cluster != null) {
            cluster.close();
        }
        assertEquals(List.of(), left, "mounts or daemons left behind");
    }

    private Path image(LockProtocol protocol) throws Exception {
        return Images.formatted(tmp.resolve("mmp.img"), 128L << 20, MkfsOptions.of("mmp:test", 2).withProtocol(protocol), 9);
    }

    /** The mount at {@code refused} failed in one line naming the daemon that serves {@code holder} (slot 0) and how it mounted. */
    private static void assertRefusedNaming(ForkedMount.Outcome o, Path refused, Path holder, String how) throws Exception {
        ForkedMount.assertRefused(o, EXIT_FAILURE, "is in use by node ", refused);
        String expected = "pid " + AdminMounts.daemonPid(holder) + "), mounted " + how + " on slot 0";
        assertTrue(o.errorLines().getFirst().contains(expected), "the refusal names the holder (" + expected + "): " + o);
    }

    /** Two single-node mounts of one image used to both succeed and corrupt each other. */
    @Test
    void aSecondSingleNodeMountIsRefusedNamingTheHolder() throws Exception {
        Path image = image(LockProtocol.NOLOCK);
        Path first = mounts.dir("first");
        Path second = mounts.dir("second");
        mounts.assertMounts(image, first, ""); // a nolock filesystem needs no -o nolock
        Files.writeString(first.resolve("kept"), "first mount's\n");
        for (String options : new String[] {"", "journal=1", "nolock,ro"}) {
            assertRefusedNaming(mounts.mount(image, second, options), second, first, "nolock");
        }
        assertEquals("first mount's\n", Files.readString(first.resolve("kept")), "the holder keeps serving");
        mounts.umount(first);
        FsckSupport.assertClean(image);
        mounts.assertMounts(image, second, "journal=1");
        mounts.umount(second);
    }

    @Test
    void aSingleNodeMountIsRefusedWhileAClusterMountIsUp() throws Exception {
        cluster = new ClusterFixture(tmp);
        Path image = image(LockProtocol.DLM);
        Path node = mounts.dir("node");
        Path single = mounts.dir("single");
        mounts.assertMounts(image, node, cluster.options("n1"));
        ForkedMount.Outcome o = mounts.mount(image, single, "nolock,journal=1");
        assertRefusedNaming(o, single, node, "dlm");
        assertTrue(o.errorLines().getFirst().contains("is in use by node n1 "), o.toString());
        mounts.umount(node);
        FsckSupport.assertClean(image);
    }

    @Test
    void aClusterMountIsRefusedWhileASingleNodeMountHoldsTheFilesystem() throws Exception {
        cluster = new ClusterFixture(tmp);
        Path image = image(LockProtocol.DLM);
        Path single = mounts.dir("single");
        Path node = mounts.dir("node");
        mounts.assertMounts(image, single, "nolock"); // the deliberate override of a cluster filesystem
        assertRefusedNaming(mounts.mount(image, node, cluster.options("n1")), node, single, "nolock");
        mounts.umount(single);
        mounts.assertMounts(image, node, cluster.options("n1")); // the refused node left its slot and the cluster
        assertEquals("n1", ClusterFixture.heartbeats(image).getFirst().node());
        mounts.umount(node);
        FsckSupport.assertClean(image);
    }

    @Test
    void aKilledHolderKeepsTheNextMountOutOnlyForTheWatchAndItsJournalIsReplayed() throws Exception {
        Path image = image(LockProtocol.NOLOCK);
        Path first = mounts.dir("first");
        Path next = mounts.dir("next");
        try (ForkedMount crashed = ForkedMount.foregroundWith(image, first, "log=" + tmp.resolve("crashed.log"), tmp.resolve("crashed.out"))) {
            Path f = first.resolve("synced");
            Files.writeString(f, "in the journal only\n");
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            crashed.kill();
        }
        assertEquals(HeartbeatBlock.State.ACTIVE, ClusterFixture.heartbeats(image).getFirst().state(), "kill -9 left the block active");
        long start = System.nanoTime();
        mounts.assertMounts(image, next, "");
        long tookMs = (System.nanoTime() - start) / 1_000_000;
        assertTrue(tookMs >= 2_000, "the mount watched the dead holder's heartbeat (took only " + tookMs + " ms)");
        assertEquals("in the journal only\n", Files.readString(next.resolve("synced")), "the dead mount's journal was replayed");
        mounts.umount(next);
        FsckSupport.assertClean(image);
    }
}
