package io.concord.fs;

import io.concord.device.BlockDevice;
import io.concord.dlm.LockManager;
import io.concord.dlm.LockMode;
import io.concord.dlm.LockSpace;
import io.concord.errors.FormatException;
import io.concord.errors.FsException;
import io.concord.errors.FsException.Kind;
import io.concord.format.Superblock;
import io.concord.journal.Journal;
import io.concord.journal.JournalRegion;
import io.concord.journal.JournalReplayer;
import io.concord.journal.ReplayResult;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A mounted Concord filesystem: the operations the FUSE layer (and the tools) call, by inode
 * number and name, on behalf of a {@link Caller}. The work is done by one class per object kind —
 * {@link InodeOperations}, {@link DirectoryOperations}, {@link Rename}, {@link Orphans} — run by
 * the {@link OperationRunner}, which states the lock order and how an operation holds its glocks
 * ({@link Glocks}; per-type behaviour in {@link FsGlockOps}).
 *
 * <p>A change is all-or-nothing: its metadata goes into the running transaction, and if it fails
 * part-way the transaction is put back as it was. Changes are committed through this node's
 * journal in groups: when the running transaction grows large, every
 * {@link MountOptions#commitInterval()}, at once on fsync, and whenever a glock this node changed
 * something under leaves it for another node.
 */
public final class ConcordFs implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ConcordFs.class.getName());
    public static final int RENAME_NOREPLACE = Rename.NOREPLACE;
    public static final int RENAME_EXCHANGE = Rename.EXCHANGE;
    public static final int SEEK_DATA = 3;
    public static final int SEEK_HOLE = 4;

    private final Volume v;
    private final LockSpace lockSpace;
    private final Glocks.Holder journalLock;
    private final InodeOperations inodeOps;
    private final DirectoryOperations dirOps;
    private final Rename renames;
    private final ScheduledExecutorService committer;
    private volatile boolean closed;

    private ConcordFs(BlockDevice device, Superblock sb, MountOptions options, LockSpace space) {
        int jid = options.journalId();
        if (jid < 0 || jid >= sb.journalCount()) {
            throw new FormatException("journal " + jid + " does not exist (the filesystem has " + sb.journalCount() + ")");
        }
        this.lockSpace = space;
        Journal journal = openJournal(device, sb, options, jid);
        MetadataStore store = new MetadataStore(device, journal, sb.blockSize(), jid, sb.fsId(), options.metadataCacheBytes(),
                options.decodedCache());
        OperationRunner runner = new OperationRunner(device, store, journal, space.clustered(), new RgrpSkips(options.clock()));
        Allocator allocator = new Allocator(store, sb, jid);
        Glocks glocks = new Glocks(space, new java.util.EnumMap<>(GlockType.class), options.glockMinHold(), Duration.ofSeconds(60),
                options.clock(), 65536, runner::withdraw);
        this.v = new Volume(device, sb, options, journal, store, allocator, runner, glocks);
        glocks.useOps(FsGlockOps.table(v));
        runner.attach(glocks, allocator);
        this.journalLock = glocks.hold(GlockType.JOURNAL, jid, LockMode.EX);
        Orphans orphans = new Orphans(v);
        this.inodeOps = new InodeOperations(v, orphans);
        this.dirOps = new DirectoryOperations(v, orphans, inodeOps);
        this.renames = new Rename(v, orphans);
        this.committer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "concord-commit-j" + jid);
            t.setDaemon(true);
            return t;
        });
        if (!options.readOnly()) {
            orphans.reclaimAtMount();
            long ms = options.commitInterval().toMillis();
            committer.scheduleWithFixedDelay(runner::periodicCommit, ms, ms, TimeUnit.MILLISECONDS);
        }
    }

    private static Journal openJournal(BlockDevice device, Superblock sb, MountOptions options, int jid) {
        JournalRegion region = new JournalRegion(jid, sb.journalFirstBlock(jid), sb.journalBlocks(), sb.blockSize(), sb.fsId());
        if (options.readOnly()) {
            ReplayResult pending = new JournalReplayer(device, region).replay(false);
            if (pending.blocksWritten() > 0) {
                throw new FormatException("journal " + jid + " holds " + pending.transactions()
                        + " committed transactions that were never written back: mount read-write once to replay them");
            }
            return null;
        }
        Journal journal = Journal.open(device, region, options.clock());
        ReplayResult r = journal.replayAtOpen();
        if (r.transactions() > 0) {
            LOG.log(System.Logger.Level.INFO, "journal " + jid + ": replayed " + r.transactions() + " transactions, "
                    + r.blocksWritten() + " blocks (" + r.blocksRevoked() + " revoked); " + r.stoppedBecause());
        }
        return journal;
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
        return mount(device, sb, locks.openLockSpace(lockSpaceName(sb)), options);
    }

    /** The lock space a filesystem's locks live in: the {@code fsname} of its lock table {@code cluster:fsname}. */
    public static String lockSpaceName(Superblock sb) {
        String t = sb.lockTable();
        int colon = t.indexOf(':');
        return colon < 0 ? t : t.substring(colon + 1);
    }

    /**
     * Mounts through a lock space the caller opened (named {@link #lockSpaceName}): a
     * cluster mount opens it with its listener and claims its journal slot first. The filesystem
     * closes the lock space when it is closed.
     */
    public static ConcordFs mount(BlockDevice device, LockSpace space, MountOptions options) {
        return mount(device, readSuperblock(device), space, options);
    }

    private static ConcordFs mount(BlockDevice device, Superblock sb, LockSpace space, MountOptions options) {
        MountOptions effective = options;
        if (sb.requiresReadOnly() && !options.readOnly()) {
            space.close();
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
        return v.sb;
    }

    public long root() {
        return v.sb.rootInode();
    }

    public boolean withdrawn() {
        return v.runner.withdrawn();
    }

    /** Where the kernel's caches are told to forget an inode whose glock leaves this node. */
    public void useKernelCache(KernelCache cache) {
        v.kernel = cache;
    }

    /**
     * The lock space's ZooKeeper connection is suspended: this node may no longer be a member, so
     * it stops changing the shared device until {@link #clusterResumed()} (operations fail with EIO
     * meanwhile; nothing is committed, no glock is written back).
     */
    public void clusterSuspended() {
        LOG.log(System.Logger.Level.WARNING, "cluster membership in doubt: no writes to " + v.device.name() + " until it is confirmed");
        v.runner.inDoubt(true);
    }

    /** Membership is confirmed again after {@link #clusterSuspended()}. */
    public void clusterResumed() {
        v.runner.inDoubt(false);
        LOG.log(System.Logger.Level.INFO, "cluster membership confirmed: writes to " + v.device.name() + " resume");
    }

    /**
     * This node is out of the cluster: it withdraws and keeps whatever it held (its journal is
     * for a survivor to replay before anyone else may have its locks).
     */
    public void clusterExpelled(String why) {
        v.runner.withdraw(new FsException(Kind.IO_ERROR, "expelled from the cluster: " + why));
    }

    // ---------------------------------------------------------------------------------------
    // Operations that look

    public Attributes getattr(long ino) {
        return inodeOps.getattr(ino);
    }

    public Attributes lookup(Caller c, long dir, String name) {
        return dirOps.lookup(c, dir, Names.utf8(name));
    }

    public Attributes lookup(Caller c, long dir, byte[] name) {
        return dirOps.lookup(c, dir, name);
    }

    /** Checks access(2) mask bits (4 read, 2 write, 1 execute; 0 = existence). */
    public void access(Caller c, long ino, int mask) {
        inodeOps.access(c, ino, mask);
    }

    public String readlink(long ino) {
        return new String(inodeOps.readlink(ino), java.nio.charset.StandardCharsets.UTF_8);
    }

    public byte[] readlinkBytes(long ino) {
        return inodeOps.readlink(ino);
    }

    /**
     * Entries after {@code cookie} (0 = from the start), at most {@code max} of them. "." and ".."
     * come first, with cookies 1 and 2.
     */
    public List<DirListEntry> readdir(Caller c, long dir, long cookie, int max) {
        return dirOps.readdir(c, dir, cookie, max);
    }

    public int read(long ino, long offset, ByteBuffer dst) {
        return inodeOps.read(ino, offset, dst);
    }

    /** lseek(2) for {@link #SEEK_DATA} and {@link #SEEK_HOLE}. */
    public long lseek(long ino, long offset, int whence) {
        if (whence != SEEK_DATA && whence != SEEK_HOLE) {
            throw new FsException(Kind.INVALID_ARGUMENT, "lseek whence " + whence);
        }
        return inodeOps.seek(ino, offset, whence == SEEK_DATA);
    }

    /**
     * As GFS2: the size is the resource groups' space; superblock and journals are not counted.
     * The free count adds this node's figure for each resource group: exact for groups it holds,
     * and for the others as of the last time it held them.
     */
    public StatFs statfs() {
        return v.look(v.sb.rootInode(), l -> {
            long free = v.allocator.freeBlocks();
            long size = v.sb.totalBlocks() - v.sb.rgrpStart();
            return new StatFs(v.blockSize(), size, free, size, free, io.concord.format.DirEntry.NAME_MAX);
        });
    }

    public byte[] getxattr(Caller c, long ino, String name) {
        return inodeOps.getxattr(c, ino, name);
    }

    public List<String> listxattr(Caller c, long ino) {
        return inodeOps.listxattr(c, ino);
    }

    /**
     * Resolves a path from the root (or from {@code start} for a relative path), following
     * symbolic links (at most 40: ELOOP after) and checking search permission on the way, as the
     * kernel's path walk does. {@code followLast} follows a symlink in the last component.
     */
    public Attributes resolve(Caller c, String path, boolean followLast) {
        return dirOps.resolve(c, path, followLast);
    }

    // ---------------------------------------------------------------------------------------
    // Operations that change

    public Attributes create(Caller c, long dir, String name, int mode) {
        return dirOps.mknod(c, dir, Names.utf8(name), io.concord.format.Inode.S_IFREG | (mode & 07777), 0);
    }

    public Attributes mknod(Caller c, long dir, String name, int mode, long rdev) {
        return dirOps.mknod(c, dir, Names.utf8(name), mode, rdev);
    }

    public Attributes mknod(Caller c, long dir, byte[] name, int mode, long rdev) {
        return dirOps.mknod(c, dir, name, mode, rdev);
    }

    public Attributes mkdir(Caller c, long dir, String name, int mode) {
        return dirOps.mkdir(c, dir, Names.utf8(name), mode);
    }

    public Attributes mkdir(Caller c, long dir, byte[] name, int mode) {
        return dirOps.mkdir(c, dir, name, mode);
    }

    public Attributes symlink(Caller c, long dir, String name, String target) {
        return dirOps.symlink(c, dir, Names.utf8(name), Names.utf8(target));
    }

    public Attributes symlink(Caller c, long dir, byte[] name, byte[] target) {
        return dirOps.symlink(c, dir, name, target);
    }

    public Attributes link(Caller c, long ino, long newDir, String newName) {
        return dirOps.link(c, ino, newDir, Names.utf8(newName));
    }

    public Attributes link(Caller c, long ino, long newDir, byte[] newName) {
        return dirOps.link(c, ino, newDir, newName);
    }

    public void unlink(Caller c, long dir, String name) {
        dirOps.remove(c, dir, Names.utf8(name), false);
    }

    public void unlink(Caller c, long dir, byte[] name) {
        dirOps.remove(c, dir, name, false);
    }

    public void rmdir(Caller c, long dir, String name) {
        dirOps.remove(c, dir, Names.utf8(name), true);
    }

    public void rmdir(Caller c, long dir, byte[] name) {
        dirOps.remove(c, dir, name, true);
    }

    /**
     * rename(2) and renameat2(2): {@link #RENAME_NOREPLACE} fails if the target exists,
     * {@link #RENAME_EXCHANGE} swaps two existing entries.
     */
    public void rename(Caller c, long srcDir, String srcName, long dstDir, String dstName, int flags) {
        renames.rename(c, srcDir, Names.utf8(srcName), dstDir, Names.utf8(dstName), flags);
    }

    public void rename(Caller c, long srcDir, byte[] srcName, long dstDir, byte[] dstName, int flags) {
        renames.rename(c, srcDir, srcName, dstDir, dstName, flags);
    }

    public Attributes setattr(Caller c, long ino, SetAttr a) {
        return inodeOps.setattr(c, ino, a);
    }

    /** Checks open(2) access ({@code 0} read, {@code 1} write, {@code 2} both) and counts the open. */
    public void open(Caller c, long ino, int accessMode) {
        inodeOps.open(c, ino, accessMode);
    }

    /**
     * Counts the open of a file this caller has just created (O_CREAT): as POSIX says, the call
     * that creates a file is not checked against the new file's own mode (open(O_CREAT|O_RDWR,
     * 0444) succeeds).
     */
    public void openCreated(long ino) {
        inodeOps.openCreated(ino);
    }

    /** The last release of an unlinked inode deletes it (unless another node has it open). */
    public void release(long ino) {
        inodeOps.release(ino);
    }

    /** Writes all of {@code src} at {@code offset}; returns the byte count. */
    public int write(Caller c, long ino, long offset, ByteBuffer src) {
        int n = inodeOps.write(c, ino, offset, src);
        src.position(src.position() + n);
        return n;
    }

    public void fallocate(Caller c, long ino, int mode, long offset, long length) {
        inodeOps.fallocate(c, ino, mode, offset, length);
    }

    public void setxattr(Caller c, long ino, String name, byte[] value, int flags) {
        inodeOps.setxattr(c, ino, name, value, flags);
    }

    public void removexattr(Caller c, long ino, String name) {
        inodeOps.removexattr(c, ino, name);
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
        if (!v.options.readOnly()) {
            v.runner.sync();
        }
    }

    /**
     * Unmounts: commits, writes everything back in place, releases the node's locks. A node that
     * withdrew releases nothing: it leaves the lock space as a crashed node would, so that no
     * other node gets its locks before its journal is replayed.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        committer.shutdownNow();
        v.runner.close(() -> {
            v.store.commit();
            v.journal.close();
        });
        if (!v.runner.withdrawn()) {
            v.open.closeAll();
            journalLock.close();
            v.glocks.close();
            v.store.invalidateAll();
            lockSpace.close();
        } else {
            v.glocks.close();
            lockSpace.abandon();
        }
    }

    /** How this node holds {@code ino}'s glock (mode, holders, pending demote), for diagnostics. */
    public String lockState(long ino) {
        String s = v.glocks.describe(GlockType.INODE, ino);
        return s == null ? "I:" + ino + " not cached" : s;
    }
}
