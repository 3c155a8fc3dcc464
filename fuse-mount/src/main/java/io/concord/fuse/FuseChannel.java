package io.concord.fuse;

import io.concord.errors.DeviceException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The session's /dev/fuse file descriptors: requests are read from any of them (one reader thread
 * each). A reply must be written to the fd its request was read from: the kernel looks the request
 * up in that fd's own processing queue and answers ENOENT elsewhere. Notifications may go to any.
 * A reply is one writev(2) of the 16-byte {@code fuse_out_header}
 * and its payload, copied into a pooled native buffer first (a reply must reach the kernel in one
 * write, and off-heap memory is what the syscall needs).
 */
final class FuseChannel implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(FuseChannel.class.getName());

    private final int sessionFd;
    private volatile int[] fds;
    private final Arena arena = Arena.ofShared();
    /** Reply buffers: small ones for metadata replies, large ones for READ data. */
    private final ConcurrentLinkedQueue<MemorySegment> smallPool = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<MemorySegment> largePool = new ConcurrentLinkedQueue<>();
    private static final long SMALL = 64 << 10;
    private static final long LARGE = Fuse.BUFFER_SIZE + 128L;
    private volatile boolean closed;

    private FuseChannel(int sessionFd, int[] fds) {
        this.sessionFd = sessionFd;
        this.fds = fds;
    }

    /** Opens /dev/fuse for a new session (mount(2) is then given this fd). */
    static FuseChannel open() {
        LibC.Result r = LibC.open("/dev/fuse", LibC.O_RDWR | LibC.O_CLOEXEC);
        if (r.failed()) {
            throw new DeviceException("cannot open /dev/fuse: " + LibC.strerror(r.errno())
                    + (r.errno() == LibC.ENOENT ? " (is the fuse module loaded?)" : ""));
        }
        return new FuseChannel((int) r.value(), new int[] {(int) r.value()});
    }

    /** A channel over an already open fd (tests: a file that collects the replies). */
    static FuseChannel over(int fd) {
        return new FuseChannel(fd, new int[] {fd});
    }

    int sessionFd() {
        return sessionFd;
    }

    /** Adds up to {@code extra} queues (FUSE_DEV_IOC_CLONE); call before the readers start. */
    void addClones(int extra) {
        int[] all = new int[1 + extra];
        all[0] = sessionFd;
        int n = 1;
        for (int i = 0; i < extra; i++) {
            LibC.Result o = LibC.open("/dev/fuse", LibC.O_RDWR | LibC.O_CLOEXEC);
            if (o.failed()) {
                break;
            }
            LibC.Result c = LibC.ioctlClone((int) o.value(), sessionFd);
            if (c.failed()) {
                LOG.log(System.Logger.Level.WARNING, "FUSE_DEV_IOC_CLONE failed (" + LibC.strerror(c.errno()) + "): one queue only");
                LibC.close((int) o.value());
                break;
            }
            all[n++] = (int) o.value();
        }
        fds = java.util.Arrays.copyOf(all, n);
    }

    int queues() {
        return fds.length;
    }

    int fd(int queue) {
        return fds[queue];
    }

    /**
     * Reads one request on {@code queue} into {@code buf}; returns its length, 0 when the
     * read should be retried (EINTR, EAGAIN, or ENOENT for an interrupted request), or -1 when the
     * session is over (the filesystem was unmounted: ENODEV).
     */
    long read(int queue, MemorySegment buf, MemorySegment errnoState) {
        long n = LibC.read(fds[queue], buf, errnoState);
        if (n >= 0) {
            return n;
        }
        int errno = LibC.errno(errnoState);
        if (errno == LibC.EINTR || errno == LibC.EAGAIN || errno == LibC.ENOENT) {
            return 0;
        }
        if (errno == LibC.ENODEV || closed) {
            return -1;
        }
        throw new DeviceException("read from /dev/fuse failed: " + LibC.strerror(errno));
    }

    /** Replies on {@code fd}: {@code error} is 0 or a positive errno; payload parts follow the header. */
    void reply(int fd, long unique, int error, ByteBuffer... payload) {
        send(fd, unique, error == 0 ? 0 : -error, payload);
    }

    /**
     * Replies with data produced straight into the native reply buffer (READ: the device is read
     * into it, with no copy through the Java heap). {@code fill} gets a direct buffer of
     * {@code max} bytes and returns how many it filled; if it throws, nothing is sent.
     */
    void replyData(int fd, long unique, int max, java.util.function.ToIntFunction<ByteBuffer> fill) {
        MemorySegment buf = borrow(Fuse.OUT_HEADER + max);
        try {
            ByteBuffer payload = buf.asSlice(Fuse.OUT_HEADER, max).asByteBuffer();
            int n = fill.applyAsInt(payload);
            if (n < 0 || n > max) {
                throw new IllegalStateException("filled " + n + " of " + max + " bytes");
            }
            write(fd, buf, unique, 0, Fuse.OUT_HEADER + n);
        } finally {
            release(buf);
        }
    }

    /** Sends a notification: {@code unique} 0 and the notify code in the error field. */
    void notify(int code, ByteBuffer... payload) {
        send(sessionFd, 0, code, payload);
    }

    private void send(int fd, long unique, int errorField, ByteBuffer... payload) {
        int length = Fuse.OUT_HEADER;
        for (ByteBuffer p : payload) {
            length += p.remaining();
        }
        MemorySegment buf = borrow(length);
        try {
            long at = Fuse.OUT_HEADER;
            for (ByteBuffer p : payload) {
                MemorySegment.copy(MemorySegment.ofBuffer(p), 0, buf, at, p.remaining());
                at += p.remaining();
            }
            write(fd, buf, unique, errorField, length);
        } finally {
            release(buf);
        }
    }

    /** Writes the header into {@code buf} and sends its first {@code length} bytes. */
    private void write(int fd, MemorySegment buf, long unique, int errorField, int length) {
        buf.set(ValueLayout.JAVA_INT_UNALIGNED, 0, length);
        buf.set(ValueLayout.JAVA_INT_UNALIGNED, 4, errorField);
        buf.set(ValueLayout.JAVA_LONG_UNALIGNED, 8, unique);
        MemorySegment iov = buf.asSlice(buf.byteSize() - 16, 16);
        iov.set(ValueLayout.ADDRESS_UNALIGNED, 0, buf);
        iov.set(ValueLayout.JAVA_LONG_UNALIGNED, 8, length);
        MemorySegment state = buf.asSlice(buf.byteSize() - 64, 32);
        long n = LibC.writev(fd, iov, 1, state);
        if (n < 0) {
            int errno = LibC.errno(state);
            // ENOENT: the request was interrupted and the kernel no longer waits for it.
            if (errno != LibC.ENOENT && !closed) {
                LOG.log(System.Logger.Level.WARNING, "reply to request " + unique + " failed: " + LibC.strerror(errno));
            }
        }
    }

    /** A native buffer for a reply of {@code length} bytes, with room for the iovec and errno capture at its end. */
    private MemorySegment borrow(int length) {
        long need = length + 128L;
        ConcurrentLinkedQueue<MemorySegment> pool = need <= SMALL ? smallPool : need <= LARGE ? largePool : null;
        if (pool == null) {
            return Arena.ofAuto().allocate((need + 63) & ~63L, 64);
        }
        MemorySegment s = pool.poll();
        // From an automatic arena: a buffer the full pool turns away is freed by the GC (the shared
        // session arena only frees at close, so every burst past the pool's size would leak).
        return s != null ? s : Arena.ofAuto().allocate(pool == smallPool ? SMALL : LARGE, 64);
    }

    private void release(MemorySegment s) {
        if (s.byteSize() == SMALL && smallPool.size() < 256) {
            smallPool.offer(s);
        } else if (s.byteSize() == LARGE && largePool.size() < 16) {
            largePool.offer(s);
        }
    }

    /** A native buffer a reader thread keeps for its whole life. */
    MemorySegment readBuffer() {
        return readBuffer(arena);
    }

    /** A request buffer from {@code owner}: a reader that ends before the session frees its own. */
    MemorySegment readBuffer(Arena owner) {
        return owner.allocate(Fuse.BUFFER_SIZE, 4096);
    }

    MemorySegment errnoState() {
        return LibC.captureSegment(arena);
    }

    MemorySegment errnoState(Arena owner) {
        return LibC.captureSegment(owner);
    }

    static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Closes the fds and the readers' buffers. Only once nothing reads or replies any more: a
     * closed fd number may be reused by the process for something else.
     */
    @Override
    public void close() {
        closed = true;
        for (int fd : fds) {
            LibC.close(fd);
        }
        arena.close();
    }

    /** Marks the channel closing without releasing the fds (their users could not be stopped). */
    void abandon() {
        closed = true;
    }
}
