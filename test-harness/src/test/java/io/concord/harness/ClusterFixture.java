package io.concord.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.device.BlockDevice;
import io.concord.device.FileBlockDevice;
import io.concord.dlm.EmbeddedZooKeeper;
import io.concord.format.HeartbeatBlock;
import io.concord.format.Superblock;
import io.concord.fs.ConcordFs;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What a cluster mount needs on one machine: a ZooKeeper on a free loopback port and a cluster key
 * made by {@code concord keygen}; and the view of an image's heartbeat blocks from outside.
 */
final class ClusterFixture implements AutoCloseable {
    final Path work;
    final EmbeddedZooKeeper zookeeper;
    final Path key;
    /** An empty configuration file, so that nothing in /etc/concord on this machine leaks into a test. */
    final Path conf;

    ClusterFixture(Path work) throws IOException, InterruptedException {
        this.work = work;
        this.zookeeper = EmbeddedZooKeeper.start(work.resolve("zk"), new InetSocketAddress("127.0.0.1", 0));
        this.key = work.resolve("cluster.key");
        ForkedMount.Outcome keygen = ForkedMount.concord(work, "keygen", key.toString());
        assertEquals(0, keygen.exitCode(), "concord keygen: " + keygen);
        this.conf = Files.writeString(work.resolve("concord.conf"), "# nothing: every setting comes from the options\n");
    }

    /** The options that make {@code node} a cluster member on this machine. */
    String options(String node) {
        return "zk=" + zookeeper.connectString() + ",node=" + node + ",listen=127.0.0.1:0,key=" + key + ",conf=" + conf;
    }

    /** Every slot's heartbeat block, read from the image as another machine would. */
    static List<HeartbeatBlock> heartbeats(Path image) {
        try (BlockDevice dev = FileBlockDevice.open(image, true, true)) {
            Superblock sb = ConcordFs.readSuperblock(dev);
            assertTrue(sb.hasHeartbeats(), "the image has heartbeat blocks");
            return java.util.stream.IntStream.range(0, sb.journalCount()).mapToObj(j -> {
                ByteBuffer b = ByteBuffer.allocate(sb.blockSize());
                dev.read(sb.heartbeatBlock(j) * sb.blockSize(), b);
                return HeartbeatBlock.decode(b.clear(), sb.heartbeatBlock(j), sb.fsId());
            }).toList();
        }
    }

    @Override
    public void close() {
        zookeeper.close();
    }
}
