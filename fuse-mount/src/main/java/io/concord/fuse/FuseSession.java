package io.concord.fuse;

import io.concord.errors.ConcordException;
import io.concord.fs.ConcordFs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A mounted FUSE session serving a {@link ConcordFs}.
 *
 * <p>Threads. Platform threads read the /dev/fuse queues (a read blocks in the kernel, which would
 * pin a virtual thread's carrier) and serve each request they read themselves, as libfuse's
 * workers do: handing every request to another thread cost a wake-up and a context switch per
 * request, about half of a metadata round trip. So that a request that waits — for the filesystem
 * lock, for the device — never holds up the others, a reader that takes a request when no other
 * reader is idle first starts one more (up to {@link #MAX_READERS}); such an extra reader ends,
 * after a request it served, once others are idle and have not all been busy for a while. The one request that waits for <em>other requests</em>, a blocking lock
 * (SETLKW waits for an unlock that arrives as another request), is served on a virtual thread of
 * its own, so that no number of lock waiters can take every reader. Notifications have their own
 * thread.
 *
 * <p>Lifecycle. {@link #mount} opens /dev/fuse, mounts, answers INIT, then starts the readers. The
 * session ends when the kernel says the mount is gone (ENODEV on read, after {@code umount}) or
 * DESTROY arrives; {@link #unmount} asks the kernel for that.
 */
public final class FuseSession implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(FuseSession.class.getName());
    /**
     * At most this many threads read and serve at once. Every one holds a 1 MiB request buffer;
     * past this many, requests wait in the kernel until a reader is free (only the filesystem
     * lock, the device and, clustered, a glock make a request wait: a reader always frees up).
     */
    static final int MAX_READERS = 8;

    private final Path mountPoint;
    private final FuseChannel channel;
    private final FuseOps ops;
    private final Notifier notifier;
    private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();
    private final List<Thread> readers = new ArrayList<>();
    /** Readers in all: one per queue for the session's life, and the extras started under load. */
    private final AtomicInteger liveReaders = new AtomicInteger();
    /** Readers waiting in read(2), or about to: the kernel hands a request to any one of them. */
    private final AtomicInteger idleReaders = new AtomicInteger();
    /** When a request last found every reader busy (System.nanoTime). */
    private volatile long lastAllBusy;
    /** An extra reader stays this long after readers were last all busy: starting one costs a thread. */
    private static final long LINGER_NANOS = TimeUnit.SECONDS.toNanos(2);
    /** Counts down as each queue's first reader ends (extra readers are not counted). */
    private final CountDownLatch ended;
    private volatile boolean ending;

    private FuseSession(Path mountPoint, FuseChannel channel, FuseOps ops, Notifier notifier) {
        this.mountPoint = mountPoint;
        this.channel = channel;
        this.ops = ops;
        this.notifier = notifier;
        this.ended = new CountDownLatch(channel.queues());
    }

    /**
     * What a mount needs beyond the filesystem: the source shown in /proc/mounts, mount flags, how
     * many /dev/fuse queues to read, how long the kernel may trust attributes and names, and
     * whether file data bypasses the page cache.
     */
    public record Config(String source, boolean readOnly, boolean noExec, boolean allowOther, int queues, java.time.Duration attrTimeout,
            java.time.Duration entryTimeout, boolean directIo, int readaheadKb) {
    }

    /** Mounts {@code fs} at {@code dir}; returns once the mount answers requests. */
    public static FuseSession mount(ConcordFs fs, Path dir, Config config) {
        Path at = MountPoint.prepare(dir);
        FuseChannel channel = FuseChannel.open();
        // default_permissions: the kernel also checks permissions itself, from its cached attributes
        // and the process's real credentials, on every path walk and exec, as a kernel filesystem's
        // VFS does. Without it a cached name skips the search check, and exec checks only "any x bit".
        String data = "fd=" + channel.sessionFd() + ",rootmode=40000,user_id=0,group_id=0,default_permissions"
                + (config.allowOther() ? ",allow_other" : "")
                + ",max_read=" + Fuse.MAX_WRITE;
        long flags = LibC.MS_NOSUID | LibC.MS_NODEV | (config.readOnly() ? LibC.MS_RDONLY : 0) | (config.noExec() ? 8 : 0);
        LibC.Result r = LibC.mount(config.source(), at.toString(), "fuse.concord", flags, data);
        if (r.failed()) {
            channel.close();
            throw new ConcordException("mount of " + config.source() + " on " + at + " failed: " + LibC.strerror(r.errno()));
        }
        NodeTable nodes = new NodeTable(fs.root());
        KnownNames names = new KnownNames();
        FuseOps ops = new FuseOps(fs, channel, nodes, names, config);
        try {
            answerInit(channel, ops);
        } catch (RuntimeException e) {
            LibC.umount2(at.toString(), LibC.MNT_DETACH);
            channel.close();
            throw e;
        }
        channel.addClones(Math.max(0, config.queues() - 1));
        Notifier notifier = new Notifier(channel, nodes);
        FuseSession s = new FuseSession(at, channel, ops, notifier);
        fs.useKernelCache(new KernelInvalidation(notifier, nodes, names, fs.root()));
        s.start();
        setReadahead(at, config.readaheadKb()); // stats the mount: only once requests are served
        return s;
    }

    /**
     * Raises the mount's readahead (the kernel starts a FUSE mount at 128 KiB, whatever INIT says),
     * so that sequential reads arrive as requests of up to 1 MiB. Best effort: a failure only costs
     * speed, and is logged.
     */
    private static void setReadahead(Path at, int kb) {
        if (kb <= 0) {
            return;
        }
        try {
            long dev = ((Number) java.nio.file.Files.getAttribute(at, "unix:dev")).longValue();
            long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
            long minor = (dev & 0xff) | ((dev >>> 12) & ~0xffL);
            Path knob = Path.of("/sys/class/bdi/" + major + ":" + minor + "/read_ahead_kb");
            java.nio.file.Files.writeString(knob, Integer.toString(kb));
        } catch (java.io.IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.INFO, "could not set readahead of " + at + " to " + kb + " KiB: " + e.getMessage());
        }
    }

    /** The first request after mount(2) is INIT; nothing else is served before it is answered. */
    private static void answerInit(FuseChannel channel, FuseOps ops) {
        MemorySegment buf = channel.readBuffer();
        MemorySegment state = channel.errnoState();
        while (true) {
            long n = channel.read(0, buf, state);
            if (n < 0) {
                throw new ConcordException("the kernel ended the FUSE session before INIT");
            }
            if (n == 0) {
                continue;
            }
            Request r = Request.parse(buf.asSlice(0, n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), (int) n, channel.fd(0));
            if (r.opcode != Fuse.INIT) {
                throw new ConcordException("expected INIT from the kernel, got " + r);
            }
            ops.serve(r);
            return;
        }
    }

    private void start() {
        for (int q = 0; q < channel.queues(); q++) {
            int queue = q;
            liveReaders.incrementAndGet();
            readers.add(Thread.ofPlatform().name("concord-fuse-q" + q).daemon().start(() -> readLoop(queue, false)));
        }
    }

    /** Starts one more reader on {@code queue}, unless there are {@link #MAX_READERS} already. */
    private void startExtraReader(int queue) {
        int n;
        do {
            n = liveReaders.get();
            if (n >= MAX_READERS) {
                return;
            }
        } while (!liveReaders.compareAndSet(n, n + 1));
        try {
            Thread.ofPlatform().name("concord-fuse-q" + queue + "-extra").daemon().start(() -> readLoop(queue, true));
        } catch (RuntimeException | OutOfMemoryError e) {
            liveReaders.decrementAndGet();
            LOG.log(System.Logger.Level.WARNING, "cannot start another FUSE reader: " + e);
        }
    }

    /**
     * Reads requests from {@code queue} and serves them on this thread. An {@code extra} reader
     * (started because every reader was busy) ends after serving a request once another reader
     * is idle and none has found them all busy for {@link #LINGER_NANOS}.
     */
    private void readLoop(int queue, boolean extra) {
        // An extra reader's buffer is its own, freed when it ends; the first readers' live as long
        // as the session.
        Arena own = extra ? Arena.ofConfined() : null;
        // Idle from when a request is answered, not from when read(2) is entered: the reply wakes
        // the next request's sender, and that request must not find every reader "busy" (and
        // start another) in the moment before this one loops round.
        idleReaders.incrementAndGet();
        try {
            MemorySegment buf = extra ? channel.readBuffer(own) : channel.readBuffer();
            MemorySegment state = extra ? channel.errnoState(own) : channel.errnoState();
            ByteBuffer view = buf.asByteBuffer();
            int fd = channel.fd(queue);
            while (!ending) {
                long n = channel.read(queue, buf, state);
                if (n < 0) {
                    break;
                }
                if (n == 0) {
                    continue;
                }
                idleReaders.decrementAndGet();
                try {
                    serveRead(queue, view, (int) n, fd);
                } finally {
                    idleReaders.incrementAndGet();
                }
                if (extra && idleReaders.get() > 1 && System.nanoTime() - lastAllBusy > LINGER_NANOS) {
                    break; // another reader is free besides this one, and has been for a while
                }
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "FUSE queue " + queue + " stopped", e);
        } finally {
            idleReaders.decrementAndGet();
            liveReaders.decrementAndGet();
            if (own != null) {
                own.close();
            }
            if (!extra) {
                ended.countDown();
            }
        }
    }

    /** Serves the request of {@code n} bytes that {@code view} holds (read from {@code queue}). */
    private void serveRead(int queue, ByteBuffer view, int n, int fd) {
        Request r;
        try {
            r = Request.parse(view, n, fd);
        } catch (MalformedRequestException e) {
            LOG.log(System.Logger.Level.WARNING, "malformed request from the kernel: " + e.getMessage());
            if (e.unique != 0) {
                channel.reply(fd, e.unique, Errno.EINVAL);
            }
            return;
        }
        if (r.opcode == Fuse.SETLKW) {
            Request detached = r.detached(); // the buffer is read into again before this is served
            workers.execute(() -> serve(detached));
            return;
        }
        if (r.opcode != Fuse.FORGET && r.opcode != Fuse.BATCH_FORGET && idleReaders.get() == 0) {
            lastAllBusy = System.nanoTime();
            startExtraReader(queue);
        }
        serve(r);
    }

    private void serve(Request r) {
        if (!ops.serve(r)) {
            ending = true;
        }
    }

    public Path mountPoint() {
        return mountPoint;
    }

    /** For invalidating the kernel's caches when another node changes something. */
    Notifier notifier() {
        return notifier;
    }

    /** Invalidates the kernel's cached attributes and data of {@code inode}. */
    public void invalidateInode(long inode) {
        notifier.invalidateInode(inode, 0, -1);
    }

    /** Invalidates the kernel's cached name {@code name} in directory {@code parent}. */
    public void invalidateEntry(long parent, byte[] name) {
        notifier.invalidateEntry(parent, name);
    }

    /** Tells the kernel that {@code name} in {@code parent}, which was {@code child}, is gone. */
    public void deleted(long parent, long child, byte[] name) {
        notifier.deleted(parent, child, name);
    }

    /** Waits until the notifications queued so far are written. */
    public boolean drainNotifications(long millis) throws InterruptedException {
        return notifier.drain(millis);
    }

    /** Node IDs the kernel still holds lookups on (bounded memory: FORGET shrinks it). */
    public int knownNodes() {
        return ops.nodes().size();
    }

    /** Asks the kernel to unmount; {@code lazy} detaches even while files are open. */
    public void unmount(boolean lazy) {
        LibC.Result r = LibC.umount2(mountPoint.toString(), lazy ? LibC.MNT_DETACH : 0);
        if (r.failed() && r.errno() != LibC.EINVAL) {
            throw new ConcordException("cannot unmount " + mountPoint + ": " + LibC.strerror(r.errno()));
        }
    }

    /** Blocks until the kernel has ended the session (or the timeout passes). */
    public boolean awaitEnd(long millis) throws InterruptedException {
        return ended.await(millis, TimeUnit.MILLISECONDS);
    }

    /** Stops serving: the mount must already be gone (or this forces it away). */
    @Override
    public void close() {
        ops.detachKernelCache(); // no kernel to tell any more once the session ends
        ending = true;
        boolean readersDone = false;
        boolean workersDone = false;
        try {
            readersDone = ended.await(100, TimeUnit.MILLISECONDS);
            if (!readersDone) {
                LibC.umount2(mountPoint.toString(), LibC.MNT_DETACH);
                readersDone = ended.await(5, TimeUnit.SECONDS);
            }
            // Extra readers end on their own (ENODEV, or once idle): wait for any still serving.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (readersDone && liveReaders.get() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            readersDone = readersDone && liveReaders.get() == 0;
            workers.shutdown();
            workersDone = workers.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        notifier.close();
        if (readersDone && workersDone) {
            channel.close();
        } else {
            // Something still reads or replies: closing the fds now could let it write into
            // whatever reuses their numbers. Leave them to the process's exit.
            LOG.log(System.Logger.Level.WARNING, "FUSE session at " + mountPoint + " closed with requests still in flight; its fds stay open");
            channel.abandon();
        }
    }
}
