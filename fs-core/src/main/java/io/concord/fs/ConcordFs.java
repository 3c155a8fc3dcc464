package io.concord.fs;

import io.concord.device.BlockDevice;
import io.concord.dlm.LockManager;
import io.concord.dlm.LockMode;
import io.concord.dlm.LockSpace;
import io.concord.errors.CorruptBlockException;
import io.concord.errors.DeviceException;
import io.concord.errors.FormatException;
import io.concord.errors.FsException;
import io.concord.errors.FsException.Kind;
import io.concord.errors.WithdrawnException;
import io.concord.format.Inode;
import io.concord.format.Superblock;
import io.concord.journal.Journal;
import io.concord.journal.JournalRegion;
import io.concord.journal.JournalReplayer;
import io.concord.journal.ReplayResult;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;

/**
 * A mounted Concord filesystem: the operations the FUSE layer (and the tools) call, by inode
 * number and name, on behalf of a {@link Caller}.
 *
 * <p>How an operation runs. Every operation holds the glocks of what it touches (PR to look, EX to
 * change) and the node-local filesystem lock (shared to look, exclusive to change). A change is
 * all-or-nothing: its metadata goes into the running transaction, and if it fails part-way the
 * transaction is put back as it was (see {@link MetadataStore#beginOperation()}). Changes are
 * committed through this node's journal in groups: when the running transaction grows large, every
 * {@link MountOptions#commitInterval()}, and at once on fsync.
 *
 * <p>Withdraw. A corrupt metadata block or a failed device I/O stops this node from writing to the
 * shared device (GFS2's withdraw): the operation that met it fails with EIO naming the block, and
 * every later operation fails with {@link WithdrawnException} until the filesystem is unmounted and
 * checked. Nothing more reaches the device, so nothing more can be damaged.
 *
 * <p>Lock order: glocks are taken before the filesystem lock, and several inode glocks in
 * ascending inode number. (With the single-node lock manager nothing waits on a glock; the
 * distributed one will make this order matter.)
 */
public final class ConcordFs implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ConcordFs.class.getName());
    public static final int RENAME_NOREPLACE = 1;
    public static final int RENAME_EXCHANGE = 2;
    public static final int SEEK_DATA = 3;
    public static final int SEEK_HOLE = 4;
    private static final int LINK_MAX = 65000;
    private static final int SYMLINK_MAX = 4095;
    private static final int MAX_SYMLINK_FOLLOWS = 40;

    private final BlockDevice device;
    private final Superblock sb;
    private final MountOptions options;
    private final Journal journal;
    private final MetadataStore store;
    private final Allocator allocator;
    private final Btree btree;
    private final Directory directories;
    private final ExtentMap extents;
    private final Inodes inodes;
    private final FileData data;
    private final XattrStore xattrs;
    private final LockSpace lockSpace;
    private final Glocks glocks;
    private final Glocks.Holder journalLock;
    private final ReentrantReadWriteLock fsLock = new ReentrantReadWriteLock();
    private final ConcurrentHashMap<Long, Integer> openCounts = new ConcurrentHashMap<>();
    private final ScheduledExecutorService committer;
    private final java.util.concurrent.ExecutorService demoter = Executors.newVirtualThreadPerTaskExecutor();
    private final boolean clustered;
    private volatile String withdrawnBecause;
    private volatile boolean inDoubt;
    private volatile boolean closed;

    private ConcordFs(BlockDevice device, Superblock sb, MountOptions options, LockSpace space) {
        this.device = device;
        this.sb = sb;
        this.options = options;
        int jid = options.journalId();
        if (jid < 0 || jid >= sb.journalCount()) {
            throw new FormatException("journal " + jid + " does not exist (the filesystem has " + sb.journalCount() + ")");
        }
        this.lockSpace = space;
        this.clustered = space.clustered();
        this.glocks = new Glocks(lockSpace, glockOps(), options.glockMinHold(), Duration.ofSeconds(60), options.clock(),
                demoter, 65536);
        this.journalLock = glocks.hold(GlockType.JOURNAL, jid, LockMode.EX);
        JournalRegion region = new JournalRegion(jid, sb.journalFirstBlock(jid), sb.journalBlocks(), sb.blockSize(), sb.fsId());
        if (options.readOnly()) {
            ReplayResult pending = new JournalReplayer(device, region).replay(false);
            if (pending.blocksWritten() > 0) {
                throw new FormatException("journal " + jid + " holds " + pending.transactions()
                        + " committed transactions that were never written back: mount read-write once to replay them");
            }
            this.journal = null;
        } else {
            this.journal = Journal.open(device, region, options.clock());
            ReplayResult r = journal.replayAtOpen();
            if (r.transactions() > 0) {
                LOG.log(System.Logger.Level.INFO, "journal " + jid + ": replayed " + r.transactions() + " transactions, "
                        + r.blocksWritten() + " blocks (" + r.blocksRevoked() + " revoked); " + r.stoppedBecause());
            }
        }
        this.store = new MetadataStore(device, journal, sb.blockSize(), jid, sb.fsId(), options.metadataCacheBytes(), options.decodedCache());
        this.allocator = new Allocator(store, sb, jid, this::holdRgrp);
        this.btree = new Btree(store, allocator);
        this.directories = new Directory(btree, sb.hashSeed());
        this.extents = new ExtentMap(btree);
        this.inodes = new Inodes(store, allocator, options.clock());
        this.data = new FileData(store, device, allocator, extents);
        this.xattrs = new XattrStore(store, allocator);
        this.committer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "concord-commit-j" + jid);
            t.setDaemon(true);
            return t;
        });
        if (!options.readOnly()) {
            reclaimOrphans();
            long ms = options.commitInterval().toMillis();
            committer.scheduleWithFixedDelay(this::periodicCommit, ms, ms, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Mounts the filesystem on {@code device} as node slot {@code options.journalId()}: checks the
     * superblock, replays this slot's journal, and finishes deleting what was unlinked while open
     * when the node last went down.
     *
     * @throws FormatException when the device is not a usable Concord filesystem
     */
    public static ConcordFs mount(BlockDevice device, LockManager locks, MountOptions options) {
        Superblock sb = readSuperblock(device);
        return mount(device, sb, locks.openLockSpace(sb.lockTable()), options);
    }

    /**
     * Mounts through a lock space the caller opened (named {@code superblock.lockTable()}): a
     * cluster mount opens it with its listener and claims its journal slot first. The filesystem
     * closes the lock space when it is closed.
     */
    public static ConcordFs mount(BlockDevice device, LockSpace space, MountOptions options) {
        return mount(device, readSuperblock(device), space, options);
    }

    private static ConcordFs mount(BlockDevice device, Superblock sb, LockSpace space, MountOptions options) {
        MountOptions effective = options;
        if (sb.requiresReadOnly() && !options.readOnly()) {
            throw new FormatException("the filesystem uses read-only-compatible features this Concord does not know: mount it read-only");
        }
        if (device.readOnly() && !options.readOnly()) {
            effective = options.withReadOnly(true);
        }
        try {
            return new ConcordFs(device, sb, effective, space);
        } catch (RuntimeException e) {
            space.close();
            throw e;
        }
    }

    /** Reads and checks block 0 of {@code device}. */
    public static Superblock readSuperblock(BlockDevice device) {
        if (device.size() < Superblock.MIN_BLOCK_SIZE) {
            throw new FormatException(device.name() + " is too small to hold a Concord filesystem");
        }
        ByteBuffer head = ByteBuffer.allocate(Superblock.MIN_BLOCK_SIZE);
        device.read(0, head);
        int bs = Superblock.peekBlockSize(head.clear());
        if (bs < Superblock.MIN_BLOCK_SIZE || bs > Superblock.MAX_BLOCK_SIZE || Integer.bitCount(bs) != 1) {
            throw new FormatException(device.name() + " is not a Concord filesystem (no Concord superblock in block 0)");
        }
        ByteBuffer block = ByteBuffer.allocate(bs);
        device.read(0, block);
        return Superblock.decode(block.clear());
    }

    public Superblock superblock() {
        return sb;
    }

    public long root() {
        return sb.rootInode();
    }

    public boolean withdrawn() {
        return withdrawnBecause != null;
    }

    /**
     * The lock space's ZooKeeper connection is suspended: this node may no longer be a member, so
     * it stops changing the shared device until {@link #clusterResumed()} (operations fail with EIO
     * meanwhile; nothing is committed).
     */
    public void clusterSuspended() {
        LOG.log(System.Logger.Level.WARNING, "cluster membership in doubt: no writes to " + device.name() + " until it is confirmed");
        inDoubt = true;
    }

    /** Membership is confirmed again after {@link #clusterSuspended()}. */
    public void clusterResumed() {
        inDoubt = false;
        LOG.log(System.Logger.Level.INFO, "cluster membership confirmed: writes to " + device.name() + " resume");
    }

    /**
     * This node is out of the cluster: it withdraws and keeps whatever it held (its journal is
     * for a survivor to replay before anyone else may have its locks).
     */
    public void clusterExpelled(String why) {
        withdraw(new FsException(Kind.IO_ERROR, "expelled from the cluster: " + why));
    }

    // ---------------------------------------------------------------------------------------
    // Operations that look

    public Attributes getattr(long ino) {
        return inspect(ino, () -> Attributes.of(inodes.readHandle(ino), sb.blockSize()));
    }

    public Attributes lookup(Caller c, long dir, String name) {
        return lookup(c, dir, Names.utf8(name));
    }

    public Attributes lookup(Caller c, long dir, byte[] name) {
        return inspect(dir, () -> {
            Inode d = directory(dir);
            Permissions.check(c, d, Permissions.EXEC);
            if (Names.isDot(name)) {
                return Attributes.of(d, sb.blockSize());
            }
            if (Names.isDotDot(name)) {
                return Attributes.of(inodes.read(d.parent()), sb.blockSize());
            }
            Names.check(name);
            Directory.Found f = directories.lookup(d, name);
            if (f == null) {
                throw new FsException(Kind.NOT_FOUND, "no entry '" + new String(name, java.nio.charset.StandardCharsets.UTF_8) + "' in directory " + dir);
            }
            return Attributes.of(inodes.read(f.entry().inode()), sb.blockSize());
        });
    }

    /** Checks access(2) mask bits (4 read, 2 write, 1 execute; 0 = existence). */
    public void access(Caller c, long ino, int mask) {
        inspect(ino, () -> {
            Inode i = inodes.readHandle(ino);
            if ((mask & Permissions.WRITE) != 0 && options.readOnly()) {
                throw new FsException(Kind.READ_ONLY, "read-only filesystem");
            }
            Permissions.check(c, i, mask & 7);
            return null;
        });
    }

    public String readlink(long ino) {
        return new String(readlinkBytes(ino), java.nio.charset.StandardCharsets.UTF_8);
    }

    public byte[] readlinkBytes(long ino) {
        return inspect(ino, () -> {
            Inode i = inodes.readHandle(ino);
            if (!i.isSymlink()) {
                throw new FsException(Kind.INVALID_ARGUMENT, "inode " + ino + " is not a symbolic link");
            }
            ByteBuffer target = ByteBuffer.allocate((int) i.size());
            data.read(i, 0, target);
            return target.array();
        });
    }

    /**
     * Entries after {@code cookie} (0 = from the start), at most {@code max} of them. "." and ".."
     * come first, with cookies 1 and 2.
     */
    public List<DirListEntry> readdir(Caller c, long dir, long cookie, int max) {
        return inspect(dir, () -> {
            Inode d = directory(dir);
            Permissions.check(c, d, Permissions.READ);
            List<DirListEntry> out = new ArrayList<>();
            if (cookie < 1 && out.size() < max) {
                out.add(new DirListEntry(".", d.number(), Inode.S_IFDIR >> 12, 1));
            }
            if (cookie < 2 && out.size() < max) {
                out.add(new DirListEntry("..", d.parent(), Inode.S_IFDIR >> 12, 2));
            }
            if (out.size() < max) {
                directories.list(d, cookie, (k, e) -> {
                    out.add(new DirListEntry(e.name(), e.inode(), e.type(), k));
                    return out.size() < max;
                });
            }
            return out;
        });
    }

    public int read(long ino, long offset, ByteBuffer dst) {
        return inspect(ino, () -> {
            Inode i = inodes.readHandle(ino);
            if (i.isDirectory()) {
                throw new FsException(Kind.IS_DIRECTORY, "inode " + ino + " is a directory");
            }
            if (offset < 0) {
                throw new FsException(Kind.INVALID_ARGUMENT, "negative offset");
            }
            return data.read(i, offset, dst);
        });
    }

    /** lseek(2) for {@link #SEEK_DATA} and {@link #SEEK_HOLE}. */
    public long lseek(long ino, long offset, int whence) {
        if (whence != SEEK_DATA && whence != SEEK_HOLE) {
            throw new FsException(Kind.INVALID_ARGUMENT, "lseek whence " + whence);
        }
        return inspect(ino, () -> data.seek(inodes.readHandle(ino), offset, whence == SEEK_DATA));
    }

    public StatFs statfs() {
        return inspect(sb.rootInode(), () -> {
            // As GFS2: the size is the resource groups' space; superblock and journals are not counted.
            long free = allocator.freeBlocks();
            long size = sb.totalBlocks() - sb.rgrpStart();
            return new StatFs(sb.blockSize(), size, free, size, free, io.concord.format.DirEntry.NAME_MAX);
        });
    }

    public byte[] getxattr(Caller c, long ino, String name) {
        return inspect(ino, () -> xattrs.get(c, inodes.readHandle(ino), name));
    }

    public List<String> listxattr(Caller c, long ino) {
        return inspect(ino, () -> xattrs.list(c, inodes.readHandle(ino)));
    }

    /**
     * Resolves a path from the root (or from {@code start} for a relative path), following
     * symbolic links (at most 40: ELOOP after) and checking search permission on the way, as the
     * kernel's path walk does. {@code followLast} follows a symlink in the last component.
     */
    public Attributes resolve(Caller c, String path, boolean followLast) {
        return resolveFrom(c, sb.rootInode(), path, followLast, new int[] {0});
    }

    private Attributes resolveFrom(Caller c, long start, String path, boolean followLast, int[] follows) {
        long cur = path.startsWith("/") ? sb.rootInode() : start;
        String[] parts = path.split("/");
        List<String> comps = new ArrayList<>();
        for (String p : parts) {
            if (!p.isEmpty()) {
                comps.add(p);
            }
        }
        Attributes at = getattr(cur);
        for (int k = 0; k < comps.size(); k++) {
            if (!at.isDirectory()) {
                throw new FsException(Kind.NOT_DIRECTORY, "'" + comps.get(k - 1) + "' is not a directory");
            }
            Attributes next = lookup(c, cur, comps.get(k));
            boolean last = k == comps.size() - 1;
            if (next.isSymlink() && (!last || followLast)) {
                if (++follows[0] > MAX_SYMLINK_FOLLOWS) {
                    throw new FsException(Kind.SYMLINK_LOOP, "too many levels of symbolic links in '" + path + "'");
                }
                next = resolveFrom(c, cur, readlink(next.inode()), true, follows);
            }
            cur = next.inode();
            at = next;
        }
        return at;
    }

    // ---------------------------------------------------------------------------------------
    // Operations that change

    public Attributes create(Caller c, long dir, String name, int mode) {
        return mknod(c, dir, Names.utf8(name), Inode.S_IFREG | (mode & 07777), 0);
    }

    public Attributes mknod(Caller c, long dir, String name, int mode, long rdev) {
        return mknod(c, dir, Names.utf8(name), mode, rdev);
    }

    public Attributes mknod(Caller c, long dir, byte[] name, int mode, long rdev) {
        int type = mode & Inode.S_IFMT;
        if (type == 0) {
            type = Inode.S_IFREG;
        }
        if (type != Inode.S_IFREG && type != Inode.S_IFIFO && type != Inode.S_IFSOCK && type != Inode.S_IFCHR && type != Inode.S_IFBLK) {
            throw new FsException(Kind.INVALID_ARGUMENT, "mknod of file type 0" + Integer.toOctalString(type));
        }
        if ((type == Inode.S_IFCHR || type == Inode.S_IFBLK) && !c.isRoot()) {
            throw new FsException(Kind.NOT_PERMITTED, "only root may create device files");
        }
        int fullMode = type | (mode & 07777);
        long deviceNumber = type == Inode.S_IFCHR || type == Inode.S_IFBLK ? rdev : 0;
        return mutate(dir, ops -> Attributes.of(newEntry(c, dir, name, fullMode, deviceNumber, null), sb.blockSize()));
    }

    public Attributes mkdir(Caller c, long dir, String name, int mode) {
        return mkdir(c, dir, Names.utf8(name), mode);
    }

    public Attributes mkdir(Caller c, long dir, byte[] name, int mode) {
        return mutate(dir, ops -> Attributes.of(newEntry(c, dir, name, Inode.S_IFDIR | (mode & 07777), 0, null), sb.blockSize()));
    }

    public Attributes symlink(Caller c, long dir, String name, String target) {
        return symlink(c, dir, Names.utf8(name), Names.utf8(target));
    }

    public Attributes symlink(Caller c, long dir, byte[] name, byte[] target) {
        if (target.length == 0) {
            throw new FsException(Kind.NOT_FOUND, "empty symlink target");
        }
        if (target.length > SYMLINK_MAX) {
            throw new FsException(Kind.NAME_TOO_LONG, "symlink target of " + target.length + " bytes");
        }
        return mutate(dir, ops -> Attributes.of(newEntry(c, dir, name, Inode.S_IFLNK | 0777, 0, target), sb.blockSize()));
    }

    /** Creates an inode and its entry; the caller holds the parent's glock. */
    private Inode newEntry(Caller c, long dir, byte[] name, int mode, long rdev, byte[] symlinkTarget) {
        Names.checkNew(name);
        Inode d = directory(dir);
        Permissions.check(c, d, Permissions.WRITE | Permissions.EXEC);
        if (d.nlink() == 0) {
            throw new FsException(Kind.NOT_FOUND, "directory " + dir + " has been removed");
        }
        if (directories.lookup(d, name) != null) {
            throw new FsException(Kind.EXISTS, "'" + new String(name, java.nio.charset.StandardCharsets.UTF_8) + "' exists");
        }
        boolean isDir = (mode & Inode.S_IFMT) == Inode.S_IFDIR;
        if (isDir && d.nlink() >= LINK_MAX) {
            throw new FsException(Kind.TOO_MANY_LINKS, "directory " + dir + " has too many subdirectories");
        }
        int gid = c.gid();
        int m = mode;
        if ((d.mode() & Permissions.S_ISGID) != 0) {
            gid = d.gid();
            if (isDir) {
                m |= Permissions.S_ISGID;
            }
        }
        if (!isDir && (m & Permissions.S_ISGID) != 0 && !c.isRoot() && !c.inGroup(gid)) {
            m &= ~Permissions.S_ISGID;
        }
        Inode child = inodes.create(dir, m, c.uid(), gid, rdev, isDir ? dir : 0);
        try (var h = glocks.hold(GlockType.INODE, child.number(), LockMode.EX)) {
            if (isDir) {
                child = child.withNlink(2);
            }
            if (symlinkTarget != null) {
                child = storeSymlink(child, symlinkTarget);
            }
            inodes.write(child);
            Inode parent = directories.add(d, new io.concord.format.DirEntry(child.number(), (m & Inode.S_IFMT) >> 12, name));
            var now = options.clock().instant();
            parent = parent.withTimes(parent.atime(), now, now);
            if (isDir) {
                parent = parent.withNlink(parent.nlink() + 1);
            }
            inodes.write(parent);
            return child;
        }
    }

    private Inode storeSymlink(Inode link, byte[] target) {
        if (target.length <= Inode.forkSize(sb.blockSize())) {
            byte[] fork = new byte[Inode.forkSize(sb.blockSize())];
            System.arraycopy(target, 0, fork, 0, target.length);
            return link.withFork(fork, Inode.FLAG_INLINE_DATA).withSize(target.length);
        }
        return data.write(link, 0, ByteBuffer.wrap(target));
    }

    public Attributes link(Caller c, long ino, long newDir, String newName) {
        return link(c, ino, newDir, Names.utf8(newName));
    }

    public Attributes link(Caller c, long ino, long newDir, byte[] newName) {
        return mutate(new long[] {ino, newDir}, ops -> {
            Names.checkNew(newName);
            Inode target = inodes.readHandle(ino);
            if (target.isDirectory()) {
                throw new FsException(Kind.NOT_PERMITTED, "hard links to directories are not allowed");
            }
            if (target.nlink() == 0) {
                throw new FsException(Kind.NOT_FOUND, "inode " + ino + " has been removed");
            }
            if (target.nlink() >= LINK_MAX) {
                throw new FsException(Kind.TOO_MANY_LINKS, "inode " + ino + " has " + target.nlink() + " links");
            }
            Inode d = directory(newDir);
            Permissions.check(c, d, Permissions.WRITE | Permissions.EXEC);
            if (directories.lookup(d, newName) != null) {
                throw new FsException(Kind.EXISTS, "'" + new String(newName, java.nio.charset.StandardCharsets.UTF_8) + "' exists");
            }
            var now = options.clock().instant();
            Inode parent = directories.add(d, new io.concord.format.DirEntry(ino, target.type() >> 12, newName));
            inodes.write(parent.withTimes(parent.atime(), now, now));
            Inode linked = inodes.read(ino);
            linked = linked.withNlink(linked.nlink() + 1).withTimes(linked.atime(), linked.mtime(), now);
            inodes.write(linked);
            return Attributes.of(linked, sb.blockSize());
        });
    }

    public void unlink(Caller c, long dir, String name) {
        remove(c, dir, Names.utf8(name), false);
    }

    public void unlink(Caller c, long dir, byte[] name) {
        remove(c, dir, name, false);
    }

    public void rmdir(Caller c, long dir, String name) {
        remove(c, dir, Names.utf8(name), true);
    }

    public void rmdir(Caller c, long dir, byte[] name) {
        remove(c, dir, name, true);
    }

    private void remove(Caller c, long dir, byte[] name, boolean wantDir) {
        if (wantDir && Names.isDot(name)) {
            throw new FsException(Kind.INVALID_ARGUMENT, "cannot remove '.'");
        }
        if (wantDir && Names.isDotDot(name)) {
            throw new FsException(Kind.NOT_EMPTY, "cannot remove '..'");
        }
        mutate(dir, ops -> {
            Names.check(name);
            Inode d = directory(dir);
            Permissions.check(c, d, Permissions.WRITE | Permissions.EXEC);
            Directory.Found f = directories.lookup(d, name);
            if (f == null) {
                throw new FsException(Kind.NOT_FOUND, "no entry '" + new String(name, java.nio.charset.StandardCharsets.UTF_8) + "'");
            }
            long victimNo = f.entry().inode();
            ops.hold(victimNo);
            Inode victim = inodes.read(victimNo);
            if (wantDir && !victim.isDirectory()) {
                throw new FsException(Kind.NOT_DIRECTORY, "'" + f.entry().nameString() + "' is not a directory");
            }
            if (!wantDir && victim.isDirectory()) {
                throw new FsException(Kind.IS_DIRECTORY, "'" + f.entry().nameString() + "' is a directory");
            }
            if (wantDir && victim.entries() != 0) {
                throw new FsException(Kind.NOT_EMPTY, "directory '" + f.entry().nameString() + "' is not empty");
            }
            Permissions.checkSticky(c, d, victim);
            var now = options.clock().instant();
            Inode parent = directories.remove(d, f.key());
            parent = parent.withTimes(parent.atime(), now, now);
            if (wantDir) {
                parent = parent.withNlink(parent.nlink() - 1);
            }
            inodes.write(parent);
            dropLink(victimNo, wantDir);
            return null;
        });
    }

    /** One name of {@code ino} is gone: count it down, and start deleting the inode at zero. */
    private void dropLink(long ino, boolean wholeDirectory) {
        Inode v = inodes.read(ino);
        var now = options.clock().instant();
        int nlink = wholeDirectory ? 0 : v.nlink() - 1;
        v = v.withNlink(nlink).withTimes(v.atime(), v.mtime(), now);
        inodes.write(v);
        if (nlink == 0) {
            boolean open = openCounts.getOrDefault(ino, 0) != 0;
            if (!open && data.freesInOneStep(v)) {
                // Freed within this very operation, which commits whole or not at all: no state
                // in which the inode is unlinked but not yet freed can reach the journal, so it
                // needs no orphan entry (the usual case: a small file, unlinked while closed).
                reclaim(ino, false);
                return;
            }
            // Through the orphan directory, so that a crash before the blocks are freed is finished at the next mount.
            Inode orphans = inodes.read(orphanDir());
            inodes.write(directories.add(orphans, new io.concord.format.DirEntry(ino, v.type() >> 12, Names.utf8(Long.toString(ino)))));
            if (!open) {
                reclaim(ino);
            }
        }
    }

    /** Frees an orphaned inode's blocks, step by step, then the inode itself. */
    private void reclaim(long ino) {
        reclaim(ino, true);
    }

    /** {@code orphaned}: the inode may have an entry in the orphan directory, to be removed. */
    private void reclaim(long ino, boolean orphaned) {
        try (var h = glocks.hold(GlockType.INODE, ino, LockMode.EX)) {
            Inode v = inodes.read(ino);
            Inode cleared = data.freeAll(v, this::commitIfLarge, inodes::write);
            if (cleared.hasTree()) {
                // Not for inline data (a short symlink's target): its fork is no tree.
                cleared = btree.clear(cleared);
            }
            cleared = xattrs.clear(cleared);
            inodes.write(cleared);
            if (orphaned) {
                Inode orphans = inodes.read(orphanDir());
                Directory.Found f = directories.lookup(orphans, Names.utf8(Long.toString(ino)));
                if (f != null) {
                    inodes.write(directories.remove(orphans, f.key()));
                }
            }
            inodes.free(cleared);
        }
    }

    private long orphanDir() {
        return sb.orphanDirs()[options.journalId()];
    }

    /** Deletes what this slot left unlinked-but-open when it last went down. */
    private void reclaimOrphans() {
        fsLock.writeLock().lock();
        try {
            Inode orphans = inodes.read(orphanDir());
            List<Long> pending = new ArrayList<>();
            directories.list(orphans, 0, (k, e) -> pending.add(e.inode()));
            for (long ino : pending) {
                Ops ops = new Ops();
                currentOps.set(ops);
                try {
                    store.beginOperation();
                    reclaim(ino);
                    store.endOperation();
                } finally {
                    currentOps.remove();
                    ops.releaseAll();
                }
            }
            if (!pending.isEmpty()) {
                LOG.log(System.Logger.Level.INFO, "freed " + pending.size() + " inodes unlinked while open before the last unmount");
                store.commit();
            }
        } finally {
            fsLock.writeLock().unlock();
        }
    }

    /**
     * rename(2) and renameat2(2): {@link #RENAME_NOREPLACE} fails if the target exists,
     * {@link #RENAME_EXCHANGE} swaps two existing entries.
     */
    public void rename(Caller c, long srcDir, String srcName, long dstDir, String dstName, int flags) {
        rename(c, srcDir, Names.utf8(srcName), dstDir, Names.utf8(dstName), flags);
    }

    public void rename(Caller c, long srcDir, byte[] srcName, long dstDir, byte[] dstName, int flags) {
        if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) != 0 || flags == (RENAME_NOREPLACE | RENAME_EXCHANGE)) {
            throw new FsException(Kind.INVALID_ARGUMENT, "rename flags 0x" + Integer.toHexString(flags));
        }
        for (byte[] n : new byte[][] {srcName, dstName}) {
            if (Names.isDot(n) || Names.isDotDot(n)) {
                throw new FsException(Kind.BUSY, "cannot rename '.' or '..'");
            }
        }
        mutate(new long[] {srcDir, dstDir}, ops -> {
            if (srcDir != dstDir) {
                ops.holdRename();
            }
            new Rename(c, srcDir, srcName, dstDir, dstName, flags, ops).run();
            return null;
        });
    }

    /** One rename, with the checks in the order the kernel makes them. */
    private final class Rename {
        private final Caller c;
        private final long srcDir;
        private final byte[] srcName;
        private final long dstDir;
        private final byte[] dstName;
        private final int flags;
        private final Ops ops;

        Rename(Caller c, long srcDir, byte[] srcName, long dstDir, byte[] dstName, int flags, Ops ops) {
            this.c = c;
            this.srcDir = srcDir;
            this.srcName = srcName;
            this.dstDir = dstDir;
            this.dstName = dstName;
            this.flags = flags;
            this.ops = ops;
        }

        void run() {
            Names.check(srcName);
            Names.check(dstName);
            Inode sd = directory(srcDir);
            Inode dd = directory(dstDir);
            Permissions.check(c, sd, Permissions.WRITE | Permissions.EXEC);
            Permissions.check(c, dd, Permissions.WRITE | Permissions.EXEC);
            Directory.Found src = directories.lookup(sd, srcName);
            if (src == null) {
                throw new FsException(Kind.NOT_FOUND, "no entry '" + new String(srcName, java.nio.charset.StandardCharsets.UTF_8) + "'");
            }
            Directory.Found dst = directories.lookup(dd, dstName);
            long srcIno = src.entry().inode();
            ops.hold(srcIno);
            Inode s = inodes.read(srcIno);
            Permissions.checkSticky(c, sd, s);
            if ((flags & RENAME_EXCHANGE) != 0) {
                if (dst == null) {
                    throw new FsException(Kind.NOT_FOUND, "no entry '" + new String(dstName, java.nio.charset.StandardCharsets.UTF_8) + "' to exchange with");
                }
                exchange(sd, src, dd, dst, s);
                return;
            }
            if (dst != null && (flags & RENAME_NOREPLACE) != 0) {
                throw new FsException(Kind.EXISTS, "'" + new String(dstName, java.nio.charset.StandardCharsets.UTF_8) + "' exists");
            }
            if (dst != null && dst.entry().inode() == srcIno) {
                return; // Both names are links to the same inode: POSIX says do nothing.
            }
            if (s.isDirectory() && srcDir != dstDir) {
                checkNotAncestor(srcIno, dstDir);
                Permissions.check(c, s, Permissions.WRITE); // its ".." changes
            }
            Inode d = null;
            if (dst != null) {
                ops.hold(dst.entry().inode());
                d = inodes.read(dst.entry().inode());
                Permissions.checkSticky(c, dd, d);
                if (s.isDirectory() && !d.isDirectory()) {
                    throw new FsException(Kind.NOT_DIRECTORY, "cannot replace a non-directory with a directory");
                }
                if (!s.isDirectory() && d.isDirectory()) {
                    throw new FsException(Kind.IS_DIRECTORY, "cannot replace a directory with a non-directory");
                }
                if (d.isDirectory() && d.entries() != 0) {
                    throw new FsException(Kind.NOT_EMPTY, "target directory is not empty");
                }
            }
            if (s.isDirectory() && dst == null && srcDir != dstDir && dd.nlink() >= LINK_MAX) {
                throw new FsException(Kind.TOO_MANY_LINKS, "directory " + dstDir + " has too many subdirectories");
            }
            var now = options.clock().instant();
            var moved = new io.concord.format.DirEntry(srcIno, s.type() >> 12, dstName);
            if (dst != null) {
                inodes.write(directories.replace(dd, dst.key(), moved));
                if (d.isDirectory()) {
                    Inode ddNow = inodes.read(dstDir);
                    inodes.write(ddNow.withNlink(ddNow.nlink() - 1));
                }
                dropLink(d.number(), d.isDirectory());
            } else {
                inodes.write(directories.add(inodes.read(dstDir), moved));
            }
            Inode sdNow = inodes.read(srcDir);
            Directory.Found again = directories.lookup(sdNow, srcName);
            sdNow = directories.remove(sdNow, again.key());
            if (s.isDirectory() && srcDir != dstDir) {
                sdNow = sdNow.withNlink(sdNow.nlink() - 1);
            }
            inodes.write(sdNow.withTimes(sdNow.atime(), now, now));
            if (srcDir != dstDir) {
                Inode ddNow = inodes.read(dstDir);
                if (s.isDirectory()) {
                    ddNow = ddNow.withNlink(ddNow.nlink() + 1);
                }
                inodes.write(ddNow.withTimes(ddNow.atime(), now, now));
            }
            Inode sNow = inodes.read(srcIno);
            if (sNow.isDirectory()) {
                sNow = sNow.withParent(dstDir);
            }
            inodes.write(sNow.withTimes(sNow.atime(), sNow.mtime(), now));
        }

        private void exchange(Inode sd, Directory.Found src, Inode dd, Directory.Found dst, Inode s) {
            long dstIno = dst.entry().inode();
            ops.hold(dstIno);
            Inode d = inodes.read(dstIno);
            Permissions.checkSticky(c, dd, d);
            if (srcDir != dstDir) {
                if (s.isDirectory()) {
                    checkNotAncestor(s.number(), dstDir);
                }
                if (d.isDirectory()) {
                    checkNotAncestor(d.number(), srcDir);
                }
            }
            var now = options.clock().instant();
            inodes.write(directories.replace(inodes.read(srcDir), src.key(), new io.concord.format.DirEntry(dstIno, d.type() >> 12, srcName)));
            inodes.write(directories.replace(inodes.read(dstDir), dst.key(), new io.concord.format.DirEntry(s.number(), s.type() >> 12, dstName)));
            if (srcDir != dstDir) {
                int delta = (d.isDirectory() ? 1 : 0) - (s.isDirectory() ? 1 : 0);
                Inode sdNow = inodes.read(srcDir);
                inodes.write(sdNow.withNlink(sdNow.nlink() + delta).withTimes(sdNow.atime(), now, now));
                Inode ddNow = inodes.read(dstDir);
                inodes.write(ddNow.withNlink(ddNow.nlink() - delta).withTimes(ddNow.atime(), now, now));
                Inode sNow = inodes.read(s.number());
                inodes.write((sNow.isDirectory() ? sNow.withParent(dstDir) : sNow).withTimes(sNow.atime(), sNow.mtime(), now));
                Inode dNow = inodes.read(dstIno);
                inodes.write((dNow.isDirectory() ? dNow.withParent(srcDir) : dNow).withTimes(dNow.atime(), dNow.mtime(), now));
            } else {
                Inode sdNow = inodes.read(srcDir);
                inodes.write(sdNow.withTimes(sdNow.atime(), now, now));
            }
        }

        /** A directory may not move into itself or below itself. */
        private void checkNotAncestor(long moving, long target) {
            long at = target;
            for (int depth = 0; depth < 100_000; depth++) {
                if (at == moving) {
                    throw new FsException(Kind.INVALID_ARGUMENT, "cannot move a directory into itself");
                }
                if (at == sb.rootInode()) {
                    return;
                }
                at = inodes.read(at).parent();
            }
            throw new CorruptBlockException(target, "the parent chain does not reach the root");
        }
    }

    public Attributes setattr(Caller c, long ino, SetAttr a) {
        return mutate(ino, ops -> {
            Inode i = inodes.readHandle(ino);
            var now = options.clock().instant();
            boolean changed = false;
            if (a.uid() != null || a.gid() != null) {
                int uid = a.uid() == null ? i.uid() : a.uid();
                int gid = a.gid() == null ? i.gid() : a.gid();
                if (!c.isRoot()) {
                    if (uid != i.uid() || c.uid() != i.uid()) {
                        throw new FsException(Kind.NOT_PERMITTED, "only root may change the owner of inode " + ino);
                    }
                    if (gid != i.gid() && !c.inGroup(gid)) {
                        throw new FsException(Kind.NOT_PERMITTED, "not a member of group " + gid);
                    }
                }
                int mode = i.mode();
                // As Linux's chown: on anything but a directory, every chown (even to the same
                // owner, even by root) drops set-user-ID, and set-group-ID when group-executable.
                if (!i.isDirectory()) {
                    mode &= ~Permissions.S_ISUID;
                    if ((mode & 0010) != 0) {
                        mode &= ~Permissions.S_ISGID;
                    }
                }
                i = i.withOwner(uid, gid).withMode(mode);
                changed = true;
            }
            if (a.mode() != null) {
                Permissions.checkOwner(c, i);
                int mode = (i.mode() & Inode.S_IFMT) | (a.mode() & 07777);
                if (!c.isRoot() && !c.inGroup(i.gid())) {
                    mode &= ~Permissions.S_ISGID;
                }
                i = i.withMode(mode);
                changed = true;
            }
            if (a.size() != null) {
                if (i.isDirectory()) {
                    throw new FsException(Kind.IS_DIRECTORY, "inode " + ino + " is a directory");
                }
                if (!i.isRegular()) {
                    throw new FsException(Kind.INVALID_ARGUMENT, "only regular files have a size to set");
                }
                Permissions.check(c, i, Permissions.WRITE);
                if (a.size() != i.size()) {
                    i = data.truncate(i, a.size(), this::commitIfLarge, inodes::write);
                    i = i.withTimes(i.atime(), now, now);
                }
                i = killPrivileges(c, i);
                changed = true;
            }
            if (a.atime() != null || a.mtime() != null || a.atimeNow() || a.mtimeNow()) {
                boolean explicit = a.atime() != null || a.mtime() != null;
                if (!c.isRoot() && c.uid() != i.uid()) {
                    if (explicit) {
                        throw new FsException(Kind.NOT_PERMITTED, "only the owner may set explicit times on inode " + ino);
                    }
                    Permissions.check(c, i, Permissions.WRITE);
                }
                var atime = a.atimeNow() ? now : a.atime() != null ? a.atime() : i.atime();
                var mtime = a.mtimeNow() ? now : a.mtime() != null ? a.mtime() : i.mtime();
                i = i.withTimes(atime, mtime, i.ctime());
                changed = true;
            }
            if (changed) {
                i = i.withTimes(i.atime(), i.mtime(), a.ctime() != null ? a.ctime() : now);
                inodes.write(i);
            }
            return Attributes.of(i, sb.blockSize());
        });
    }

    /** A write or truncate by someone other than root clears set-user-ID and (group-executable) set-group-ID. */
    private static Inode killPrivileges(Caller c, Inode i) {
        int mode = i.mode();
        if (c.isRoot() || (mode & (Permissions.S_ISUID | Permissions.S_ISGID)) == 0) {
            return i;
        }
        mode &= ~Permissions.S_ISUID;
        if ((mode & 0010) != 0) {
            mode &= ~Permissions.S_ISGID;
        }
        return i.withMode(mode);
    }

    /** Checks open(2) access ({@code 0} read, {@code 1} write, {@code 2} both) and counts the open. */
    public void open(Caller c, long ino, int accessMode) {
        inspect(ino, () -> {
            Inode i = inodes.readHandle(ino);
            int mask = switch (accessMode & 3) {
                case 0 -> Permissions.READ;
                case 1 -> Permissions.WRITE;
                default -> Permissions.READ | Permissions.WRITE;
            };
            if ((mask & Permissions.WRITE) != 0) {
                if (i.isDirectory()) {
                    throw new FsException(Kind.IS_DIRECTORY, "cannot open a directory for writing");
                }
                if (options.readOnly()) {
                    throw new FsException(Kind.READ_ONLY, "read-only filesystem");
                }
            }
            Permissions.check(c, i, mask);
            openCounts.merge(ino, 1, Integer::sum);
            return null;
        });
    }

    /**
     * Counts the open of a file this caller has just created (O_CREAT): as POSIX says, the call
     * that creates a file is not checked against the new file's own mode (open(O_CREAT|O_RDWR,
     * 0444) succeeds).
     */
    public void openCreated(long ino) {
        inspect(ino, () -> {
            inodes.readHandle(ino);
            openCounts.merge(ino, 1, Integer::sum);
            return null;
        });
    }

    /** The last release of an unlinked inode deletes it. */
    public void release(long ino) {
        Integer left = openCounts.computeIfPresent(ino, (k, v) -> v <= 1 ? null : v - 1);
        if (left == null && !options.readOnly() && !withdrawn()) {
            mutate(ino, ops -> {
                Inode i = inodes.readHandle(ino);
                if (i.nlink() == 0 && openCounts.getOrDefault(ino, 0) == 0) {
                    reclaim(ino);
                }
                return null;
            });
        }
    }

    /** Writes all of {@code src} at {@code offset}; returns the byte count. */
    public int write(Caller c, long ino, long offset, ByteBuffer src) {
        int length = src.remaining();
        return mutate(ino, ops -> {
            Inode i = inodes.readHandle(ino);
            if (i.isDirectory()) {
                throw new FsException(Kind.IS_DIRECTORY, "inode " + ino + " is a directory");
            }
            if (!i.isRegular()) {
                throw new FsException(Kind.INVALID_ARGUMENT, "inode " + ino + " is not a regular file");
            }
            if (offset < 0) {
                throw new FsException(Kind.INVALID_ARGUMENT, "negative offset");
            }
            Inode w = data.write(i, offset, src);
            var now = options.clock().instant();
            inodes.write(killPrivileges(c, w).withTimes(w.atime(), now, now));
            return length;
        });
    }

    public void fallocate(Caller c, long ino, int mode, long offset, long length) {
        mutate(ino, ops -> {
            Inode i = inodes.readHandle(ino);
            if (i.isDirectory()) {
                throw new FsException(Kind.IS_DIRECTORY, "inode " + ino + " is a directory");
            }
            if (!i.isRegular()) {
                throw new FsException(Kind.NOT_SUPPORTED, "fallocate on a non-regular file");
            }
            Permissions.check(c, i, Permissions.WRITE);
            Inode f = data.fallocate(i, mode, offset, length);
            var now = options.clock().instant();
            inodes.write(f.withTimes(f.atime(), f.size() != i.size() || mode != 0 ? now : f.mtime(), now));
            return null;
        });
    }

    public void setxattr(Caller c, long ino, String name, byte[] value, int flags) {
        mutate(ino, ops -> {
            Inode i = xattrs.set(c, inodes.readHandle(ino), name, value, flags);
            inodes.write(i.withTimes(i.atime(), i.mtime(), options.clock().instant()));
            return null;
        });
    }

    public void removexattr(Caller c, long ino, String name) {
        mutate(ino, ops -> {
            Inode i = xattrs.remove(c, inodes.readHandle(ino), name);
            inodes.write(i.withTimes(i.atime(), i.mtime(), options.clock().instant()));
            return null;
        });
    }

    /**
     * fsync/fdatasync: returns once every change made so far, data and metadata, is on the device.
     * Like GFS2, it commits the whole journal, not only this inode's part of it.
     */
    public void fsync(long ino, boolean dataOnly) {
        sync();
    }

    /** Commits the running transaction and flushes the device. */
    public void sync() {
        if (options.readOnly()) {
            return;
        }
        fsLock.writeLock().lock();
        try {
            ensureUsable();
            try {
                if (store.commit() == 0) {
                    device.flush();
                }
            } catch (DeviceException | CorruptBlockException e) {
                throw withdraw(e);
            }
        } finally {
            fsLock.writeLock().unlock();
        }
    }

    /** Unmounts: commits, writes everything back in place, releases the node's locks. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        committer.shutdownNow();
        fsLock.writeLock().lock();
        try {
            closed = true;
            if (journal != null && !withdrawn()) {
                try {
                    store.commit();
                    journal.close();
                } catch (DeviceException | CorruptBlockException e) {
                    withdraw(e);
                }
            }
        } finally {
            fsLock.writeLock().unlock();
        }
        if (!withdrawn()) {
            journalLock.close();
            glocks.close();
            store.invalidateAll();
        }
        lockSpace.close();
        demoter.shutdown();
    }

    // ---------------------------------------------------------------------------------------
    // Plumbing

    /** The operation this thread is running, so that the allocator can add rgrp glocks to it. */
    private final ThreadLocal<Ops> currentOps = new ThreadLocal<>();

    /** The allocator is about to read or change resource group {@code rgrp}: hold its glock for the operation. */
    private void holdRgrp(int rgrp) {
        Ops ops = currentOps.get();
        if (ops == null) {
            throw new IllegalStateException("resource group " + rgrp + " touched outside an operation");
        }
        ops.holdRgrp(rgrp);
    }

    /** The glocks one operation holds; released when the operation ends. */
    final class Ops {
        private final List<Glocks.Holder> held = new ArrayList<>();
        private final java.util.BitSet rgrps = new java.util.BitSet();

        void holdRgrp(int rgrp) {
            if (!rgrps.get(rgrp)) {
                rgrps.set(rgrp);
                held.add(glocks.hold(GlockType.RGRP, rgrp, LockMode.EX));
            }
        }

        void hold(long ino) {
            held.add(glocks.hold(GlockType.INODE, ino, LockMode.EX));
        }

        void holdRename() {
            held.add(glocks.hold(GlockType.RENAME, 0, LockMode.EX));
        }

        void releaseAll() {
            for (int k = held.size() - 1; k >= 0; k--) {
                held.get(k).close();
            }
            held.clear();
        }
    }

    private <T> T mutate(long ino, Function<Ops, T> op) {
        return mutate(new long[] {ino}, op);
    }

    private <T> T mutate(long[] inos, Function<Ops, T> op) {
        if (options.readOnly()) {
            throw new FsException(Kind.READ_ONLY, "read-only filesystem");
        }
        Ops ops = new Ops();
        long[] sorted = ascendingDistinct(inos);
        currentOps.set(ops);
        try {
            for (long ino : sorted) {
                ops.hold(ino);
            }
            fsLock.writeLock().lock();
            try {
                ensureUsable();
                T result;
                try {
                    result = attempt(op, ops);
                } catch (CommitAndRetry retry) {
                    // Space this transaction freed is needed: commit the whole operations before
                    // this one, then run it again from the start.
                    commitNow();
                    try {
                        result = attempt(op, ops);
                    } catch (CommitAndRetry again) {
                        // The operation needs the very space it frees itself: there is not enough.
                        throw new FsException(Kind.NO_SPACE, "no space left on the filesystem");
                    }
                }
                commitIfLarge();
                return result;
            } finally {
                fsLock.writeLock().unlock();
            }
        } finally {
            currentOps.remove();
            ops.releaseAll();
        }
    }

    /** The lock order of inode glocks; one or two inodes, almost always, so no stream. */
    private static long[] ascendingDistinct(long[] inos) {
        if (inos.length == 1) {
            return inos;
        }
        long[] sorted = inos.clone();
        java.util.Arrays.sort(sorted);
        int n = 0;
        for (int i = 0; i < sorted.length; i++) {
            if (n == 0 || sorted[i] != sorted[n - 1]) {
                sorted[n++] = sorted[i];
            }
        }
        return n == sorted.length ? sorted : java.util.Arrays.copyOf(sorted, n);
    }

    /** Runs one operation all-or-nothing: on any failure the running transaction is put back. */
    private <T> T attempt(Function<Ops, T> op, Ops ops) {
        store.beginOperation();
        try {
            T result = op.apply(ops);
            store.endOperation();
            return result;
        } catch (DeviceException | CorruptBlockException e) {
            store.rollbackOperation();
            throw withdraw(e);
        } catch (RuntimeException e) {
            store.rollbackOperation();
            allocator.reloadCounts();
            throw e;
        }
    }

    private <T> T inspect(long ino, java.util.function.Supplier<T> op) {
        try (var h = glocks.hold(GlockType.INODE, ino, LockMode.PR)) {
            fsLock.readLock().lock();
            try {
                ensureUsable();
                return op.get();
            } catch (DeviceException | CorruptBlockException e) {
                throw withdraw(e);
            } finally {
                fsLock.readLock().unlock();
            }
        }
    }

    private Inode directory(long ino) {
        Inode d = inodes.readHandle(ino);
        if (!d.isDirectory()) {
            throw new FsException(Kind.NOT_DIRECTORY, "inode " + ino + " is not a directory");
        }
        return d;
    }

    /** Commits when the running transaction has used half of what one transaction may hold. */
    private void commitIfLarge() {
        if (store.runningLogBlocks() > store.maxTransactionBlocks() / 2) {
            commitNow();
        }
    }

    private void commitNow() {
        try {
            store.commit();
        } catch (DeviceException | CorruptBlockException e) {
            throw withdraw(e);
        }
    }

    private void periodicCommit() {
        fsLock.writeLock().lock();
        try {
            if (!closed && !withdrawn() && !inDoubt && store.hasUncommitted()) {
                store.commit();
            }
        } catch (RuntimeException e) {
            withdraw(e);
        } finally {
            fsLock.writeLock().unlock();
        }
    }

    private void ensureUsable() {
        if (closed) {
            throw new FsException(Kind.IO_ERROR, "filesystem is unmounted");
        }
        String why = withdrawnBecause;
        if (why != null) {
            throw new WithdrawnException(why);
        }
        if (inDoubt) {
            throw new FsException(Kind.IO_ERROR, "cluster membership in doubt: waiting for ZooKeeper");
        }
    }

    /** Stops all writes from this node; returns the exception to throw to the operation's caller. */
    private RuntimeException withdraw(RuntimeException cause) {
        if (withdrawnBecause == null) {
            withdrawnBecause = cause.getMessage();
            LOG.log(System.Logger.Level.ERROR, "withdrawing from " + device.name() + ": " + cause.getMessage()
                    + " — no further writes from this node; unmount and run fsck.concord");
        }
        return cause;
    }

    /**
     * The per-type glock operations. Invalidate drops what this node cached under the lock. Sync
     * commits the journal and writes everything back in place so that the next holder reads the
     * device and finds the latest state; with the single-node lock manager no other node can read
     * it, so a glock leaving this node needs no sync there.
     */
    private Map<GlockType, GlockOps> glockOps() {
        GlockOps ops = new GlockOps() {
            @Override
            public void sync(GlockType type, long number) {
                if (!clustered || journal == null) {
                    return;
                }
                fsLock.writeLock().lock();
                try {
                    if (!withdrawn()) {
                        store.commit();
                        journal.checkpoint();
                    }
                } catch (DeviceException | CorruptBlockException e) {
                    withdraw(e);
                } finally {
                    fsLock.writeLock().unlock();
                }
            }

            @Override
            public void invalidate(GlockType type, long number) {
                switch (type) {
                    case INODE -> store.invalidateInode(number);
                    case RGRP -> store.invalidateRange(sb.rgrpFirstBlock((int) number), sb.rgrpLength((int) number));
                    default -> { }
                }
            }
        };
        return Map.of(GlockType.INODE, ops, GlockType.RGRP, ops);
    }
}
