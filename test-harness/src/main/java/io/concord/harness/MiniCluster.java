package io.concord.harness;

import io.concord.dlm.net.ClusterKey;
import io.concord.format.LockProtocol;
import io.concord.fs.MkfsOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A Concord cluster on this machine, for tests: one ZooKeeper process and N node daemons, each its
 * own process with its own FUSE mount of one shared image file, as N machines on one shared disk
 * would be. Nodes are numbered from 1 ({@code node1} mounted at {@code DIR/node1}, ...), as
 * {@code bin/concord up} numbers them.
 *
 * <pre>
 * try (MiniCluster c = MiniCluster.start(dir, 3)) {
 *     Files.writeString(c.node(1).mountPoint().resolve("f"), "hi");
 *     c.kill9(2); c.restart(3); c.pause(1); c.resume(1);
 * }   // unmounts every node, stops every process, and fails unless fsck.concord -n is clean
 * </pre>
 *
 * <p>Everything it starts it stops, by the {@link Process} it started, with bounded waits that
 * escalate (umount, SIGTERM, SIGKILL and {@code umount -l}); {@link #close} reports every
 * escalation as a failure, since a clean cluster stops without one.
 *
 * <p>A killed node's journal is replayed and its locks released only by the recovery that comes
 * with the node-failure work; until then its journal slot stays claimed in ZooKeeper, so a node
 * killed with work in its journal leaves fsck reporting that journal dirty at {@link #close}.
 */
public final class MiniCluster implements AutoCloseable {
    private final Path dir;
    private final Path image;
    private final Path key;
    /** Empty: every setting comes from the options, nothing from this machine's /etc/concord. */
    private final Path conf;
    private final Builder settings;
    private final ZooKeeperProcess zookeeper;
    private final List<ClusterNode> nodes = new ArrayList<>();
    private boolean closed;

    private MiniCluster(Builder settings, ZooKeeperProcess zookeeper, Path image, Path key) {
        this.dir = settings.dir;
        this.settings = settings;
        this.zookeeper = zookeeper;
        this.image = image;
        this.key = key;
        this.conf = dir.resolve("concord.conf");
        for (int i = 1; i <= settings.nodes; i++) {
            nodes.add(new ClusterNode("node" + i, dir.resolve("node" + i), dir.resolve("node" + i + ".log")));
        }
    }

    /** ZooKeeper and {@code nodes} cluster nodes on a fresh image under {@code dir}. */
    public static MiniCluster start(Path dir, int nodes) throws IOException, InterruptedException {
        return builder(dir).nodes(nodes).start();
    }

    public static Builder builder(Path dir) {
        return new Builder(dir);
    }

    /** How a cluster is made: {@link #builder}, then {@link #start}. */
    public static final class Builder {
        private final Path dir;
        private int nodes = 3;
        private int journals;
        private long imageBytes = 1L << 30;
        private String lockTable = "mini:fs";
        private String mountOptions = "";
        private boolean nolock;

        private Builder(Path dir) {
            this.dir = dir.toAbsolutePath().normalize();
        }

        public Builder nodes(int n) {
            this.nodes = n;
            return this;
        }

        /** Journals on the image (default: one per node); more leave slots for replacement nodes. */
        public Builder journals(int n) {
            this.journals = n;
            return this;
        }

        public Builder imageBytes(long bytes) {
            this.imageBytes = bytes;
            return this;
        }

        public Builder lockTable(String table) {
            this.lockTable = table;
            return this;
        }

        /** More {@code -o} options for every node (commit=, attr_timeout=, ...). */
        public Builder mountOptions(String options) {
            this.mountOptions = options;
            return this;
        }

        /**
         * One node mounting a {@code nolock} image: the process control and the fsck at close
         * without the DLM. Refused for more than one node: nolock mounts of one image by several
         * nodes corrupt it.
         */
        public Builder nolock() {
            this.nolock = true;
            this.nodes = 1;
            return this;
        }

        public MiniCluster start() throws IOException, InterruptedException {
            if (nodes < 1 || (nolock && nodes != 1)) {
                throw new IllegalArgumentException(nolock ? "a nolock cluster has exactly one node, not " + nodes : "nodes must be at least 1");
            }
            int journalCount = Math.max(journals, nodes);
            Files.createDirectories(dir);
            Path image = dir.resolve("concord.img");
            Images.formatted(image, imageBytes, new MkfsOptions(lockTable, journalCount, 4096, 0, 0, "", false,
                    nolock ? LockProtocol.NOLOCK : LockProtocol.DLM), System.nanoTime());
            Path key = dir.resolve("cluster.key");
            ClusterKey.generate(key, new SecureRandom());
            Files.writeString(dir.resolve("concord.conf"), "# empty: the nodes get every setting from their mount options\n");
            MiniCluster cluster = new MiniCluster(this, ZooKeeperProcess.start(dir), image, key);
            try {
                for (int i = 1; i <= nodes; i++) {
                    cluster.start(i);
                }
            } catch (IOException | InterruptedException | RuntimeException e) {
                try {
                    cluster.stopEverything();
                } catch (IOException | InterruptedException | RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
            return cluster;
        }
    }

    /** Node {@code i}, from 1. */
    public ClusterNode node(int i) {
        if (i < 1 || i > nodes.size()) {
            throw new IllegalArgumentException("no node " + i + " in a cluster of " + nodes.size());
        }
        return nodes.get(i - 1);
    }

    public int size() {
        return nodes.size();
    }

    public Path image() {
        return image;
    }

    public Path dir() {
        return dir;
    }

    public String lockTable() {
        return settings.lockTable;
    }

    public String zookeeper() {
        return zookeeper.connectString();
    }

    /** Starts node {@code i}'s daemon; returns once its mount answers. */
    public void start(int i) throws IOException, InterruptedException {
        ClusterNode n = node(i);
        String cluster = settings.nolock ? "nolock,journal=0"
                : "zk=" + zookeeper.connectString() + ",node=" + n.name() + ",listen=127.0.0.1:0,key=" + key + ",conf=" + conf;
        n.start(image, "foreground," + cluster + (settings.mountOptions.isBlank() ? "" : "," + settings.mountOptions));
    }

    /** kill -9 of node {@code i}'s daemon: no unmount, no leave; its mount stays, answering ENOTCONN. */
    public void kill9(int i) throws InterruptedException {
        node(i).kill9();
    }

    /** SIGSTOP to node {@code i}: it answers nothing, ZooKeeper included, until {@link #resume}. */
    public void pause(int i) throws IOException, InterruptedException {
        node(i).pause();
    }

    public void resume(int i) throws IOException, InterruptedException {
        node(i).resume();
    }

    /** A clean stop of node {@code i} ({@code umount}; it leaves the cluster); throws if it was not clean. */
    public void stop(int i) throws IOException, InterruptedException {
        String trouble = node(i).stop();
        if (trouble != null) {
            throw new IllegalStateException(trouble);
        }
    }

    /** {@link #stop} then {@link #start}. */
    public void restart(int i) throws IOException, InterruptedException {
        stop(i);
        start(i);
    }

    /** What {@code concord status} says about this cluster's lock space now (its output, or its one-line error). */
    public String status() throws IOException, InterruptedException {
        return BoundedCommand.run(JavaCommand.of(JavaCommand.CONCORD, List.of("status", "--zk", zookeeper.connectString(),
                "--table", settings.lockTable)), Duration.ofSeconds(60)).output();
    }

    /**
     * Stops every node (a clean umount each, escalating if needed), then ZooKeeper, then checks the
     * image with {@code fsck.concord -n}. Throws AssertionError naming every escalation and every
     * fsck problem; everything is stopped and unmounted either way.
     */
    @Override
    public void close() throws IOException, InterruptedException {
        if (closed) {
            return;
        }
        List<String> trouble = stopEverything();
        String fsck = fsck();
        if (fsck != null) {
            trouble.add(fsck);
        }
        if (!trouble.isEmpty()) {
            throw new AssertionError("MiniCluster in " + dir + ":\n  " + String.join("\n  ", trouble));
        }
    }

    private List<String> stopEverything() throws IOException, InterruptedException {
        closed = true;
        List<String> trouble = new ArrayList<>();
        // The last node first: the first is the oldest member, the coordinator, which then sees
        // every other leave in order rather than having to be replaced first.
        for (int i = nodes.size(); i >= 1; i--) {
            String t = node(i).stop();
            if (t != null) {
                trouble.add(t);
            }
        }
        String zk = zookeeper.stop();
        if (zk != null) {
            trouble.add(zk);
        }
        return trouble;
    }

    /** Runs {@code fsck.concord -n IMAGE}; null if it exits 0, else what it said. */
    private String fsck() throws IOException, InterruptedException {
        BoundedCommand fsck = BoundedCommand.run(JavaCommand.of(JavaCommand.FSCK, List.of("-n", image.toString())), Duration.ofMinutes(5));
        if (fsck.exitCode() == 0) {
            return null;
        }
        List<String> said = fsck.output().lines().limit(20).toList();
        return "fsck.concord -n " + image + " exited " + fsck.exitCode() + ":\n    " + String.join("\n    ", said);
    }
}
