package io.concord.dlm;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.zookeeper.server.NIOServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;

/**
 * A single ZooKeeper server inside this JVM, for a one-machine cluster (the README's default, the
 * benchmarks). Production clusters point their nodes at an external ensemble instead: a single
 * embedded server is a single point of failure.
 *
 * <p>Its tick is 1 s, so sessions may last 2 to 20 s.
 */
public final class EmbeddedZooKeeper implements AutoCloseable {
    private static final int TICK_MS = 1000;

    private final ZooKeeperServer server;
    private final NIOServerCnxnFactory connections;

    private EmbeddedZooKeeper(ZooKeeperServer server, NIOServerCnxnFactory connections) {
        this.server = server;
        this.connections = connections;
    }

    /**
     * Starts a server keeping its data under {@code dataDir}, listening on {@code address} (port 0:
     * any free port).
     */
    public static EmbeddedZooKeeper start(Path dataDir, InetSocketAddress address) throws IOException {
        Files.createDirectories(dataDir);
        ZooKeeperServer server = new ZooKeeperServer(dataDir.toFile(), dataDir.toFile(), TICK_MS);
        NIOServerCnxnFactory connections = new NIOServerCnxnFactory();
        connections.configure(address, 256);
        try {
            connections.startup(server);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            connections.shutdown();
            throw new IOException("interrupted while starting ZooKeeper", e);
        }
        return new EmbeddedZooKeeper(server, connections);
    }

    /** The connect string clients use. */
    public String connectString() {
        InetSocketAddress bound = connections.getLocalAddress();
        return bound.getHostString() + ":" + bound.getPort();
    }

    @Override
    public void close() {
        connections.shutdown();
        server.shutdown();
    }
}
