package io.concord.fs;

/**
 * What a lock type does when its glock must leave this node or weaken (GFS2's glops): make the
 * node's changes durable and visible ({@link #sync}), then forget what it cached under the lock
 * ({@link #invalidate}). One table entry per {@link GlockType}; the glock engine never switches
 * on the type.
 */
interface GlockOps {
    /** Before the lock is dropped below EX: commit the journal and write back what it covers. */
    void sync(GlockType type, long number);

    /** Before the lock is dropped below a caching mode: drop cached blocks and kernel caches. */
    void invalidate(GlockType type, long number);

    GlockOps NONE = new GlockOps() {
        @Override
        public void sync(GlockType type, long number) {
        }

        @Override
        public void invalidate(GlockType type, long number) {
        }
    };
}
