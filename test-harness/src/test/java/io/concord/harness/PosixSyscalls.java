package io.concord.harness;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The system calls that Java has no API for (or whose errno Java hides behind an exception), made
 * through FFM so that a test can assert the exact errno: renameat2, mknod, SEEK_DATA/SEEK_HOLE,
 * fallocate, fcntl and flock locks, xattrs, access, link counts' companions.
 *
 * <p>Every call returns a {@link Result}: the raw return value and the errno captured by that same
 * call (errno must be read before any other native call can change it).
 *
 * <p>{@link #main} makes the same calls for another process: it reads one call per line on stdin
 * (tab-separated: name, then arguments), answers each with one line ({@code ok VALUE [HEX]} or
 * {@code err ERRNO NAME}), and keeps its descriptors open between lines. That is how a test holds
 * a lock in a second process, or acts as another uid (started under {@code setpriv}).
 */
final class PosixSyscalls {
    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int ENXIO = 6;
    static final int EBADF = 9;
    static final int EAGAIN = 11;
    static final int EACCES = 13;
    static final int EBUSY = 16;
    static final int EEXIST = 17;
    static final int EXDEV = 18;
    static final int ENOTDIR = 20;
    static final int EISDIR = 21;
    static final int EINVAL = 22;
    static final int ENAMETOOLONG = 36;
    static final int ENOTEMPTY = 39;
    static final int ELOOP = 40;
    static final int ENODATA = 61;
    static final int EOPNOTSUPP = 95;

    private static final Map<Integer, String> NAMES = Map.ofEntries(Map.entry(0, "0"), Map.entry(EPERM, "EPERM"),
            Map.entry(ENOENT, "ENOENT"), Map.entry(5, "EIO"), Map.entry(ENXIO, "ENXIO"), Map.entry(EBADF, "EBADF"),
            Map.entry(EAGAIN, "EAGAIN"), Map.entry(EACCES, "EACCES"), Map.entry(EBUSY, "EBUSY"), Map.entry(EEXIST, "EEXIST"),
            Map.entry(EXDEV, "EXDEV"), Map.entry(ENOTDIR, "ENOTDIR"), Map.entry(EISDIR, "EISDIR"), Map.entry(EINVAL, "EINVAL"),
            Map.entry(27, "EFBIG"), Map.entry(28, "ENOSPC"), Map.entry(34, "ERANGE"), Map.entry(ENAMETOOLONG, "ENAMETOOLONG"),
            Map.entry(35, "EDEADLK"), Map.entry(38, "ENOSYS"), Map.entry(ENOTEMPTY, "ENOTEMPTY"), Map.entry(ELOOP, "ELOOP"), Map.entry(ENODATA, "ENODATA"),
            Map.entry(EOPNOTSUPP, "EOPNOTSUPP"));

    static final int O_RDONLY = 0;
    static final int O_WRONLY = 1;
    static final int O_RDWR = 2;
    static final int O_CREAT = 0100;
    static final int O_EXCL = 0200;
    static final int O_TRUNC = 01000;
    static final int O_DIRECT = 040000;
    static final int O_DIRECTORY = 0200000;
    static final int O_NOFOLLOW = 0400000;

    static final int SEEK_SET = 0;
    static final int SEEK_DATA = 3;
    static final int SEEK_HOLE = 4;

    static final int RENAME_NOREPLACE = 1;
    static final int RENAME_EXCHANGE = 2;

    static final int S_IFIFO = 0010000;
    static final int S_IFCHR = 0020000;
    static final int S_IFBLK = 0060000;
    static final int S_IFREG = 0100000;
    static final int S_IFSOCK = 0140000;

    static final int FALLOC_FL_KEEP_SIZE = 0x01;
    static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    static final int FALLOC_FL_ZERO_RANGE = 0x10;

    static final int XATTR_CREATE = 1;
    static final int XATTR_REPLACE = 2;

    static final int F_GETLK = 5;
    static final int F_SETLK = 6;
    static final int F_SETLKW = 7;
    static final short F_RDLCK = 0;
    static final short F_WRLCK = 1;
    static final short F_UNLCK = 2;

    static final int LOCK_SH = 1;
    static final int LOCK_EX = 2;
    static final int LOCK_NB = 4;
    static final int LOCK_UN = 8;

    static final int R_OK = 4;
    static final int W_OK = 2;
    static final int X_OK = 1;
    static final int F_OK = 0;

    private static final int AT_FDCWD = -100;

    /** A call's return value, the errno it left (meaningful only on failure) and any bytes it produced. */
    record Result(long value, int errno, byte[] data) {
        boolean ok() {
            return value >= 0;
        }

        String text() {
            return data == null ? null : new String(data, StandardCharsets.UTF_8);
        }

        /** The value as a file descriptor. */
        int fd() {
            return (int) value;
        }

        /** This result, which must be a success. */
        Result expectOk(String what) {
            if (!ok()) {
                throw new AssertionError(what + ": expected success, but it failed with " + name(errno));
            }
            return this;
        }

        /** This result, which must be a failure with {@code expected}. */
        Result expectErrno(int expected, String what) {
            if (ok()) {
                throw new AssertionError(what + ": expected " + name(expected) + ", but it succeeded (" + value + ")");
            }
            if (errno != expected) {
                throw new AssertionError(what + ": expected " + name(expected) + ", got " + name(errno));
            }
            return this;
        }

        @Override
        public String toString() {
            return ok() ? "ok " + value : "failed with " + name(errno);
        }
    }

    /** What F_GETLK reports: the type (F_UNLCK if nothing conflicts), the range and the holder's pid. */
    record LockInfo(short type, long start, long length, int pid) {
    }

    /** What stat(2) reports (struct stat on x86-64). */
    record Stat(long ino, long nlink, int mode, int uid, int gid, long rdev, long size, long blocks) {
        int type() {
            return mode & 0170000;
        }

        int permissions() {
            return mode & 07777;
        }
    }

    static String name(int errno) {
        return NAMES.getOrDefault(errno, "errno " + errno);
    }

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong L = ValueLayout.JAVA_LONG;
    private static final ValueLayout P = ValueLayout.ADDRESS;

    private static final MethodHandle OPEN = variadic("open", FunctionDescriptor.of(I, P, I, I), 2);
    private static final MethodHandle CLOSE = call("close", FunctionDescriptor.of(I, I));
    private static final MethodHandle PREAD = call("pread", FunctionDescriptor.of(L, I, P, L, L));
    private static final MethodHandle PWRITE = call("pwrite", FunctionDescriptor.of(L, I, P, L, L));
    private static final MethodHandle LSEEK = call("lseek", FunctionDescriptor.of(L, I, L, I));
    private static final MethodHandle FSYNC = call("fsync", FunctionDescriptor.of(I, I));
    private static final MethodHandle FDATASYNC = call("fdatasync", FunctionDescriptor.of(I, I));
    private static final MethodHandle FTRUNCATE = call("ftruncate", FunctionDescriptor.of(I, I, L));
    private static final MethodHandle FALLOCATE = call("fallocate", FunctionDescriptor.of(I, I, I, L, L));
    private static final MethodHandle RENAMEAT2 = call("renameat2", FunctionDescriptor.of(I, I, P, I, P, I));
    private static final MethodHandle MKNOD = call("mknod", FunctionDescriptor.of(I, P, I, L));
    private static final MethodHandle MKDIR = call("mkdir", FunctionDescriptor.of(I, P, I));
    private static final MethodHandle RMDIR = call("rmdir", FunctionDescriptor.of(I, P));
    private static final MethodHandle UNLINK = call("unlink", FunctionDescriptor.of(I, P));
    private static final MethodHandle LINK = call("link", FunctionDescriptor.of(I, P, P));
    private static final MethodHandle SYMLINK = call("symlink", FunctionDescriptor.of(I, P, P));
    private static final MethodHandle READLINK = call("readlink", FunctionDescriptor.of(L, P, P, L));
    private static final MethodHandle TRUNCATE = call("truncate", FunctionDescriptor.of(I, P, L));
    private static final MethodHandle ACCESS = call("access", FunctionDescriptor.of(I, P, I));
    private static final MethodHandle CHMOD = call("chmod", FunctionDescriptor.of(I, P, I));
    private static final MethodHandle CHOWN = call("chown", FunctionDescriptor.of(I, P, I, I));
    private static final MethodHandle STAT = call("stat", FunctionDescriptor.of(I, P, P));
    private static final MethodHandle LSTAT = call("lstat", FunctionDescriptor.of(I, P, P));
    private static final MethodHandle FSTAT = call("fstat", FunctionDescriptor.of(I, I, P));
    private static final MethodHandle SETGROUPS = call("setgroups", FunctionDescriptor.of(I, L, P));
    private static final MethodHandle FLOCK = call("flock", FunctionDescriptor.of(I, I, I));
    private static final MethodHandle FCNTL_PTR = variadic("fcntl", FunctionDescriptor.of(I, I, I, P), 2);
    private static final MethodHandle GETXATTR = call("getxattr", FunctionDescriptor.of(L, P, P, P, L));
    private static final MethodHandle SETXATTR = call("setxattr", FunctionDescriptor.of(I, P, P, P, L, I));
    private static final MethodHandle LISTXATTR = call("listxattr", FunctionDescriptor.of(L, P, P, L));
    private static final MethodHandle REMOVEXATTR = call("removexattr", FunctionDescriptor.of(I, P, P));

    /** struct flock on x86-64: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid. */
    private static final long FLOCK_SIZE = 32;

    private PosixSyscalls() {
    }

    private static MethodHandle call(String name, FunctionDescriptor d) {
        return LINKER.downcallHandle(symbol(name), d, Linker.Option.captureCallState("errno"));
    }

    private static MethodHandle variadic(String name, FunctionDescriptor d, int firstVariadic) {
        return LINKER.downcallHandle(symbol(name), d, Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(firstVariadic));
    }

    private static MemorySegment symbol(String name) {
        return LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
    }

    @FunctionalInterface
    private interface Native {
        long invoke(Arena a, MemorySegment state) throws Throwable;
    }

    private static Result run(Native n) {
        return run(n, null);
    }

    private static Result run(Native n, java.util.function.BiFunction<Arena, Long, byte[]> output) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURE);
            long v = n.invoke(a, state);
            int errno = v < 0 ? (int) ERRNO.get(state, 0L) : 0;
            return new Result(v, errno, output == null || v < 0 ? null : output.apply(a, v));
        } catch (Error | RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static MemorySegment str(Arena a, Path p) {
        return a.allocateFrom(p.toString());
    }

    // ---- files and descriptors ----

    static Result open(Path p, int flags, int mode) {
        return run((a, s) -> (int) OPEN.invokeExact(s, str(a, p), flags, mode));
    }

    static Result open(Path p, int flags) {
        return open(p, flags, 0);
    }

    static Result close(int fd) {
        return run((a, s) -> (int) CLOSE.invokeExact(s, fd));
    }

    static Result pread(int fd, int length, long offset) {
        MemorySegment[] buf = new MemorySegment[1];
        return run((a, s) -> {
            buf[0] = a.allocate(Math.max(1, length), 4096);
            return (long) PREAD.invokeExact(s, fd, buf[0], (long) length, offset);
        }, (a, n) -> buf[0].asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
    }

    static Result pwrite(int fd, byte[] data, long offset) {
        return run((a, s) -> {
            // Page-aligned, so that the same call serves O_DIRECT descriptors.
            MemorySegment buf = a.allocate(Math.max(1, data.length), 4096);
            MemorySegment.copy(data, 0, buf, ValueLayout.JAVA_BYTE, 0, data.length);
            return (long) PWRITE.invokeExact(s, fd, buf, (long) data.length, offset);
        });
    }

    static Result lseek(int fd, long offset, int whence) {
        return run((a, s) -> (long) LSEEK.invokeExact(s, fd, offset, whence));
    }

    static Result fsync(int fd) {
        return run((a, s) -> (int) FSYNC.invokeExact(s, fd));
    }

    static Result fdatasync(int fd) {
        return run((a, s) -> (int) FDATASYNC.invokeExact(s, fd));
    }

    static Result ftruncate(int fd, long length) {
        return run((a, s) -> (int) FTRUNCATE.invokeExact(s, fd, length));
    }

    static Result fallocate(int fd, int mode, long offset, long length) {
        return run((a, s) -> (int) FALLOCATE.invokeExact(s, fd, mode, offset, length));
    }

    // ---- stat ----

    /** stat(2), following a final symlink; fails the test if the call fails. */
    static Stat stat(Path p) {
        return statOf((a, s, buf) -> (int) STAT.invokeExact(s, str(a, p), buf), "stat " + p);
    }

    /** lstat(2): a final symlink itself. */
    static Stat lstat(Path p) {
        return statOf((a, s, buf) -> (int) LSTAT.invokeExact(s, str(a, p), buf), "lstat " + p);
    }

    static Stat fstat(int fd) {
        return statOf((a, s, buf) -> (int) FSTAT.invokeExact(s, fd, buf), "fstat " + fd);
    }

    /** lstat(2) for its errno: the result only. */
    static Result lstatResult(Path p) {
        return run((a, s) -> (int) LSTAT.invokeExact(s, str(a, p), a.allocate(144, 8)));
    }

    @FunctionalInterface
    private interface StatCall {
        int invoke(Arena a, MemorySegment state, MemorySegment buf) throws Throwable;
    }

    private static Stat statOf(StatCall c, String what) {
        Stat[] out = new Stat[1];
        run((a, s) -> {
            MemorySegment b = a.allocate(144, 8);
            int v = c.invoke(a, s, b);
            out[0] = new Stat(b.get(L, 8), b.get(L, 16), b.get(I, 24), b.get(I, 28), b.get(I, 32), b.get(L, 40), b.get(L, 48), b.get(L, 64));
            return v;
        }).expectOk(what);
        return out[0];
    }

    // ---- names ----

    static Result renameat2(Path from, Path to, int flags) {
        return run((a, s) -> (int) RENAMEAT2.invokeExact(s, AT_FDCWD, str(a, from), AT_FDCWD, str(a, to), flags));
    }

    static Result rename(Path from, Path to) {
        return renameat2(from, to, 0);
    }

    static Result mknod(Path p, int mode, long dev) {
        return run((a, s) -> (int) MKNOD.invokeExact(s, str(a, p), mode, dev));
    }

    /** glibc's makedev. */
    static long makedev(int major, int minor) {
        long ma = Integer.toUnsignedLong(major);
        long mi = Integer.toUnsignedLong(minor);
        return ((ma & 0xfffff000L) << 32) | ((ma & 0xfffL) << 8) | ((mi & 0xffffff00L) << 12) | (mi & 0xffL);
    }

    static int major(long dev) {
        return (int) (((dev >>> 32) & 0xfffff000L) | ((dev >>> 8) & 0xfffL));
    }

    static int minor(long dev) {
        return (int) (((dev >>> 12) & 0xffffff00L) | (dev & 0xffL));
    }

    static Result mkdir(Path p, int mode) {
        return run((a, s) -> (int) MKDIR.invokeExact(s, str(a, p), mode));
    }

    static Result rmdir(Path p) {
        return run((a, s) -> (int) RMDIR.invokeExact(s, str(a, p)));
    }

    static Result unlink(Path p) {
        return run((a, s) -> (int) UNLINK.invokeExact(s, str(a, p)));
    }

    static Result link(Path existing, Path newName) {
        return run((a, s) -> (int) LINK.invokeExact(s, str(a, existing), str(a, newName)));
    }

    static Result symlink(String target, Path link) {
        return run((a, s) -> (int) SYMLINK.invokeExact(s, a.allocateFrom(target), str(a, link)));
    }

    static Result readlink(Path p) {
        MemorySegment[] buf = new MemorySegment[1];
        return run((a, s) -> {
            buf[0] = a.allocate(8192);
            return (long) READLINK.invokeExact(s, str(a, p), buf[0], 8192L);
        }, (a, n) -> buf[0].asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
    }

    static Result truncate(Path p, long length) {
        return run((a, s) -> (int) TRUNCATE.invokeExact(s, str(a, p), length));
    }

    static Result access(Path p, int mode) {
        return run((a, s) -> (int) ACCESS.invokeExact(s, str(a, p), mode));
    }

    static Result chmod(Path p, int mode) {
        return run((a, s) -> (int) CHMOD.invokeExact(s, str(a, p), mode));
    }

    static Result chown(Path p, int uid, int gid) {
        return run((a, s) -> (int) CHOWN.invokeExact(s, str(a, p), uid, gid));
    }

    /** setgroups(2): this process's supplementary groups (needs CAP_SETGID). */
    static Result setgroups(int... groups) {
        return run((a, s) -> {
            MemorySegment list = a.allocate(ValueLayout.JAVA_INT, Math.max(1, groups.length));
            MemorySegment.copy(groups, 0, list, ValueLayout.JAVA_INT, 0, groups.length);
            return (int) SETGROUPS.invokeExact(s, (long) groups.length, list);
        });
    }

    // ---- locks ----

    static Result flock(int fd, int operation) {
        return run((a, s) -> (int) FLOCK.invokeExact(s, fd, operation));
    }

    /** F_SETLK / F_SETLKW on bytes {@code start} .. {@code start + length - 1} (length 0: to the end). */
    static Result fcntlLock(int fd, int cmd, short type, long start, long length) {
        return run((a, s) -> (int) FCNTL_PTR.invokeExact(s, fd, cmd, flock(a, type, start, length)));
    }

    /** F_GETLK: who would stop a lock of {@code type} on the range, or F_UNLCK if nobody. */
    static LockInfo getlk(int fd, short type, long start, long length) {
        LockInfo[] out = new LockInfo[1];
        Result r = run((a, s) -> {
            MemorySegment fl = flock(a, type, start, length);
            int v = (int) FCNTL_PTR.invokeExact(s, fd, F_GETLK, fl);
            out[0] = new LockInfo(fl.get(ValueLayout.JAVA_SHORT, 0), fl.get(ValueLayout.JAVA_LONG, 8), fl.get(ValueLayout.JAVA_LONG, 16),
                    fl.get(ValueLayout.JAVA_INT, 24));
            return v;
        });
        if (!r.ok()) {
            throw new IllegalStateException("F_GETLK " + r);
        }
        return out[0];
    }

    private static MemorySegment flock(Arena a, short type, long start, long length) {
        MemorySegment fl = a.allocate(FLOCK_SIZE, 8);
        fl.set(ValueLayout.JAVA_SHORT, 0, type);
        fl.set(ValueLayout.JAVA_SHORT, 2, (short) SEEK_SET);
        fl.set(ValueLayout.JAVA_LONG, 8, start);
        fl.set(ValueLayout.JAVA_LONG, 16, length);
        return fl;
    }

    // ---- extended attributes ----

    static Result getxattr(Path p, String name) {
        MemorySegment[] buf = new MemorySegment[1];
        return run((a, s) -> {
            buf[0] = a.allocate(65536);
            return (long) GETXATTR.invokeExact(s, str(a, p), a.allocateFrom(name), buf[0], 65536L);
        }, (a, n) -> buf[0].asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
    }

    /** getxattr with a buffer of {@code size} bytes (0 asks only for the length). */
    static Result getxattrSized(Path p, String name, int size) {
        return run((a, s) -> {
            MemorySegment buf = size == 0 ? MemorySegment.NULL : a.allocate(size);
            return (long) GETXATTR.invokeExact(s, str(a, p), a.allocateFrom(name), buf, (long) size);
        });
    }

    static Result setxattr(Path p, String name, byte[] value, int flags) {
        return run((a, s) -> {
            MemorySegment v = a.allocate(Math.max(1, value.length));
            MemorySegment.copy(value, 0, v, ValueLayout.JAVA_BYTE, 0, value.length);
            return (int) SETXATTR.invokeExact(s, str(a, p), a.allocateFrom(name), v, (long) value.length, flags);
        });
    }

    /** The names listxattr returns, in its order. */
    static List<String> listxattr(Path p) {
        MemorySegment[] buf = new MemorySegment[1];
        Result r = run((a, s) -> {
            buf[0] = a.allocate(65536);
            return (long) LISTXATTR.invokeExact(s, str(a, p), buf[0], 65536L);
        }, (a, n) -> buf[0].asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
        if (!r.ok()) {
            throw new IllegalStateException("listxattr " + p + ": " + r);
        }
        List<String> names = new ArrayList<>();
        for (String n : new String(r.data(), StandardCharsets.UTF_8).split("\0")) {
            if (!n.isEmpty()) {
                names.add(n);
            }
        }
        return names;
    }

    static Result removexattr(Path p, String name) {
        return run((a, s) -> (int) REMOVEXATTR.invokeExact(s, str(a, p), a.allocateFrom(name)));
    }

    // ---- the same calls for another process ----

    /**
     * Serves calls read from stdin, one per line, tab-separated: {@code open PATH FLAGS MODE},
     * {@code close FD}, {@code pread FD LEN OFF}, {@code pwrite FD TEXT OFF}, {@code setlk FD TYPE START LEN},
     * {@code setlkw ...}, {@code flock FD OP}, {@code getxattr PATH NAME}, {@code setxattr PATH NAME TEXT FLAGS},
     * {@code removexattr PATH NAME}, {@code listxattr PATH}, {@code renameat2 FROM TO FLAGS}, {@code mknod PATH MODE MAJOR MINOR},
     * {@code access PATH MODE}, {@code link OLD NEW}, {@code chmod PATH MODE}, {@code chown PATH UID GID},
     * {@code truncate PATH LEN}, {@code unlink PATH}, {@code setgroups G1,G2,...}, {@code pid}. Answers {@code ok VALUE [DATA]} or {@code err ERRNO NAME}.
     * Stops at end of input; its descriptors close as it exits.
     */
    public static void main(String[] args) throws IOException {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isBlank()) {
                continue;
            }
            String[] w = line.split("\t", -1);
            Result r;
            try {
                r = serve(w);
            } catch (RuntimeException e) {
                out.println("bad " + e);
                continue;
            }
            out.println(r.ok() ? "ok " + r.value() + (r.data() == null ? "" : " " + HexFormat.of().formatHex(r.data()))
                    : "err " + r.errno() + " " + name(r.errno()));
        }
    }

    private static Result serve(String[] w) {
        return switch (w[0]) {
            case "open" -> open(Path.of(w[1]), Integer.parseInt(w[2]), Integer.parseInt(w[3], 8));
            case "close" -> close(Integer.parseInt(w[1]));
            case "pread" -> pread(Integer.parseInt(w[1]), Integer.parseInt(w[2]), Long.parseLong(w[3]));
            case "pwrite" -> pwrite(Integer.parseInt(w[1]), w[2].getBytes(StandardCharsets.UTF_8), Long.parseLong(w[3]));
            case "setlk", "setlkw" -> fcntlLock(Integer.parseInt(w[1]), w[0].equals("setlk") ? F_SETLK : F_SETLKW, Short.parseShort(w[2]),
                    Long.parseLong(w[3]), Long.parseLong(w[4]));
            case "flock" -> flock(Integer.parseInt(w[1]), Integer.parseInt(w[2]));
            case "getxattr" -> getxattr(Path.of(w[1]), w[2]);
            case "setxattr" -> setxattr(Path.of(w[1]), w[2], w[3].getBytes(StandardCharsets.UTF_8), Integer.parseInt(w[4]));
            case "removexattr" -> removexattr(Path.of(w[1]), w[2]);
            case "listxattr" -> {
                List<String> names = listxattr(Path.of(w[1]));
                yield new Result(names.size(), 0, String.join(",", names).getBytes(StandardCharsets.UTF_8));
            }
            case "renameat2" -> renameat2(Path.of(w[1]), Path.of(w[2]), Integer.parseInt(w[3]));
            case "mknod" -> mknod(Path.of(w[1]), Integer.parseInt(w[2], 8), makedev(Integer.parseInt(w[3]), Integer.parseInt(w[4])));
            case "access" -> access(Path.of(w[1]), Integer.parseInt(w[2]));
            case "link" -> link(Path.of(w[1]), Path.of(w[2]));
            case "chmod" -> chmod(Path.of(w[1]), Integer.parseInt(w[2], 8));
            case "chown" -> chown(Path.of(w[1]), Integer.parseInt(w[2]), Integer.parseInt(w[3]));
            case "truncate" -> truncate(Path.of(w[1]), Long.parseLong(w[2]));
            case "unlink" -> unlink(Path.of(w[1]));
            case "setgroups" -> setgroups(w.length < 2 || w[1].isEmpty() ? new int[0]
                    : java.util.Arrays.stream(w[1].split(",")).mapToInt(Integer::parseInt).toArray());
            case "pid" -> new Result(ProcessHandle.current().pid(), 0, null);
            default -> throw new IllegalArgumentException("unknown call " + w[0]);
        };
    }
}
