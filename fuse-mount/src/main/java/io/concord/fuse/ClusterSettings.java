package io.concord.fuse;

import io.concord.dlm.ClusterConfig;
import io.concord.errors.ConcordException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * How this node joins its cluster: the ZooKeeper connect string, its node name, where its lock
 * manager listens, and the cluster key file. Each comes from a mount option if given
 * ({@code zk=}, {@code node=}, {@code listen=}, {@code key=}), else from the same-named line of
 * {@link ConcordConf} ({@value ConcordConf#DEFAULT_PATH}, or {@code conf=PATH}, or
 * {@code $CONCORD_CONF}), else from the defaults: the host name, {@value #DEFAULT_LISTEN}, and
 * {@value #DEFAULT_KEY}. ZooKeeper has no default: a cluster mount without one is refused.
 *
 * @param zookeeper {@code host:port[,host:port...]}
 * @param listen    where the DLM accepts the other nodes (port 0: any free port)
 */
public record ClusterSettings(String zookeeper, String node, InetSocketAddress listen, Path keyFile) {
    public static final String DEFAULT_LISTEN = "0.0.0.0:7890";
    public static final String DEFAULT_KEY = "/etc/concord/cluster.key";
    /** The environment variable naming another configuration file (tests, several setups on one host). */
    public static final String CONF_ENV = "CONCORD_CONF";
    /** How long a silent node stays a member; ZooKeeper unreachable for this long fails the mount. */
    private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(10);
    /** Covers a restarted node waiting for its previous life's session to expire, and admission. */
    private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(30);
    /** As the DLM's membership requires of node names (they are ZooKeeper path elements). */
    private static final Pattern NODE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,254}");

    /** What the mount options said; null where they said nothing. */
    public record Overrides(String zk, String node, String listen, String key, Path conf) {
        public static final Overrides NONE = new Overrides(null, null, null, null, null);
    }

    /**
     * Merges the mount options over the configuration file over the defaults.
     *
     * @throws ConcordException with one line naming the setting that is missing or malformed
     */
    public static ClusterSettings resolve(Overrides o, Map<String, String> environment) {
        ConcordConf conf = ConcordConf.load(o.conf() != null ? o.conf()
                : environment.containsKey(CONF_ENV) ? Path.of(environment.get(CONF_ENV)) : null);
        String zk = pick(o.zk(), conf.get("zk"), null);
        if (zk == null || zk.isBlank()) {
            throw new ConcordException("a cluster mount needs ZooKeeper: set zk = host:port in " + conf.path()
                    + " or mount with -o zk=host:port (or -o nolock for a single node)");
        }
        String node = pick(o.node(), conf.get("node"), hostName());
        if (!NODE_NAME.matcher(node).matches()) {
            throw new ConcordException("node name '" + node + "' must be letters, digits, '.', '_' and '-' (set node= or node = in " + conf.path() + ")");
        }
        InetSocketAddress listen = address(pick(o.listen(), conf.get("listen"), DEFAULT_LISTEN));
        return new ClusterSettings(zk, node, listen, Path.of(pick(o.key(), conf.get("key"), DEFAULT_KEY)));
    }

    /** The lock manager's configuration for the cluster named in the lock table ({@code cluster:fs}). */
    public ClusterConfig config(String lockTable) {
        String cluster = lockTable.substring(0, lockTable.indexOf(':'));
        return new ClusterConfig(cluster, node, listen, null, zookeeper, SESSION_TIMEOUT, keyFile, null, JOIN_TIMEOUT);
    }

    /** This host's name: the default node name, and what heartbeat blocks say a holder runs on. */
    public static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }

    private static String pick(String option, String file, String fallback) {
        return option != null ? option : file != null ? file : fallback;
    }

    /** {@code host:port}, {@code [v6]:port}. */
    static InetSocketAddress address(String text) {
        int colon = text.lastIndexOf(':');
        String host = colon < 0 ? "" : text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        try {
            int port = Integer.parseInt(text.substring(colon + 1));
            if (colon <= 0 || port < 0 || port > 65535) {
                throw new NumberFormatException();
            }
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (NumberFormatException e) {
            throw new ConcordException("listen address must be host:port (as " + DEFAULT_LISTEN + "), not '" + text + "'");
        } catch (UnknownHostException e) {
            throw new ConcordException("listen address '" + text + "': unknown host " + host);
        }
    }
}
