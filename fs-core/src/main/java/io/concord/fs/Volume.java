package io.concord.fs;

import io.concord.device.BlockDevice;
import io.concord.errors.FsException;
import io.concord.errors.FsException.Kind;
import io.concord.format.Inode;
import io.concord.format.Superblock;
import io.concord.journal.Journal;

/**
 * The parts of one mounted filesystem that its operation classes share: the on-disk structures'
 * code, the operation runner and glocks, and the node's open inodes. A plain holder: each part
 * documents its own rules.
 */
final class Volume {
    final BlockDevice device;
    final Superblock sb;
    final MountOptions options;
    final Journal journal;
    final MetadataStore store;
    final Allocator allocator;
    final Btree btree;
    final Directory directories;
    final Inodes inodes;
    final FileData data;
    final XattrStore xattrs;
    final OperationRunner runner;
    final Glocks glocks;
    final OpenInodes open;
    volatile KernelCache kernel = KernelCache.NONE;

    Volume(BlockDevice device, Superblock sb, MountOptions options, Journal journal, MetadataStore store, Allocator allocator,
           OperationRunner runner, Glocks glocks) {
        this.device = device;
        this.sb = sb;
        this.options = options;
        this.journal = journal;
        this.store = store;
        this.allocator = allocator;
        this.btree = new Btree(store, allocator);
        this.directories = new Directory(btree, sb.hashSeed());
        this.inodes = new Inodes(store, allocator, options.clock());
        this.data = new FileData(store, device, allocator, new ExtentMap(btree));
        this.xattrs = new XattrStore(store, allocator);
        this.runner = runner;
        this.glocks = glocks;
        this.open = new OpenInodes(glocks, runner.clustered());
    }

    int blockSize() {
        return sb.blockSize();
    }

    /** The inode a handle names, which must be a directory. */
    Inode directory(long ino) {
        Inode d = inodes.readHandle(ino);
        if (!d.isDirectory()) {
            throw new FsException(Kind.NOT_DIRECTORY, "inode " + ino + " is not a directory");
        }
        return d;
    }

    /** An operation that looks at {@code ino} (its glock PR). */
    <T> T look(long ino, java.util.function.Function<OperationLocks, T> body) {
        return runner.inspect(ino, body);
    }

    /** An operation that changes {@code inos} (their glocks EX, taken in lock order). */
    <T> T change(java.util.function.Function<OperationLocks, T> body, long... inos) {
        requireWritable();
        OperationLocks locks = runner.locks();
        for (long ino : inos) {
            locks.want(GlockType.INODE, ino, io.concord.dlm.LockMode.EX);
        }
        return runner.mutate(locks, body);
    }

    java.time.Instant now() {
        return options.clock().instant();
    }

    void requireWritable() {
        if (options.readOnly()) {
            throw new FsException(Kind.READ_ONLY, "read-only filesystem");
        }
    }
}
