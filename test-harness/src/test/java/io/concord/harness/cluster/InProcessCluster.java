package io.concord.harness.cluster;

import io.concord.device.BlockDevice;
import io.concord.device.FileBlockDevice;
import io.concord.dlm.ClusterConfig;
import io.concord.dlm.ClusterLockManager;
import io.concord.dlm.ClusterLockSpace;
import io.concord.dlm.EmbeddedZooKeeper;
import io.concord.dlm.LockSpaceListener;
import io.concord.dlm.membership.Member;
import io.concord.dlm.net.ClusterKey;
import io.concord.fs.ConcordFs;
import io.concord.fs.MkfsOptions;
import io.concord.fs.MountOptions;
import io.concord.harness.FsckSupport;
import io.concord.harness.Images;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * Several filesystem nodes in this JVM, each with its own distributed lock manager (its own
 * ZooKeeper session and Netty transport), its own device handle on one shared image, and its own
 * journal slot, around a real ZooKeeper server: the filesystem's glocks on the real DLM, without
 * FUSE in front. {@link #close()} unmounts every node and checks the image with fsck.
 */
final class InProcessCluster implements AutoCloseable {
    private final Path dir;
    private final Path image;
    private final Path keyFile;
    private final EmbeddedZooKeeper zookeeper;
    private final String table;
    private final List<Node> nodes = new ArrayList<>();

    /** One node: its lock manager, device and mounted filesystem. */
    static final class Node {
        final String name;
        final ClusterLockManager dlm;
        final BlockDevice device;
        final ClusterLockSpace space;
        final ConcordFs fs;
        /** The members this node's recovery hook was called for. */
        final List<Member> failedSeen;
        private boolean closed;

        private Node(String name, ClusterLockManager dlm, BlockDevice device, ClusterLockSpace space, ConcordFs fs, List<Member> failed) {
            this.name = name;
            this.failedSeen = failed;
            this.dlm = dlm;
            this.device = device;
            this.space = space;
            this.fs = fs;
        }

        void close() {
            if (closed) {
                return;
            }
            closed = true;
            try {
                fs.close();
            } finally {
                device.close();
                dlm.close();
            }
        }
    }

    private InProcessCluster(Path dir, Path image, Path keyFile, EmbeddedZooKeeper zookeeper, String table) {
        this.dir = dir;
        this.image = image;
        this.keyFile = keyFile;
        this.zookeeper = zookeeper;
        this.table = table;
    }

    static InProcessCluster start(Path dir, int nodes) throws IOException {
        return start(dir, nodes, d -> d);
    }

    /** Formats a 256 MiB image with {@code nodes + 1} journals and mounts {@code nodes} nodes. */
    static InProcessCluster start(Path dir, int nodes, Function<BlockDevice, BlockDevice> wrap) throws IOException {
        Path image = Images.formatted(dir.resolve("shared.img"), 256L << 20, MkfsOptions.of("itest:shared", nodes + 1), 7);
        Path key = dir.resolve("cluster.key");
        ClusterKey.generate(key, new SecureRandom());
        EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(dir.resolve("zk"), new InetSocketAddress("127.0.0.1", 0));
        InProcessCluster c = new InProcessCluster(dir, image, key, zk, "shared");
        try {
            for (int i = 0; i < nodes; i++) {
                c.add(wrap);
            }
        } catch (RuntimeException | Error e) {
            c.closeQuietly();
            throw e;
        }
        return c;
    }

    Node add(Function<BlockDevice, BlockDevice> wrap) {
        String name = "n" + (nodes.size() + 1);
        ClusterConfig config = ClusterConfig.loopback("itest", name, zookeeper.connectString(), keyFile).withSessionTimeout(Duration.ofSeconds(4));
        ClusterLockManager dlm = ClusterLockManager.start(config);
        List<Member> failed = new CopyOnWriteArrayList<>();
        ConcordFs[] fsRef = new ConcordFs[1];
        ClusterLockSpace space = dlm.openLockSpace(table, new LockSpaceListener() {
            @Override
            public void nodeFailed(Member member, long epoch) {
                failed.add(member);
            }

            @Override
            public void expelled(String why) {
                if (fsRef[0] != null) {
                    fsRef[0].clusterExpelled(why);
                }
            }
        });
        int slot = space.claimJournalSlot(nodes.size() + 2);
        BlockDevice device = wrap.apply(FileBlockDevice.open(image, false, false));
        ConcordFs fs = ConcordFs.mount(device, space, MountOptions.defaults().withJournal(slot).withCommitInterval(Duration.ofSeconds(1))
                .withClock(Clock.systemUTC()));
        fsRef[0] = fs;
        Node n = new Node(name, dlm, device, space, fs, failed);
        nodes.add(n);
        return n;
    }

    Node node(int i) {
        return nodes.get(i);
    }

    int size() {
        return nodes.size();
    }

    Path image() {
        return image;
    }

    /** Unmounts every node, stops ZooKeeper, and asserts fsck finds the image clean. */
    @Override
    public void close() {
        closeQuietly();
        FsckSupport.assertClean(image);
    }

    private void closeQuietly() {
        RuntimeException first = null;
        for (Node n : nodes) {
            try {
                n.close();
            } catch (RuntimeException e) {
                first = first == null ? e : first;
            }
        }
        zookeeper.close();
        if (first != null) {
            throw first;
        }
    }
}
