package io.concord.dlm.membership;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;

/**
 * A real ZooKeeper server on a free port, plus Curator clients with short sessions, closed in
 * reverse order. One per test: nothing leaks between tests.
 */
final class ZkFixture {
    static final String CLUSTER = "alpha";
    static final String FS = "fs1";
    /** Short, so expiry tests are quick; the server's tick of 200 ms allows 400 ms to 4 s. */
    static final int SESSION_MS = 3000;

    final TestingServer server;
    private final List<AutoCloseable> open = new ArrayList<>();

    ZkFixture() throws Exception {
        server = new TestingServer(new InstanceSpec(null, -1, -1, -1, true, -1, 200, -1), true);
    }

    CuratorFramework client() throws InterruptedException {
        return client(null);
    }

    /** @param digest "user:password" for ZooKeeper digest auth, or null */
    CuratorFramework client(String digest) throws InterruptedException {
        CuratorFrameworkFactory.Builder builder = CuratorFrameworkFactory.builder()
                .connectString(server.getConnectString())
                .sessionTimeoutMs(SESSION_MS)
                .connectionTimeoutMs(2000)
                .retryPolicy(new RetryNTimes(3, 100));
        if (digest != null) {
            builder.authorization("digest", digest.getBytes(StandardCharsets.UTF_8));
        }
        CuratorFramework client = builder.build();
        open.add(client);
        client.start();
        if (!client.blockUntilConnected(10, TimeUnit.SECONDS)) {
            throw new AssertionError("no connection to " + server.getConnectString());
        }
        return client;
    }

    ZkMembership membership(CuratorFramework client, String node, MembershipListener listener) {
        return track(new ZkMembership(client, CLUSTER, FS, node, address(node), listener));
    }

    <T extends AutoCloseable> T track(T closeable) {
        open.add(closeable);
        return closeable;
    }

    static InetSocketAddress address(String node) {
        return new InetSocketAddress("127.0.0.1", 7000 + Math.floorMod(node.hashCode(), 1000));
    }

    /**
     * Expires {@code client}'s session on the server, as a long pause would: a second handle on the
     * same session closes it, which deletes its ephemerals at once; the client learns on its next
     * contact.
     */
    void expireSession(CuratorFramework client) throws Exception {
        ZooKeeper victim = client.getZookeeperClient().getZooKeeper();
        CountDownLatch connected = new CountDownLatch(1);
        Watcher onConnect = event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        };
        ZooKeeper twin = new ZooKeeper(server.getConnectString(), SESSION_MS, onConnect,
                victim.getSessionId(), victim.getSessionPasswd());
        try {
            if (!connected.await(10, TimeUnit.SECONDS)) {
                throw new AssertionError("twin session handle did not connect");
            }
        } finally {
            twin.close();
        }
    }

    void close() throws Exception {
        Exception first = null;
        for (int i = open.size() - 1; i >= 0; i--) {
            try {
                open.get(i).close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        server.close();
        if (first != null) {
            throw first;
        }
    }
}
