package io.concord.fuse;

import io.concord.errors.FsException;
import io.concord.fs.Attributes;
import io.concord.fs.Caller;
import io.concord.fs.ConcordFs;
import io.concord.fs.DirListEntry;
import io.concord.fs.FileLocks;
import io.concord.fs.SetAttr;
import io.concord.fs.StatFs;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Serves each FUSE request from the filesystem: decodes the opcode's input struct, calls
 * {@link ConcordFs} as the requesting process's {@link Caller}, and encodes the reply. A failure
 * becomes an errno in exactly one place ({@link #fail}); a malformed request is answered with
 * EINVAL; a failure that is not the filesystem's is logged with the request and answered EIO.
 *
 * <p>Thread-safety: handlers run concurrently on virtual threads; all shared state (node table,
 * handles, lock waits) is in concurrent maps, and the filesystem serialises what it must.
 */
final class FuseOps {
    private static final System.Logger LOG = System.getLogger(FuseOps.class.getName());
    private static final int O_ACCMODE = 3;
    private static final int O_TRUNC = 01000;
    private static final int O_EXCL = 0200;
    /** The kernel's FMODE_EXEC as it appears in OPEN's flags: the open is an exec. */
    private static final int OPEN_FOR_EXEC = 040;
    private static final int XATTR_LIST_MAX = 65536;
    /** The kernel's XATTR_SIZE_MAX: no value is larger. */
    private static final int XATTR_VALUE_MAX = 65536;

    private final ConcordFs fs;
    private final FuseChannel channel;
    private final NodeTable nodes;
    /** The names handed to the kernel as found, so they can be invalidated when another node may change them. */
    private final KnownNames names;
    private final OpenFiles files = new OpenFiles();
    private final FileLocks locks = new FileLocks();
    private final FuseSession.Config settings;
    private final Groups groups = new Groups();
    /** SETLKW requests still waiting, by request id, so that INTERRUPT can cancel them. */
    private final ConcurrentHashMap<Long, CompletableFuture<Void>> waits = new ConcurrentHashMap<>();
    /** INTERRUPTs whose target was not waiting yet (they may overtake it): the SETLKW checks here. */
    private final com.github.benmanes.caffeine.cache.Cache<Long, Boolean> earlyInterrupts = com.github.benmanes.caffeine.cache.Caffeine
            .newBuilder().maximumSize(10_000).expireAfterWrite(java.time.Duration.ofMinutes(1)).build();
    private volatile int minor = Fuse.KERNEL_MINOR_VERSION;

    FuseOps(ConcordFs fs, FuseChannel channel, NodeTable nodes, FuseSession.Config settings) {
        this(fs, channel, nodes, new KnownNames(), settings);
    }

    FuseOps(ConcordFs fs, FuseChannel channel, NodeTable nodes, KnownNames names, FuseSession.Config settings) {
        this.fs = fs;
        this.channel = channel;
        this.nodes = nodes;
        this.names = names;
        this.settings = settings;
    }

    NodeTable nodes() {
        return nodes;
    }

    void detachKernelCache() {
        fs.useKernelCache(io.concord.fs.KernelCache.NONE);
    }

    OpenFiles files() {
        return files;
    }

    /** Serves one request; never throws. Returns false when the session must end (DESTROY). */
    boolean serve(Request r) {
        try {
            return dispatch(r);
        } catch (MalformedRequestException e) {
            LOG.log(System.Logger.Level.WARNING, "malformed " + r + ": " + e.getMessage());
            channel.reply(r.fd, r.unique, Errno.EINVAL);
        } catch (FsException e) {
            fail(r, e);
        } catch (RuntimeException | Error e) {
            LOG.log(System.Logger.Level.ERROR, "unexpected failure serving " + r, e);
            channel.reply(r.fd, r.unique, Errno.EIO);
        }
        return true;
    }

    private void fail(Request r, FsException e) {
        int errno = Errno.of(e.kind());
        if (errno == Errno.EIO) {
            LOG.log(System.Logger.Level.ERROR, r + ": " + e.getMessage());
        }
        channel.reply(r.fd, r.unique, errno);
    }

    private Caller caller(Request r) {
        int pid = r.pid;
        return Caller.withLazyGroups(r.uid, r.gid, () -> groups.of(pid));
    }

    private long ino(Request r) {
        return nodes.inode(r.nodeId);
    }

    private boolean dispatch(Request r) {
        switch (r.opcode) {
            case Fuse.INIT -> init(r);
            case Fuse.DESTROY -> {
                fs.sync();
                channel.reply(r.fd, r.unique, 0);
                return false;
            }
            case Fuse.LOOKUP -> {
                byte[] name = Request.name(r.body(), r.unique);
                entry(r, name, fs.lookup(caller(r), ino(r), name));
            }
            case Fuse.FORGET -> forget(r.nodeId, r.body(8).getLong(0));
            case Fuse.BATCH_FORGET -> batchForget(r);
            case Fuse.GETATTR -> attr(r, fs.getattr(ino(r)));
            case Fuse.SETATTR -> setattr(r);
            case Fuse.READLINK -> channel.reply(r.fd, r.unique, 0, ByteBuffer.wrap(fs.readlinkBytes(ino(r))));
            case Fuse.SYMLINK -> {
                ByteBuffer b = r.body();
                byte[] name = Request.name(b, r.unique);
                byte[] target = Request.name(b, r.unique);
                entry(r, name, fs.symlink(caller(r), ino(r), name, target));
            }
            case Fuse.MKNOD -> {
                ByteBuffer b = r.body(16);
                int mode = b.getInt(0);
                long rdev = Integer.toUnsignedLong(b.getInt(4));
                b.position(minor >= 12 ? 16 : 8);
                byte[] name = Request.name(b, r.unique);
                entry(r, name, fs.mknod(caller(r), ino(r), name, mode, rdev));
            }
            case Fuse.MKDIR -> {
                ByteBuffer b = r.body(8);
                int mode = b.getInt(0);
                b.position(8);
                byte[] name = Request.name(b, r.unique);
                entry(r, name, fs.mkdir(caller(r), ino(r), name, mode));
            }
            case Fuse.UNLINK -> ok(r, () -> fs.unlink(caller(r), ino(r), Request.name(r.body(), r.unique)));
            case Fuse.RMDIR -> ok(r, () -> fs.rmdir(caller(r), ino(r), Request.name(r.body(), r.unique)));
            case Fuse.RENAME -> rename(r, r.body(8), 8, 0);
            case Fuse.RENAME2 -> {
                ByteBuffer b = r.body(16);
                rename(r, b, 16, b.getInt(8));
            }
            case Fuse.LINK -> {
                ByteBuffer b = r.body(8);
                long old = nodes.inode(b.getLong(0));
                b.position(8);
                byte[] name = Request.name(b, r.unique);
                entry(r, name, fs.link(caller(r), old, ino(r), name));
            }
            case Fuse.OPEN -> open(r);
            case Fuse.CREATE -> create(r);
            case Fuse.READ -> read(r);
            case Fuse.WRITE -> write(r);
            case Fuse.STATFS -> statfs(r);
            case Fuse.RELEASE -> release(r);
            case Fuse.FLUSH -> {
                ByteBuffer b = r.body(24);
                locks.releaseOwner(ino(r), b.getLong(16));
                channel.reply(r.fd, r.unique, 0);
            }
            case Fuse.FSYNC, Fuse.FSYNCDIR -> ok(r, () -> fs.fsync(ino(r), (r.body(16).getInt(8) & Fuse.FSYNC_FDATASYNC) != 0));
            case Fuse.SYNCFS -> ok(r, fs::sync);
            case Fuse.SETXATTR -> setxattr(r);
            case Fuse.GETXATTR -> {
                ByteBuffer b = r.body(8);
                int size = b.getInt(0);
                b.position(8);
                sized(r, size, fs.getxattr(caller(r), ino(r), Request.string(b, r.unique)));
            }
            case Fuse.LISTXATTR -> listxattr(r);
            case Fuse.REMOVEXATTR -> ok(r, () -> fs.removexattr(caller(r), ino(r), Request.string(r.body(), r.unique)));
            case Fuse.ACCESS -> ok(r, () -> fs.access(caller(r), ino(r), r.body(8).getInt(0)));
            case Fuse.OPENDIR -> {
                fs.access(caller(r), ino(r), 4);
                long fh = files.open(ino(r), r.body(8).getInt(0), true);
                channel.reply(r.fd, r.unique, 0, FuseChannel.le(Fuse.OPEN_OUT).putLong(fh).putInt(0).putInt(0).flip());
            }
            case Fuse.READDIR -> readdir(r, false);
            case Fuse.READDIRPLUS -> readdir(r, true);
            case Fuse.RELEASEDIR -> {
                files.close(r.body(8).getLong(0));
                channel.reply(r.fd, r.unique, 0);
            }
            case Fuse.GETLK -> getlk(r);
            case Fuse.SETLK -> setlk(r, false);
            case Fuse.SETLKW -> setlk(r, true);
            case Fuse.INTERRUPT -> interrupt(r);
            case Fuse.FALLOCATE -> {
                ByteBuffer b = r.body(32);
                ok(r, () -> fs.fallocate(caller(r), ino(r), b.getInt(24), b.getLong(8), b.getLong(16)));
            }
            case Fuse.LSEEK -> lseek(r);
            default -> channel.reply(r.fd, r.unique, Errno.ENOSYS);
        }
        return true;
    }

    // ---- handlers ----

    private void init(Request r) {
        ByteBuffer b = r.body(16);
        int major = b.getInt(0);
        int kernelMinor = b.getInt(4);
        int maxReadahead = b.getInt(8);
        int kernelFlags = b.getInt(12);
        ByteBuffer out = FuseChannel.le(Fuse.INIT_OUT);
        if (major < Fuse.KERNEL_VERSION) {
            LOG.log(System.Logger.Level.ERROR, "kernel speaks FUSE " + major + "." + kernelMinor + ", too old");
            channel.reply(r.fd, r.unique, Errno.EIO);
            return;
        }
        if (major > Fuse.KERNEL_VERSION) {
            // The kernel will ask again with our major version.
            out.putInt(Fuse.KERNEL_VERSION).putInt(Fuse.KERNEL_MINOR_VERSION);
            channel.reply(r.fd, r.unique, 0, out.clear().limit(8));
            return;
        }
        minor = Math.min(kernelMinor, Fuse.KERNEL_MINOR_VERSION);
        int wanted = Fuse.ASYNC_READ | Fuse.POSIX_LOCKS | Fuse.ATOMIC_O_TRUNC | Fuse.EXPORT_SUPPORT | Fuse.BIG_WRITES
                | Fuse.FLOCK_LOCKS | Fuse.AUTO_INVAL_DATA | Fuse.DO_READDIRPLUS | Fuse.READDIRPLUS_AUTO | Fuse.PARALLEL_DIROPS
                | Fuse.HANDLE_KILLPRIV | Fuse.INIT_MAX_PAGES | Fuse.CACHE_SYMLINKS;
        out.putInt(Fuse.KERNEL_VERSION).putInt(minor).putInt(maxReadahead).putInt(kernelFlags & wanted)
                .putShort((short) 64).putShort((short) 48).putInt(Fuse.MAX_WRITE).putInt(1).putShort((short) Fuse.MAX_PAGES)
                .putShort((short) 0).putInt(0);
        channel.reply(r.fd, r.unique, 0, out.clear());
    }

    private void batchForget(Request r) {
        ByteBuffer b = r.body(8);
        int count = b.getInt(0);
        if (b.remaining() < 8 + 16L * count) {
            throw new MalformedRequestException(r.unique, "BATCH_FORGET of " + count + " in " + b.remaining() + " bytes");
        }
        for (int i = 0; i < count; i++) {
            forget(b.getLong(8 + 16 * i), b.getLong(16 + 16 * i));
        }
    }

    private void setattr(Request r) {
        ByteBuffer b = r.body(88);
        int valid = b.getInt(0);
        Integer mode = (valid & Fuse.FATTR_MODE) != 0 ? b.getInt(68) : null;
        Integer uid = (valid & Fuse.FATTR_UID) != 0 ? b.getInt(76) : null;
        Integer gid = (valid & Fuse.FATTR_GID) != 0 ? b.getInt(80) : null;
        Long size = (valid & Fuse.FATTR_SIZE) != 0 ? b.getLong(16) : null;
        Instant atime = (valid & Fuse.FATTR_ATIME) != 0 && (valid & Fuse.FATTR_ATIME_NOW) == 0 ? time(r, b.getLong(32), b.getInt(56)) : null;
        Instant mtime = (valid & Fuse.FATTR_MTIME) != 0 && (valid & Fuse.FATTR_MTIME_NOW) == 0 ? time(r, b.getLong(40), b.getInt(60)) : null;
        Instant ctime = (valid & Fuse.FATTR_CTIME) != 0 ? time(r, b.getLong(48), b.getInt(64)) : null;
        SetAttr a = new SetAttr(mode, uid, gid, size, atime, mtime, (valid & Fuse.FATTR_ATIME_NOW) != 0,
                (valid & Fuse.FATTR_MTIME_NOW) != 0, ctime);
        attr(r, fs.setattr(caller(r), ino(r), a));
    }

    private void rename(Request r, ByteBuffer b, int nameAt, int flags) {
        long newDir = nodes.inode(b.getLong(0));
        b.position(nameAt);
        byte[] from = Request.name(b, r.unique);
        byte[] to = Request.name(b, r.unique);
        fs.rename(caller(r), ino(r), from, newDir, to, flags);
        channel.reply(r.fd, r.unique, 0);
    }

    private void open(Request r) {
        int flags = r.body(8).getInt(0);
        Caller c = caller(r);
        long ino = ino(r);
        if ((flags & OPEN_FOR_EXEC) != 0) {
            fs.access(c, ino, 1);
        }
        fs.open(c, ino, flags & O_ACCMODE);
        truncateOnOpen(c, ino, flags);
        long fh = files.open(ino, flags, false);
        channel.reply(r.fd, r.unique, 0, openOut(fh));
    }

    /**
     * O_TRUNC (the kernel passes it to OPEN: ATOMIC_O_TRUNC), as Linux does it: also with O_RDONLY,
     * provided the caller may write the file (setattr checks that).
     */
    private void truncateOnOpen(Caller c, long ino, int flags) {
        if ((flags & O_TRUNC) == 0) {
            return;
        }
        try {
            if (fs.getattr(ino).isRegular()) {
                fs.setattr(c, ino, SetAttr.size(0));
            }
        } catch (FsException e) {
            fs.release(ino);
            throw e;
        }
    }

    private ByteBuffer openOut(long fh) {
        int openFlags = settings.directIo() ? Fuse.FOPEN_DIRECT_IO : Fuse.FOPEN_KEEP_CACHE;
        return FuseChannel.le(Fuse.OPEN_OUT).putLong(fh).putInt(openFlags).putInt(0).flip();
    }

    private void create(Request r) {
        ByteBuffer b = r.body(16);
        int flags = b.getInt(0);
        int mode = b.getInt(4);
        b.position(minor >= 12 ? 16 : 8);
        byte[] name = Request.name(b, r.unique);
        Caller c = caller(r);
        long dir = ino(r);
        Attributes a;
        try {
            a = fs.mknod(c, dir, name, mode, 0);
        } catch (FsException e) {
            if (e.kind() != FsException.Kind.EXISTS || (flags & O_EXCL) != 0) {
                throw e;
            }
            // Created by someone else since the kernel looked: open what is there, as open(2) would.
            a = fs.lookup(c, dir, name);
            if (a.isDirectory()) {
                throw new FsException(FsException.Kind.IS_DIRECTORY, "is a directory");
            }
            fs.open(c, a.inode(), flags & O_ACCMODE);
            truncateOnOpen(c, a.inode(), flags);
            a = fs.getattr(a.inode());
            long fh = files.open(a.inode(), flags, false);
            long node = nodes.nodeId(a.inode());
            nodes.looked(node);
            names.entered(dir, name, a.inode());
            channel.reply(r.fd, r.unique, 0, entryOut(a, node), openOut(fh));
            return;
        }
        fs.openCreated(a.inode());
        long fh = files.open(a.inode(), flags, false);
        long node = nodes.nodeId(a.inode());
        nodes.looked(node);
        names.entered(dir, name, a.inode());
        channel.reply(r.fd, r.unique, 0, entryOut(a, node), openOut(fh));
    }

    private void read(Request r) {
        ByteBuffer b = r.body(24);
        long fh = b.getLong(0);
        long offset = b.getLong(8);
        int size = size(r, b.getInt(16), Fuse.BUFFER_SIZE, "read size");
        OpenFiles.Handle h = files.get(fh);
        long ino = h != null ? h.inode() : ino(r);
        channel.replyData(r.fd, r.unique, Math.min(size, Fuse.MAX_WRITE), dst -> Math.max(0, fs.read(ino, offset, dst)));
    }

    private void write(Request r) {
        int header = minor >= 9 ? 40 : 24;
        ByteBuffer b = r.body(header);
        long offset = b.getLong(8);
        int size = size(r, b.getInt(16), Fuse.MAX_WRITE, "write size");
        if (b.remaining() < header + size) {
            throw new MalformedRequestException(r.unique, "WRITE of " + size + " bytes carries " + (b.remaining() - header));
        }
        ByteBuffer data = b.duplicate().position(header).limit(header + size);
        int n = fs.write(caller(r), ino(r), offset, data);
        channel.reply(r.fd, r.unique, 0, FuseChannel.le(Fuse.WRITE_OUT).putInt(n).putInt(0).flip());
    }

    private void statfs(Request r) {
        StatFs s = fs.statfs();
        ByteBuffer out = FuseChannel.le(Fuse.STATFS_OUT);
        out.putLong(s.blocks()).putLong(s.freeBlocks()).putLong(s.freeBlocks()).putLong(s.files()).putLong(s.freeFiles())
                .putInt(s.blockSize()).putInt(s.nameMax()).putInt(s.blockSize()).putInt(0);
        channel.reply(r.fd, r.unique, 0, out.clear());
    }

    private void release(Request r) {
        ByteBuffer b = r.body(24);
        long fh = b.getLong(0);
        int releaseFlags = b.getInt(12);
        long owner = b.getLong(16);
        OpenFiles.Handle h = files.close(fh);
        long ino = h != null ? h.inode() : ino(r);
        if ((releaseFlags & 2) != 0) { // FUSE_RELEASE_FLOCK_UNLOCK: the last close of an flock'ed file
            locks.releaseFlock(ino, owner);
        }
        if (h != null) {
            fs.release(ino);
        }
        channel.reply(r.fd, r.unique, 0);
    }

    private void setxattr(Request r) {
        ByteBuffer b = r.body(8);
        int size = size(r, b.getInt(0), XATTR_VALUE_MAX, "xattr value");
        int flags = b.getInt(4);
        b.position(8);
        String name = Request.string(b, r.unique);
        if (b.remaining() < size) {
            throw new MalformedRequestException(r.unique, "SETXATTR value of " + size + " bytes carries " + b.remaining());
        }
        byte[] value = new byte[size];
        b.get(value);
        fs.setxattr(caller(r), ino(r), name, value, flags);
        channel.reply(r.fd, r.unique, 0);
    }

    private void listxattr(Request r) {
        int size = r.body(8).getInt(0);
        StringBuilder names = new StringBuilder();
        for (String n : fs.listxattr(caller(r), ino(r))) {
            names.append(n).append('\0');
        }
        byte[] list = names.toString().getBytes(StandardCharsets.UTF_8);
        if (list.length > XATTR_LIST_MAX) {
            throw new FsException(FsException.Kind.XATTR_RANGE, "attribute list too long");
        }
        sized(r, size, list);
    }

    /** getxattr/listxattr: size 0 asks only for the length; too small a buffer is ERANGE. */
    private void sized(Request r, int size, byte[] value) {
        if (size == 0) {
            channel.reply(r.fd, r.unique, 0, FuseChannel.le(8).putInt(value.length).putInt(0).flip());
        } else if (value.length > size) {
            channel.reply(r.fd, r.unique, Errno.ERANGE);
        } else {
            channel.reply(r.fd, r.unique, 0, ByteBuffer.wrap(value));
        }
    }

    private void readdir(Request r, boolean plus) {
        ByteBuffer b = r.body(24);
        long offset = b.getLong(8);
        int size = size(r, b.getInt(16), Fuse.BUFFER_SIZE, "readdir size");
        Caller c = caller(r);
        long dir = ino(r);
        ByteBuffer out = FuseChannel.le(size);
        int perEntry = plus ? Fuse.ENTRY_OUT + Fuse.DIRENT_HEADER + 16 : Fuse.DIRENT_HEADER + 16;
        List<DirListEntry> entries = fs.readdir(c, dir, offset, Math.max(1, size / perEntry + 1));
        for (DirListEntry e : entries) {
            byte[] name = e.nameBytes();
            int direntLen = (Fuse.DIRENT_HEADER + name.length + 7) & ~7;
            int need = direntLen + (plus ? Fuse.ENTRY_OUT : 0);
            if (out.remaining() < need) {
                break;
            }
            if (plus) {
                boolean dot = e.name().equals(".") || e.name().equals("..");
                if (dot) {
                    // No node ID for "." and "..": the kernel takes no lookup reference for them.
                    out.put(new byte[Fuse.ENTRY_OUT]);
                } else {
                    Attributes a;
                    try {
                        a = fs.lookup(c, dir, name);
                    } catch (FsException gone) {
                        continue; // removed since the listing was read
                    }
                    long node = nodes.nodeId(a.inode());
                    nodes.looked(node);
                    names.entered(dir, name, a.inode());
                    out.put(entryOut(a, node));
                }
            }
            int start = out.position();
            out.putLong(e.inode()).putLong(e.cookie()).putInt(name.length).putInt(e.type()).put(name);
            while (out.position() < start + direntLen) {
                out.put((byte) 0);
            }
        }
        channel.reply(r.fd, r.unique, 0, out.flip());
    }

    private FileLocks.Lock lockIn(ByteBuffer b) {
        return new FileLocks.Lock(b.getLong(16), b.getLong(24), b.getInt(32), b.getLong(8), b.getInt(36));
    }

    private void getlk(Request r) {
        ByteBuffer b = r.body(48);
        FileLocks.Lock want = lockIn(b);
        FileLocks.Lock conflict = locks.test(ino(r), want);
        ByteBuffer out = FuseChannel.le(24);
        if (conflict == null) {
            out.putLong(want.start()).putLong(want.end()).putInt(2).putInt(0);
        } else {
            out.putLong(conflict.start()).putLong(conflict.end()).putInt(conflict.type()).putInt(conflict.pid());
        }
        channel.reply(r.fd, r.unique, 0, out.flip());
    }

    private void setlk(Request r, boolean wait) {
        ByteBuffer b = r.body(48);
        FileLocks.Lock l = lockIn(b);
        boolean flock = (b.getInt(40) & Fuse.LK_FLOCK) != 0;
        long ino = ino(r);
        if (!wait) {
            if (flock) {
                locks.flock(ino, l.owner(), l.type());
            } else {
                locks.lock(ino, l);
            }
            channel.reply(r.fd, r.unique, 0);
            return;
        }
        CompletableFuture<Void> granted = flock ? locks.flockWait(ino, l.owner(), l.type()) : locks.lockWait(ino, l);
        waits.put(r.unique, granted);
        if (earlyInterrupts.asMap().remove(r.unique) != null) {
            granted.cancel(true);
        }
        try {
            granted.join();
            channel.reply(r.fd, r.unique, 0);
        } catch (java.util.concurrent.CancellationException e) {
            channel.reply(r.fd, r.unique, Errno.EINTR);
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof FsException f) {
                fail(r, f);
            } else {
                throw e;
            }
        } finally {
            waits.remove(r.unique);
        }
    }

    /** An interrupted SETLKW stops waiting; other requests finish on their own, which the protocol allows. */
    private void interrupt(Request r) {
        long target = r.body(8).getLong(0);
        CompletableFuture<Void> w = waits.get(target);
        if (w != null) {
            w.cancel(true);
        } else {
            // The INTERRUPT may have overtaken its request (each runs on its own thread): remember it.
            earlyInterrupts.put(target, Boolean.TRUE);
            w = waits.get(target);
            if (w != null && earlyInterrupts.asMap().remove(target) != null) {
                w.cancel(true);
            }
        }
    }

    private void lseek(Request r) {
        ByteBuffer b = r.body(24);
        long offset = b.getLong(8);
        int whence = b.getInt(16);
        long at = fs.lseek(ino(r), offset, whence);
        channel.reply(r.fd, r.unique, 0, FuseChannel.le(8).putLong(at).flip());
    }

    // ---- decoding checks: a field out of range makes the request malformed (EINVAL) ----

    /** A size field: non-negative and at most {@code max}. */
    private static int size(Request r, int value, int max, String what) {
        if (value < 0 || value > max) {
            throw new MalformedRequestException(r.unique, Fuse.opcodeName(r.opcode) + " " + what + " of " + Integer.toUnsignedString(value)
                    + " bytes is out of range");
        }
        return value;
    }

    private static Instant time(Request r, long seconds, int nanos) {
        try {
            return Instant.ofEpochSecond(seconds, Integer.toUnsignedLong(nanos));
        } catch (java.time.DateTimeException e) {
            throw new MalformedRequestException(r.unique, "time " + seconds + " s is out of range");
        }
    }

    // ---- replies ----

    private interface Action {
        void run();
    }

    private void ok(Request r, Action a) {
        a.run();
        channel.reply(r.fd, r.unique, 0);
    }

    private void entry(Request r, byte[] name, Attributes a) {
        long node = nodes.nodeId(a.inode());
        nodes.looked(node);
        names.entered(ino(r), name, a.inode());
        channel.reply(r.fd, r.unique, 0, entryOut(a, node));
    }

    private void forget(long nodeId, long count) {
        if (nodes.forget(nodeId, count)) {
            names.forgotten(nodes.inode(nodeId));
        }
    }

    private void attr(Request r, Attributes a) {
        ByteBuffer out = FuseChannel.le(Fuse.ATTR_OUT);
        Duration t = settings.attrTimeout();
        out.putLong(t.getSeconds()).putInt(t.getNano()).putInt(0);
        putAttr(out, a);
        channel.reply(r.fd, r.unique, 0, out.flip());
    }

    private ByteBuffer entryOut(Attributes a, long node) {
        ByteBuffer out = FuseChannel.le(Fuse.ENTRY_OUT);
        Duration e = settings.entryTimeout();
        Duration t = settings.attrTimeout();
        out.putLong(node).putLong(a.generation()).putLong(e.getSeconds()).putLong(t.getSeconds()).putInt(e.getNano()).putInt(t.getNano());
        putAttr(out, a);
        return out.flip();
    }

    /** fuse_attr: 88 bytes. */
    private static void putAttr(ByteBuffer out, Attributes a) {
        out.putLong(a.inode()).putLong(a.size()).putLong(a.blocks())
                .putLong(a.atime().getEpochSecond()).putLong(a.mtime().getEpochSecond()).putLong(a.ctime().getEpochSecond())
                .putInt(a.atime().getNano()).putInt(a.mtime().getNano()).putInt(a.ctime().getNano())
                .putInt(a.mode()).putInt(a.nlink()).putInt(a.uid()).putInt(a.gid()).putInt((int) a.rdev()).putInt(a.blockSize()).putInt(0);
    }
}
