package io.concord.dlm;

import io.concord.dlm.membership.Member;
import io.concord.dlm.membership.ZkMembership;
import io.concord.dlm.net.ClusterKey;
import io.concord.dlm.net.NettyTransport;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.test.TestingServer;

/**
 * Several DLM nodes in this JVM, each with its own ZooKeeper client and transport, around a real
 * ZooKeeper server: a {@code MiniCluster} for the lock manager alone. A node can leave cleanly or
 * {@linkplain Node#crash() crash}: its ZooKeeper session and connections end without a word, as
 * when its process is killed.
 */
final class LocalCluster implements AutoCloseable {
    static final Duration SESSION = Duration.ofSeconds(3);

    private final TestingServer zookeeper;
    private final ClusterKey key;
    private final Path keyFile;
    private final String cluster;
    private final List<Node> nodes = new ArrayList<>();

    LocalCluster(Path dir, String cluster) throws Exception {
        this.zookeeper = new TestingServer(true);
        this.keyFile = dir.resolve("authkey");
        this.key = ClusterKey.generate(keyFile, new SecureRandom());
        this.cluster = cluster;
    }

    String connectString() {
        return zookeeper.getConnectString();
    }

    Path keyFile() {
        return keyFile;
    }

    TestingServer server() {
        return zookeeper;
    }

    /** Starts a node and joins {@code lockSpace}; returns once it may take locks. */
    Node start(String name, String lockSpace) throws IOException, InterruptedException {
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(zookeeper.getConnectString())
                .sessionTimeoutMs((int) SESSION.toMillis())
                .connectionTimeoutMs((int) SESSION.toMillis())
                .retryPolicy(new ExponentialBackoffRetry(50, 10, 500))
                .build();
        client.start();
        if (!client.blockUntilConnected(10, java.util.concurrent.TimeUnit.SECONDS)) {
            client.close();
            throw new IOException("ZooKeeper not reached");
        }
        NettyTransport transport = NettyTransport.start(name, new InetSocketAddress("127.0.0.1", 0), key);
        ClusterLockManager manager = new ClusterLockManager(cluster, name, transport, transport.localAddress(), client,
                ZkMembership.OPEN, Duration.ofSeconds(20));
        Node node = new Node(name, client, transport, manager);
        node.space = manager.openLockSpace(lockSpace, node.listener);
        nodes.add(node);
        return node;
    }

    @Override
    public void close() throws IOException {
        for (Node node : nodes) {
            node.stopQuietly();
        }
        zookeeper.close();
        Files.deleteIfExists(keyFile);
        Files.deleteIfExists(keyFile.getParent());
    }

    /** One node: its lock space and what its owner was told. */
    static final class Node {
        final String name;
        final CuratorFramework client;
        final NettyTransport transport;
        final ClusterLockManager manager;
        final BlockingQueue<Member> failed = new LinkedBlockingQueue<>();
        final BlockingQueue<String> expelled = new LinkedBlockingQueue<>();
        volatile boolean autoRecover;
        ClusterLockSpace space;
        private boolean stopped;

        final LockSpaceListener listener = new LockSpaceListener() {
            @Override
            public void nodeFailed(Member member, long epoch) {
                failed.add(member);
                if (autoRecover) {
                    space.recovered(member);
                }
            }

            @Override
            public void expelled(String why) {
                expelled.add(why);
            }
        };

        Node(String name, CuratorFramework client, NettyTransport transport, ClusterLockManager manager) {
            this.name = name;
            this.client = client;
            this.transport = transport;
            this.manager = manager;
        }

        Member self() {
            return space.self();
        }

        /** Ends the ZooKeeper session and every connection without releasing anything. */
        void crash() {
            cutConnections();
            endSession();
        }

        /**
         * The first half of a crash: nothing this node does from now on reaches another node,
         * though the cluster does not know yet. A test records the death between the halves.
         */
        void cutConnections() {
            stopped = true;
            transport.close();
        }

        /** The second half: the ZooKeeper session ends, so the others see the node leave. */
        void endSession() {
            client.close();
        }

        /** Releases everything and leaves. */
        void leave() {
            stopped = true;
            manager.close();
            transport.close();
            client.close();
        }

        void stopQuietly() {
            if (!stopped) {
                try {
                    leave();
                } catch (RuntimeException e) {
                    // the test already failed or crashed it
                }
            }
        }
    }

    static Path tempDir() throws IOException {
        return Files.createTempDirectory("concord-dlm");
    }
}
