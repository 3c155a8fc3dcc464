package io.concord.fuse;

import io.concord.device.BlockDevice;
import io.concord.device.FileBlockDevice;
import io.concord.dlm.NoLockManager;
import io.concord.errors.ConcordException;
import io.concord.fs.ConcordFs;
import io.concord.fs.MountOptions;
import java.nio.file.Path;
import java.time.Clock;

/**
 * One mount's daemon: opens the device, mounts the filesystem as its node slot, serves it through
 * FUSE until the kernel ends the session ({@code umount DIR}) or the process is told to stop
 * (SIGTERM: the mount is detached, then the journal is committed and written back and the device
 * closed, before the process exits).
 */
public final class Daemon {
    private static final System.Logger LOG = System.getLogger(Daemon.class.getName());

    private final BlockDevice device;
    private final ConcordFs fs;
    private final FuseSession session;
    private final Thread shutdownHook;
    private volatile boolean closed;

    private Daemon(BlockDevice device, ConcordFs fs, FuseSession session) {
        this.device = device;
        this.fs = fs;
        this.session = session;
        this.shutdownHook = new Thread(this::stopFromSignal, "concord-sigterm");
    }

    /**
     * Mounts {@code devicePath} at {@code dir}. Returns once the mount answers requests.
     *
     * @throws ConcordException with a one-line reason when it cannot
     */
    public static Daemon start(Path devicePath, Path dir, MountOptionsParser.Options o) {
        if (!o.nolock()) {
            throw new ConcordException("cluster locking (the DLM) is not available in this version: mount with -o nolock (one node only)");
        }
        Path at = MountPoint.prepare(dir);
        BlockDevice device = FileBlockDevice.open(devicePath, o.readOnly(), o.direct());
        ConcordFs fs = null;
        try {
            fs = ConcordFs.mount(device, new NoLockManager(), new MountOptions(o.journal(), o.readOnly(), o.commitInterval(),
                    o.metadataCacheBytes(), Clock.systemUTC(), java.time.Duration.ofMillis(200)));
            FuseSession session = FuseSession.mount(fs, at, new FuseSession.Config(devicePath.toAbsolutePath().toString(), o.readOnly(),
                    o.noExec(), o.allowOther(), o.queues(), o.attrTimeout(), o.entryTimeout(), o.direct(), o.readaheadKb()));
            Daemon d = new Daemon(device, fs, session);
            Runtime.getRuntime().addShutdownHook(d.shutdownHook);
            LOG.log(System.Logger.Level.INFO, "mounted " + devicePath + " on " + at + " (journal " + o.journal() + (o.readOnly() ? ", read-only" : "") + ")");
            return d;
        } catch (RuntimeException e) {
            if (fs != null) {
                fs.close();
            }
            device.close();
            throw e;
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
            device.close();
        }
        LOG.log(System.Logger.Level.INFO, "unmounted " + session.mountPoint() + "; journal written back, device closed");
    }
}
