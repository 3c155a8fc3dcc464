package io.concord.dlm;

import static java.util.Objects.requireNonNull;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How a node joins its cluster's lock manager.
 *
 * @param cluster        the cluster's name: the first part of the lock table {@code cluster:fs}
 * @param nodeName       this node's name, unique in the cluster
 * @param bind           where the DLM listens for other nodes (port 0: any free port)
 * @param advertise      the address other nodes connect to; null: {@code bind}, or this host's
 *                       address if {@code bind} is a wildcard
 * @param zookeeper      the ZooKeeper connect string, {@code host:port[,host:port...]}
 * @param sessionTimeout the ZooKeeper session timeout: how long a silent node stays a member
 * @param keyFile        the cluster key (like corosync's authkey), the same file on every node
 * @param zookeeperAuth  null, or {@code user:password} for ZooKeeper digest auth; then every znode
 *                       of the cluster is created readable and writable by that identity only
 * @param joinTimeout    how long opening a lock space may wait to be admitted
 */
public record ClusterConfig(String cluster, String nodeName, InetSocketAddress bind, InetSocketAddress advertise,
                            String zookeeper, Duration sessionTimeout, Path keyFile, String zookeeperAuth, Duration joinTimeout) {
    public ClusterConfig {
        requireNonNull(cluster, "cluster");
        requireNonNull(nodeName, "nodeName");
        requireNonNull(bind, "bind");
        requireNonNull(zookeeper, "zookeeper");
        requireNonNull(sessionTimeout, "sessionTimeout");
        requireNonNull(keyFile, "keyFile");
        requireNonNull(joinTimeout, "joinTimeout");
    }

    /** Loopback, 10 s sessions, no ZooKeeper auth, 30 s to join: what tests and a one-machine cluster use. */
    public static ClusterConfig loopback(String cluster, String nodeName, String zookeeper, Path keyFile) {
        return new ClusterConfig(cluster, nodeName, new InetSocketAddress("127.0.0.1", 0), null, zookeeper,
                Duration.ofSeconds(10), keyFile, null, Duration.ofSeconds(30));
    }

    public ClusterConfig withSessionTimeout(Duration timeout) {
        return new ClusterConfig(cluster, nodeName, bind, advertise, zookeeper, timeout, keyFile, zookeeperAuth, joinTimeout);
    }

    public ClusterConfig withZookeeperAuth(String userPassword) {
        return new ClusterConfig(cluster, nodeName, bind, advertise, zookeeper, sessionTimeout, keyFile, userPassword, joinTimeout);
    }
}
