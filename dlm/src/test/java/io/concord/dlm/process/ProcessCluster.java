package io.concord.dlm.process;

import io.concord.dlm.net.ClusterKey;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.curator.test.TestingServer;

/**
 * A ZooKeeper server in the test's JVM and DLM nodes each in a process of its own
 * ({@link DlmNodeProcess}): the out-of-process counterpart of {@code LocalCluster}.
 */
final class ProcessCluster implements AutoCloseable {
    static final Duration SESSION = Duration.ofSeconds(3);
    // A JVM start, a ZooKeeper session and a join, on two cores shared with other work.
    static final Duration START = Duration.ofSeconds(40);

    private final Path dir;
    private final TestingServer zookeeper;
    private final Path keyFile;
    private final String cluster;
    private final List<NodeProcess> nodes = new ArrayList<>();
    private final Map<String, Long> incarnations = new LinkedHashMap<>();

    ProcessCluster(String cluster) throws Exception {
        // Under the module's target/, so a failure's logs stay for reading and `mvn clean` removes them.
        Path runs = Files.createDirectories(Path.of("target", "dlm-process-runs"));
        this.dir = Files.createTempDirectory(runs, "run");
        this.zookeeper = new TestingServer(true);
        this.keyFile = dir.resolve("authkey");
        ClusterKey.generate(keyFile, new SecureRandom());
        this.cluster = cluster;
    }

    String connectString() {
        return zookeeper.getConnectString();
    }

    Path dir() {
        return dir;
    }

    Path historyFile(String node) {
        return dir.resolve("history-" + node + ".txt");
    }

    /** Starts every node at once, each on the ZooKeeper address given for it, and waits until all have joined. */
    List<NodeProcess> start(Map<String, String> zookeeperFor, long seed) throws IOException, InterruptedException {
        List<NodeProcess> started = new ArrayList<>();
        long nodeSeed = seed;
        for (var entry : zookeeperFor.entrySet()) {
            String name = entry.getKey();
            NodeProcess node = NodeProcess.start(name, List.of(entry.getValue(), keyFile.toString(), cluster, name, "fs",
                    Long.toString(SESSION.toMillis()), historyFile(name).toString(), Long.toString(nodeSeed++)), dir.resolve(name + ".log"));
            nodes.add(node);
            started.add(node);
        }
        for (NodeProcess node : started) {
            String ready = node.await("ready ", START);
            incarnations.put(node.name(), Long.parseLong(ready.substring("ready ".length()).trim()));
        }
        return started;
    }

    /** Starts nodes all on the ZooKeeper server directly. */
    List<NodeProcess> start(String... names) throws IOException, InterruptedException {
        Map<String, String> direct = new LinkedHashMap<>();
        for (String name : names) {
            direct.put(name, connectString());
        }
        return start(direct, 0);
    }

    long incarnation(String node) {
        return incarnations.get(node);
    }

    /**
     * The master of each resource, once every node names the same one. A node is ready once it
     * passed the barrier of an epoch with itself in it, which may precede the epoch that admits
     * the last node; asking all of them until they agree waits that out.
     */
    Map<String, String> agreedMasters(List<NodeProcess> among, List<String> resources) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        List<Map<String, String>> views = new ArrayList<>();
        while (System.nanoTime() < deadline) {
            views.clear();
            for (NodeProcess node : among) {
                views.add(parseMasters(node.ask("masters " + String.join(" ", resources), "masters", Duration.ofSeconds(10))));
            }
            boolean everyNodeMasters = among.stream().allMatch(n -> views.getFirst().containsValue(n.name()));
            if (views.stream().allMatch(views.getFirst()::equals) && everyNodeMasters) {
                return views.getFirst();
            }
            Thread.sleep(200);
        }
        throw new AssertionError("nodes do not agree on the masters: " + views);
    }

    private static Map<String, String> parseMasters(String line) {
        Map<String, String> masters = new LinkedHashMap<>();
        String[] words = line.split(" ");
        for (int i = 1; i < words.length; i++) {
            String[] pair = words[i].split("=", 2);
            masters.put(pair[0], pair[1]);
        }
        return masters;
    }

    /** Kills every node (each is reaped) and stops ZooKeeper; the directory is kept for a failure's logs. */
    @Override
    public void close() throws IOException {
        for (NodeProcess node : nodes) {
            node.close();
        }
        zookeeper.close();
    }
}
