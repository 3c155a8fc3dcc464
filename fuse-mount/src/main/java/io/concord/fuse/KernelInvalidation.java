package io.concord.fuse;

import io.concord.fs.KernelCache;

/**
 * The kernel's caches for this mount, as the filesystem's glocks see them: when a glock is about to
 * leave this node, {@link #flush} drops the inode's page cache (dirty mapped pages are written back
 * first, as WRITE requests) and every name the kernel may cache in it if it is a directory, and
 * waits for the kernel to have done so; {@link #forget} then drops the inode's attributes, which
 * takes no page lock and so can be sent while the glock admits nobody.
 */
final class KernelInvalidation implements KernelCache {
    private static final System.Logger LOG = System.getLogger(KernelInvalidation.class.getName());
    private static final long FLUSH_WAIT_MILLIS = 5_000;
    private static final long FORGET_WAIT_MILLIS = 2_000;

    private final Notifier notifier;
    private final NodeTable nodes;
    private final KnownNames names;
    private final long root;

    KernelInvalidation(Notifier notifier, NodeTable nodes, KnownNames names, long root) {
        this.notifier = notifier;
        this.nodes = nodes;
        this.names = names;
        this.root = root;
    }

    private boolean known(long ino) {
        return ino == root || nodes.lookupCount(nodes.nodeId(ino)) > 0;
    }

    @Override
    public void flush(long ino) {
        boolean any = false;
        for (byte[] name : names.take(ino)) {
            notifier.invalidateEntry(ino, name);
            any = true;
        }
        if (known(ino)) {
            notifier.invalidateInode(ino, 0, -1);
            any = true;
        }
        if (any) {
            await(FLUSH_WAIT_MILLIS, ino);
        }
    }

    @Override
    public void forget(long ino) {
        if (known(ino)) {
            notifier.invalidateInode(ino, -1, 0);
            await(FORGET_WAIT_MILLIS, ino);
        }
    }

    private void await(long millis, long ino) {
        try {
            if (!notifier.drain(millis)) {
                LOG.log(System.Logger.Level.WARNING, "the kernel took over " + millis + " ms to drop its caches of inode " + ino);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
