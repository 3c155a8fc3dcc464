package io.concord.dlm;

import static java.util.Objects.requireNonNull;

import io.concord.dlm.membership.ZkMembership;
import io.concord.dlm.net.ClusterKey;
import io.concord.dlm.net.NettyTransport;
import io.concord.dlm.net.Transport;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.data.ACL;

/**
 * The distributed lock manager of one node: a {@link Transport} to the other nodes and a
 * ZooKeeper client, shared by the node's lock spaces ({@link ClusterLockSpace}, one per mounted
 * filesystem). The lock-space API is the same as {@link NoLockManager}'s.
 */
public final class ClusterLockManager implements LockManager, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ClusterLockManager.class.getName());

    private final String cluster;
    private final String nodeName;
    private final Transport transport;
    private final InetSocketAddress advertised;
    private final CuratorFramework zookeeper;
    private final List<ACL> acl;
    private final Duration joinTimeout;
    private final boolean ownsConnections;
    private final ConcurrentMap<String, ClusterLockSpace> open = new ConcurrentHashMap<>();

    /**
     * Connects to ZooKeeper and starts listening for other nodes.
     *
     * @throws LockException if the key cannot be read, the address not bound, or ZooKeeper not
     *                       reached within the session timeout
     */
    public static ClusterLockManager start(ClusterConfig config) {
        ClusterKey key;
        try {
            key = ClusterKey.load(config.keyFile());
        } catch (IOException e) {
            throw new LockException("cannot read the cluster key " + config.keyFile() + ": " + e.getMessage(), e);
        }
        CuratorFrameworkFactory.Builder builder = CuratorFrameworkFactory.builder()
                .connectString(config.zookeeper())
                .sessionTimeoutMs((int) config.sessionTimeout().toMillis())
                .connectionTimeoutMs((int) Math.min(config.sessionTimeout().toMillis(), 15_000))
                .retryPolicy(new ExponentialBackoffRetry(100, 29, 2_000));
        if (config.zookeeperAuth() != null) {
            builder.authorization("digest", config.zookeeperAuth().getBytes(StandardCharsets.UTF_8));
        }
        CuratorFramework zookeeper = builder.build();
        zookeeper.start();
        try {
            if (!zookeeper.blockUntilConnected((int) config.sessionTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                throw new LockException("cannot reach ZooKeeper at " + config.zookeeper() + " within " + config.sessionTimeout());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            zookeeper.close();
            throw new LockException("interrupted while connecting to ZooKeeper", e);
        } catch (LockException e) {
            zookeeper.close();
            throw e;
        }
        NettyTransport transport;
        try {
            transport = NettyTransport.start(config.nodeName(), config.bind(), key);
        } catch (IOException | RuntimeException e) {
            zookeeper.close();
            throw new LockException("cannot listen on " + config.bind() + ": " + e.getMessage(), e);
        }
        InetSocketAddress advertised = config.advertise() != null ? config.advertise() : advertisable(transport.localAddress());
        return new ClusterLockManager(config.cluster(), config.nodeName(), transport, advertised, zookeeper,
                config.zookeeperAuth() == null ? ZkMembership.OPEN : ZkMembership.CREATOR_ONLY, config.joinTimeout(), true);
    }

    /**
     * A manager over connections the caller made and keeps (closing this closes neither).
     *
     * @param advertised where other nodes reach {@code transport}
     */
    public ClusterLockManager(String cluster, String nodeName, Transport transport, InetSocketAddress advertised,
                              CuratorFramework zookeeper, List<ACL> acl, Duration joinTimeout) {
        this(cluster, nodeName, transport, advertised, zookeeper, acl, joinTimeout, false);
    }

    private ClusterLockManager(String cluster, String nodeName, Transport transport, InetSocketAddress advertised,
                               CuratorFramework zookeeper, List<ACL> acl, Duration joinTimeout, boolean ownsConnections) {
        this.cluster = requireNonNull(cluster, "cluster");
        this.nodeName = requireNonNull(nodeName, "nodeName");
        this.transport = requireNonNull(transport, "transport");
        this.advertised = requireNonNull(advertised, "advertised");
        this.zookeeper = requireNonNull(zookeeper, "zookeeper");
        this.acl = List.copyOf(acl);
        this.joinTimeout = requireNonNull(joinTimeout, "joinTimeout");
        this.ownsConnections = ownsConnections;
    }

    public String nodeName() {
        return nodeName;
    }

    /** Opens a lock space whose owner only logs failures (see {@link #openLockSpace(String, LockSpaceListener)}). */
    @Override
    public ClusterLockSpace openLockSpace(String name) {
        return openLockSpace(name, LockSpaceListener.LOGGING);
    }

    /**
     * Joins the lock space {@code name} and returns once this node may take locks in it.
     *
     * @param listener the owner: its recovery hook, and notices of suspension and expulsion
     * @throws IllegalStateException if this node has it open already
     * @throws LockException         if not admitted within the join timeout
     */
    public ClusterLockSpace openLockSpace(String name, LockSpaceListener listener) {
        if (requireNonNull(name, "name").isBlank()) {
            throw new IllegalArgumentException("a lock space needs a name");
        }
        ClusterLockSpace space = new ClusterLockSpace(name, transport,
                events -> new ZkMembership(zookeeper, cluster, name, nodeName, advertised, events, acl), listener,
                closed -> open.remove(name, closed));
        if (open.putIfAbsent(name, space) != null) {
            throw new IllegalStateException("lock space " + name + " is already open on " + nodeName);
        }
        try {
            space.join(joinTimeout);
        } catch (RuntimeException e) {
            open.remove(name, space);
            throw e;
        }
        return space;
    }

    /** Leaves every open lock space, then closes the connections if this manager made them. */
    @Override
    public void close() {
        open.values().forEach(ClusterLockSpace::close);
        if (ownsConnections) {
            transport.close();
            zookeeper.close();
        }
    }

    private static InetSocketAddress advertisable(InetSocketAddress bound) {
        if (!bound.getAddress().isAnyLocalAddress()) {
            return bound;
        }
        try {
            return new InetSocketAddress(InetAddress.getLocalHost(), bound.getPort());
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot tell this host's address; advertising loopback: " + e);
            return new InetSocketAddress(InetAddress.getLoopbackAddress(), bound.getPort());
        }
    }
}
