package io.concord.fuse;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The handful of libc calls the FUSE transport needs, through Java's FFM. Each returns the raw
 * result; a negative result means failure, with the errno captured by the same call (read it with
 * {@link Result#errno()}), because errno must be taken before any other native call can change it.
 */
final class LibC {
    static final int O_RDWR = 2;
    static final int O_CLOEXEC = 02000000;
    static final long MS_NOSUID = 2;
    static final long MS_NODEV = 4;
    static final long MS_RDONLY = 1;
    static final int MNT_DETACH = 2;
    static final int EINTR = 4;
    static final int ENOENT = 2;
    static final int EAGAIN = 11;
    static final int ENODEV = 19;
    static final int ENOTCONN = 107;
    static final int EINVAL = 22;
    /** _IOR(229, 0, uint32_t): attach a new /dev/fuse fd to the session of an existing one. */
    static final long FUSE_DEV_IOC_CLONE = 0x8004E500L;

    /** A call's return value and the errno it left. */
    record Result(long value, int errno) {
        boolean failed() {
            return value < 0;
        }
    }

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    private static final MethodHandle OPEN = handle("open", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
            CAPTURE_ERRNO);
    private static final MethodHandle CLOSE = handle("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle READ = handle("read",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG), CAPTURE_ERRNO);
    private static final MethodHandle WRITEV = handle("writev",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle IOCTL_PTR = handle("ioctl",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS),
            CAPTURE_ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle MOUNT = handle("mount", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
            ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS), CAPTURE_ERRNO);
    private static final MethodHandle UMOUNT2 = handle("umount2", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
            CAPTURE_ERRNO);
    private static final MethodHandle STRERROR = handle("strerror", FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle GETPID = handle("getpid", FunctionDescriptor.of(ValueLayout.JAVA_INT));

    private LibC() {
    }

    private static MethodHandle handle(String name, FunctionDescriptor d, Linker.Option... options) {
        return LINKER.downcallHandle(LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name)), d, options);
    }

    static Result open(String path, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURE);
            int r = (int) OPEN.invokeExact(state, a.allocateFrom(path), flags);
            return new Result(r, errno(state));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static Result close(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURE);
            int r = (int) CLOSE.invokeExact(state, fd);
            return new Result(r, errno(state));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** read(2) into {@code buf}; {@code state} is a reusable errno capture segment of {@link #captureSegment}. */
    static long read(int fd, MemorySegment buf, MemorySegment state) {
        try {
            return (long) READ.invokeExact(state, fd, buf, buf.byteSize());
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** writev(2) of {@code count} iovecs laid out in {@code iov}. */
    static long writev(int fd, MemorySegment iov, int count, MemorySegment state) {
        try {
            return (long) WRITEV.invokeExact(state, fd, iov, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static Result ioctlClone(int newFd, int sessionFd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURE);
            MemorySegment arg = a.allocateFrom(ValueLayout.JAVA_INT, sessionFd);
            int r = (int) IOCTL_PTR.invokeExact(state, newFd, FUSE_DEV_IOC_CLONE, arg);
            return new Result(r, errno(state));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static Result mount(String source, String target, String type, long flags, String data) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURE);
            int r = (int) MOUNT.invokeExact(state, a.allocateFrom(source), a.allocateFrom(target), a.allocateFrom(type), flags,
                    a.allocateFrom(data));
            return new Result(r, errno(state));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static Result umount2(String target, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURE);
            int r = (int) UMOUNT2.invokeExact(state, a.allocateFrom(target), flags);
            return new Result(r, errno(state));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int getpid() {
        try {
            return (int) GETPID.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            return s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static MemorySegment captureSegment(Arena arena) {
        return arena.allocate(CAPTURE);
    }

    static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
