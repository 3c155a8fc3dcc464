package io.concord.fuse;

import io.concord.errors.ConcordException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalInt;
import java.util.Set;

/**
 * The {@code -o} options of mount.concord, as mount(8) and fstab pass them.
 *
 * <p>Concord's own: {@code ro}/{@code rw}, {@code nolock} (single node: the local lock manager;
 * the default for a filesystem made with {@code mkfs -p nolock}, an override with a warning for
 * a cluster one), {@code journal=N} (the node slot: 0 for a single node; a cluster mount takes a
 * free one unless asked), the cluster settings {@code zk=}, {@code node=}, {@code listen=},
 * {@code key=} and {@code conf=} (see {@link ClusterSettings}), {@code direct} (O_DIRECT to the device and no
 * page cache for file data), {@code metadata_cache_mb=N}, {@code attr_timeout=S},
 * {@code entry_timeout=S} (seconds, fractions allowed; 30 by default), {@code queues=N} (/dev/fuse queues),
 * {@code commit=S} (journal commit interval), {@code foreground}, {@code log=PATH},
 * {@code noexec}/{@code exec}, {@code allow_other} (the default) / {@code noallow_other},
 * {@code readahead_kb=N} (the mount's readahead, 1024 by default; 0 leaves the kernel's).
 *
 * <p>Generic options that mount(8) and fstab use and that need nothing from us are accepted:
 * {@code defaults}, {@code _netdev}, {@code auto}, {@code noauto}, {@code nofail}, {@code user},
 * {@code nouser}, {@code users}, {@code nosuid}, {@code nodev} (always in force), {@code suid},
 * {@code dev}, {@code atime} family, {@code sync}/{@code async}, {@code x-*} and {@code comment=}.
 * Anything else is refused, naming the option.
 */
public final class MountOptionsParser {
    private static final Set<String> GENERIC = Set.of("defaults", "_netdev", "auto", "noauto", "nofail", "user", "nouser", "users", "owner",
            "group", "nosuid", "nodev", "suid", "dev", "atime", "noatime", "relatime", "norelatime", "strictatime", "nostrictatime",
            "nodiratime", "diratime", "lazytime", "nolazytime", "sync", "async", "silent", "loud");

    /** The parsed options. {@code journal} is empty unless {@code journal=N} was given. */
    public record Options(boolean readOnly, boolean nolock, OptionalInt journal, ClusterSettings.Overrides cluster, boolean direct, long metadataCacheBytes, Duration attrTimeout,
            Duration entryTimeout, int queues, Duration commitInterval, boolean foreground, Path log, boolean noExec, boolean allowOther,
            int readaheadKb) {
    }

    private MountOptionsParser() {
    }

    public static Options parse(String options) {
        boolean ro = false;
        boolean nolock = false;
        OptionalInt journal = OptionalInt.empty();
        String zk = null;
        String node = null;
        String listen = null;
        String keyFile = null;
        Path conf = null;
        boolean direct = false;
        long cache = 64L << 20;
        // Long by default: the kernel's caches are kept right by invalidation notifications when
        // something changes behind its back (another node), not by expiring them, as GFS2's caches
        // stay valid for as long as the glock is held. With nolock every change passes the kernel.
        Duration attr = Duration.ofSeconds(30);
        Duration entry = Duration.ofSeconds(30);
        int queues = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
        Duration commit = Duration.ofSeconds(5);
        boolean foreground = false;
        Path log = null;
        boolean noExec = false;
        boolean allowOther = true;
        int readahead = 1024;
        if (options != null && !options.isBlank()) {
            String previous = null;
            for (String raw : options.split(",")) {
                String o = raw.trim();
                if (o.isEmpty()) {
                    continue;
                }
                // mount(8) splits -o at commas, so zk=h1:2181,h2:2181 arrives in pieces: a piece
                // that is a bare host:port right after zk= (no option looks like one) continues it.
                if ("zk".equals(previous) && !o.contains("=") && o.contains(":")) {
                    zk = zk + "," + o;
                    continue;
                }
                String key = o.contains("=") ? o.substring(0, o.indexOf('=')) : o;
                previous = key;
                String value = o.contains("=") ? o.substring(o.indexOf('=') + 1) : null;
                switch (key) {
                    case "ro" -> ro = true;
                    case "rw" -> ro = false;
                    case "nolock" -> nolock = true;
                    case "journal" -> journal = OptionalInt.of((int) number(key, value, 0, 65535));
                    case "zk" -> zk = require(key, value).replace('+', ',');
                    case "node" -> node = require(key, value);
                    case "listen" -> listen = require(key, value);
                    case "key" -> keyFile = require(key, value);
                    case "conf" -> conf = Path.of(require(key, value));
                    case "direct" -> direct = true;
                    case "metadata_cache_mb" -> cache = number(key, value, 1, 1 << 20) << 20;
                    case "attr_timeout" -> attr = seconds(key, value);
                    case "entry_timeout" -> entry = seconds(key, value);
                    case "queues" -> queues = (int) number(key, value, 1, 64);
                    case "commit" -> commit = seconds(key, value);
                    case "foreground" -> foreground = true;
                    case "log" -> log = Path.of(require(key, value));
                    case "noexec" -> noExec = true;
                    case "exec" -> noExec = false;
                    case "allow_other" -> allowOther = true;
                    case "noallow_other" -> allowOther = false;
                    case "readahead_kb" -> readahead = (int) number(key, value, 0, 65536);
                    case "comment" -> { }
                    default -> {
                        if (!GENERIC.contains(key) && !key.startsWith("x-")) {
                            throw new ConcordException("unknown mount option '" + o + "'");
                        }
                    }
                }
            }
        }
        if (commit.isZero() || commit.isNegative()) {
            throw new ConcordException("commit= must be positive");
        }
        return new Options(ro, nolock, journal, new ClusterSettings.Overrides(zk, node, listen, keyFile, conf), direct, cache, attr, entry, queues, commit, foreground, log, noExec, allowOther, readahead);
    }

    private static String require(String key, String value) {
        if (value == null || value.isEmpty()) {
            throw new ConcordException("mount option '" + key + "' needs a value (" + key + "=...)");
        }
        return value;
    }

    private static long number(String key, String value, long min, long max) {
        try {
            long n = Long.parseLong(require(key, value));
            if (n < min || n > max) {
                throw new ConcordException("mount option '" + key + "=" + value + "' is out of range (" + min + ".." + max + ")");
            }
            return n;
        } catch (NumberFormatException e) {
            throw new ConcordException("mount option '" + key + "' takes a whole number, not '" + value + "'");
        }
    }

    private static Duration seconds(String key, String value) {
        try {
            double s = Double.parseDouble(require(key, value));
            if (s < 0 || s > 86400) {
                throw new ConcordException("mount option '" + key + "=" + value + "' is out of range (0..86400 seconds)");
            }
            return Duration.ofNanos((long) (s * 1e9));
        } catch (NumberFormatException e) {
            throw new ConcordException("mount option '" + key + "' takes seconds, not '" + value + "'");
        }
    }
}
