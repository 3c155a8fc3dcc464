package io.concord.fuse;

import io.concord.device.BlockDevice;
import io.concord.device.FileBlockDevice;
import io.concord.device.MultiMountProtection;
import io.concord.dlm.NoLockManager;
import io.concord.errors.ConcordException;
import io.concord.errors.DeviceException;
import io.concord.errors.FormatException;
import io.concord.format.LockProtocol;
import io.concord.format.Superblock;
import io.concord.fs.ConcordFs;
import io.concord.fs.MountOptions;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * One mount's daemon: opens the device, mounts the filesystem as its node slot, serves it through
 * FUSE until the kernel ends the session ({@code umount DIR}) or the process is told to stop
 * (SIGTERM: the mount is detached, then the journal is committed and written back and the device
 * closed, before the process exits).
 *
 * <p>How it mounts follows the superblock's lock protocol: a {@code nolock} filesystem with the
 * local lock manager; a {@code dlm} one through this node's lock manager, in the lock space named
 * by the lock table, as the journal slot claimed there ({@link ClusterJoin}), unless
 * {@code -o nolock} overrides that (with a warning). Either way {@link MultiMountProtection} then
 * claims the slot's heartbeat block, so that a single-node mount never runs beside another mount.
 * Order of opening: cluster, heartbeat, filesystem, FUSE; closing runs backwards, so the heartbeat
 * says CLEAN only once the journal is written back.
 */
public final class Daemon {
    private static final System.Logger LOG = System.getLogger(Daemon.class.getName());

    private final BlockDevice device;
    private final ConcordFs fs;
    private final FuseSession session;
    private final AutoCloseable[] afterFs; // closed after the filesystem, in order
    private final Thread shutdownHook;
    private volatile boolean closed;

    private Daemon(BlockDevice device, ConcordFs fs, FuseSession session, AutoCloseable... afterFs) {
        this.device = device;
        this.fs = fs;
        this.session = session;
        this.afterFs = afterFs;
        this.shutdownHook = new Thread(this::stopFromSignal, "concord-sigterm");
    }

    /**
     * Mounts {@code devicePath} at {@code dir}. Returns once the mount answers requests.
     *
     * @throws ConcordException with a one-line reason when it cannot; then nothing is left open
     */
    public static Daemon start(Path devicePath, Path dir, MountOptionsParser.Options o) {
        Path at = MountPoint.prepare(dir);
        Deque<AutoCloseable> opened = new ArrayDeque<>();
        BlockDevice device = FileBlockDevice.open(devicePath, o.readOnly(), o.direct());
        opened.push(device);
        ConcordFs fs = null;
        try {
            Superblock sb = ConcordFs.readSuperblock(device);
            boolean cluster = sb.lockProtocol() == LockProtocol.DLM && !o.nolock();
            FilesystemListener listener = new FilesystemListener();
            ClusterJoin join = null;
            int slot = o.journal().orElse(0);
            if (cluster) {
                join = ClusterJoin.open(ClusterSettings.resolve(o.cluster(), System.getenv()), sb, o.journal(), listener);
                opened.push(join);
                slot = join.slot();
            } else if (slot >= sb.journalCount()) {
                throw new FormatException("journal " + slot + " does not exist (the filesystem has " + sb.journalCount() + ")");
            }
            BlockDevice heartbeatDevice = heartbeatDevice(devicePath, device, o.readOnly());
            if (heartbeatDevice != device) {
                opened.push(heartbeatDevice);
            }
            String node = join != null ? join.node() : o.cluster().node() != null ? o.cluster().node() : ClusterSettings.hostName();
            MultiMountProtection mmp = MultiMountProtection.claim(heartbeatDevice, sb, slot, MultiMountProtection.Claimant.thisProcess(
                    cluster ? LockProtocol.DLM : LockProtocol.NOLOCK, node, ClusterSettings.hostName()),
                    o.readOnly(), MultiMountProtection.DEFAULT_INTERVAL, listener::heartbeatLost);
            opened.push(mmp);
            MountOptions mo = new MountOptions(slot, o.readOnly(), o.commitInterval(), o.metadataCacheBytes(), Clock.systemUTC(),
                    java.time.Duration.ofMillis(200));
            fs = cluster ? ConcordFs.mount(device, join.space(), mo) : ConcordFs.mount(device, new NoLockManager(), mo);
            listener.attach(fs);
            FuseSession session = FuseSession.mount(fs, at, new FuseSession.Config(devicePath.toAbsolutePath().toString(), o.readOnly(),
                    o.noExec(), o.allowOther(), o.queues(), o.attrTimeout(), o.entryTimeout(), o.direct(), o.readaheadKb()));
            opened.removeLast(); // the device: closed last by close()
            Daemon d = new Daemon(device, fs, session, opened.toArray(AutoCloseable[]::new));
            Runtime.getRuntime().addShutdownHook(d.shutdownHook);
            if (sb.lockProtocol() == LockProtocol.DLM && o.nolock()) {
                // Said once the mount stands, so that a refusal stays one line even in the foreground.
                LOG.log(System.Logger.Level.WARNING, devicePath + " is a cluster filesystem (lock protocol dlm) mounted with -o nolock: "
                        + "no cluster locking; multi-mount protection keeps every other mount out until this one ends");
            }
            LOG.log(System.Logger.Level.INFO, "mounted " + devicePath + " on " + at + " (" + (cluster ? "cluster node " + node + ", " : "")
                    + "journal " + slot + (o.readOnly() ? ", read-only" : "") + ")");
            return d;
        } catch (RuntimeException e) {
            if (fs != null) {
                fs.close();
            }
            closeAll(opened);
            throw e;
        }
    }

    /**
     * The heartbeat blocks are read and written O_DIRECT whatever the mount's {@code direct}: the
     * protocol is only as good as its reads seeing other machines' writes. Where the file cannot
     * be opened O_DIRECT, the mount's own handle serves (one machine shares its page cache).
     */
    private static BlockDevice heartbeatDevice(Path devicePath, BlockDevice device, boolean readOnly) {
        try {
            return FileBlockDevice.open(devicePath, readOnly, true);
        } catch (DeviceException e) {
            LOG.log(System.Logger.Level.WARNING, "heartbeat blocks through the page cache (" + e.getMessage()
                    + "): multi-mount protection holds on this machine only");
            return device;
        }
    }

    /** Closes each in turn; one that fails is logged and does not keep the others open. */
    private static void closeAll(Iterable<AutoCloseable> things) {
        for (AutoCloseable c : things) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "closing " + c + ": " + e.getMessage());
            }
        }
    }

    public FuseSession session() {
        return session;
    }

    public ConcordFs filesystem() {
        return fs;
    }

    /** Serves until the kernel ends the session, then closes everything. */
    public void awaitUnmount() throws InterruptedException {
        while (!session.awaitEnd(1000)) {
            // keep serving
        }
        close();
    }

    /** SIGTERM: detach the mount so no new request arrives, then close cleanly. */
    private void stopFromSignal() {
        if (closed) {
            return;
        }
        LOG.log(System.Logger.Level.INFO, "stopping: unmounting " + session.mountPoint());
        try {
            session.unmount(true);
            session.awaitEnd(10_000);
        } catch (RuntimeException | InterruptedException e) {
            LOG.log(System.Logger.Level.WARNING, "unmount on stop: " + e.getMessage());
        }
        closeQuietly();
    }

    /** Unmounts (if still mounted) and closes the session, the filesystem and the device. */
    public synchronized void close() {
        if (closed) {
            return;
        }
        closeQuietly();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // Already in shutdown: the hook is what called us.
        }
    }

    private synchronized void closeQuietly() {
        if (closed) {
            return;
        }
        closed = true;
        session.close();
        try {
            fs.close();
        } finally {
            closeAll(java.util.Arrays.asList(afterFs));
            device.close();
        }
        LOG.log(System.Logger.Level.INFO, "unmounted " + session.mountPoint() + "; journal written back, device closed");
    }
}
