package io.concord.fs;

/**
 * The caches that the kernel keeps for this node's mount (attributes, page cache, names). The
 * filesystem tells them to forget an inode when it gives up the glock that made them valid; the
 * FUSE layer implements it with invalidation notifications.
 */
public interface KernelCache {
    /**
     * Write back and drop the data cached for {@code ino} and, for a directory, the names cached
     * in it; returns once the kernel has done so (boundedly). Called while the inode's glock still
     * admits requests, since writing back dirty mapped pages sends some.
     */
    void flush(long ino);

    /**
     * Drop the attributes cached for {@code ino}. Must not wait for requests in flight: called
     * while the inode's glock admits nobody.
     */
    void forget(long ino);

    /** No kernel in front (tools, tests). */
    KernelCache NONE = new KernelCache() {
        @Override
        public void flush(long ino) {
        }

        @Override
        public void forget(long ino) {
        }
    };
}
