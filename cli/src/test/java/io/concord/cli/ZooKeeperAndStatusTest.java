package io.concord.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.dlm.membership.EpochView;
import io.concord.dlm.membership.MembershipListener;
import io.concord.dlm.membership.ZkMembership;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code concord zookeeper} serves and says where; {@code concord status} shows what ZooKeeper holds. */
@Timeout(60)
class ZooKeeperAndStatusTest {
    @TempDir
    Path tmp;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int concord(String... args) {
        return ConcordCommand.run(args, new PrintStream(out, true), new PrintStream(err, true));
    }

    private void assertOneLine(String mustContain) {
        String e = err.toString(StandardCharsets.UTF_8);
        assertTrue(e.contains(mustContain), "stderr should say '" + mustContain + "': " + e);
        assertEquals(1, e.lines().filter(l -> l.startsWith("concord:")).count(), "one line of our own: " + e);
        assertFalse(e.contains("Exception") || e.contains("\tat "), "no exception: " + e);
    }

    @Test
    void theServerWritesItsPortOnceItServesAndRemovesTheFileWhenItStops() throws Exception {
        Path portFile = tmp.resolve("zk.port");
        try (ZooKeeperCommand.Serving zk = ZooKeeperCommand.start(new String[] {"--port", "0", "--dir", tmp.resolve("data").toString(),
                "--port-file", portFile.toString()})) {
            int port = Integer.parseInt(Files.readString(portFile).strip());
            assertEquals(zk.port(), port);
            assertTrue(port > 0);
            try (CuratorFramework client = client("127.0.0.1:" + port)) {
                client.create().forPath("/probe", "x".getBytes(StandardCharsets.UTF_8));
                assertEquals("x", new String(client.getData().forPath("/probe"), StandardCharsets.UTF_8));
            }
        }
        assertFalse(Files.exists(portFile), "the port file outlived the server");
    }

    @Test
    void aTakenPortIsOneLine() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            assertEquals(1, concord("zookeeper", "--port", String.valueOf(taken.getLocalPort()), "--dir", tmp.resolve("d").toString()));
            assertOneLine("the port is taken");
        }
    }

    @Test
    void aSecondServerOnTheSameDataDirectoryIsRefused() throws Exception {
        String dir = tmp.resolve("data").toString();
        try (ZooKeeperCommand.Serving first = ZooKeeperCommand.start(new String[] {"--port", "0", "--dir", dir})) {
            assertEquals(1, concord("zookeeper", "--port", "0", "--dir", dir));
            assertOneLine("in use by another running ZooKeeper");
        }
    }

    @Test
    void badArgumentsAreOneLine() {
        assertEquals(1, concord("zookeeper", "--dir", tmp.toString()));
        assertTrue(err.toString().contains("--port is required"), err.toString());
        err.reset();
        assertEquals(1, concord("zookeeper", "--port", "http", "--dir", tmp.toString()));
        assertTrue(err.toString().contains("--port takes a number"), err.toString());
        err.reset();
        assertEquals(1, concord("status", "--zk", "127.0.0.1:1", "--table", "nocolon"));
        assertTrue(err.toString().contains("--table is cluster:fsname"), err.toString());
        err.reset();
        assertEquals(1, concord("status", "--zookeeper", "x"));
        assertTrue(err.toString().contains("unknown option --zookeeper"), err.toString());
    }

    @Test
    void statusOfAnUnreachableZooKeeperIsOneLine() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        assertEquals(1, concord("status", "--zk", "127.0.0.1:" + closedPort, "--table", "a:b"));
        assertOneLine("cannot reach ZooKeeper at 127.0.0.1:" + closedPort);
    }

    @Test
    void statusShowsEachMemberWithItsJournalSlotAndTheEpoch() throws Exception {
        try (ZooKeeperCommand.Serving zk = ZooKeeperCommand.start(new String[] {"--port", "0", "--dir", tmp.resolve("data").toString()});
                CuratorFramework c1 = client(zk.connectString());
                CuratorFramework c2 = client(zk.connectString())) {
            assertEquals(1, concord("status", "--zk", zk.connectString(), "--table", "local:concord"));
            assertOneLine("no lock space local:concord");
            err.reset();

            EpochWatch watch = new EpochWatch(2);
            ZkMembership alpha = new ZkMembership(c1, "local", "concord", "alpha", new InetSocketAddress("127.0.0.1", 7001), watch);
            ZkMembership beta = new ZkMembership(c2, "local", "concord", "beta", new InetSocketAddress("127.0.0.1", 7002), new EpochWatch(0));
            try (alpha; beta) {
                alpha.join();
                assertEquals(0, alpha.claimJournalSlot(3));
                beta.join();
                assertEquals(1, beta.claimJournalSlot(3));
                assertTrue(watch.twoMembers.await(20, TimeUnit.SECONDS), "no epoch named both members");

                assertEquals(0, concord("status", "--zk", zk.connectString(), "--table", "local:concord"), err.toString());
                String shown = out.toString(StandardCharsets.UTF_8);
                assertTrue(shown.contains("lock space local:concord: epoch 2, members alpha beta"), shown);
                assertTrue(shown.lines().anyMatch(l -> l.matches("alpha +0 +127\\.0\\.0\\.1:7001 +0x[0-9a-f]+")), shown);
                assertTrue(shown.lines().anyMatch(l -> l.matches("beta +1 +127\\.0\\.0\\.1:7002 +0x[0-9a-f]+")), shown);
            }
        }
    }

    private static CuratorFramework client(String connect) throws InterruptedException {
        CuratorFramework c = CuratorFrameworkFactory.newClient(connect, 10_000, 5_000, new RetryOneTime(100));
        c.start();
        assertTrue(c.blockUntilConnected(10, TimeUnit.SECONDS), "cannot connect to " + connect);
        return c;
    }

    /** Counts down once an epoch with {@code members} members has been published. */
    private static final class EpochWatch implements MembershipListener {
        final int members;
        final CountDownLatch twoMembers = new CountDownLatch(1);

        EpochWatch(int members) {
            this.members = members;
        }

        @Override
        public void epochChanged(EpochView view) {
            if (view.members().size() == members) {
                twoMembers.countDown();
            }
        }

        @Override
        public void recoveredChanged(Set<Long> incarnations) {
        }

        @Override
        public void suspended() {
        }

        @Override
        public void reconnected() {
        }

        @Override
        public void lost(String why) {
        }
    }
}
