package io.concord.fs;

/**
 * How the allocator gets the resource group glocks of the operation it serves. Each call either
 * returns with the glock held by the operation or ends the operation's attempt (so that the
 * runner can take the lock without holding the filesystem lock, and run it again).
 */
interface RgrpAccess {
    /**
     * Before searching {@code rgrp} for free blocks: true once it is held; false if another node
     * holds it, so the search should try the next group (GFS2's try-lock on rgrps).
     */
    boolean forAllocation(int rgrp);

    /** Before freeing blocks in {@code rgrp} or changing it otherwise: it is held once this returns. */
    void require(int rgrp);

    /**
     * The search found nothing in the groups it could hold: if it skipped any because another node
     * held them, this ends the attempt so that one of those is waited for; else it returns.
     */
    void noneFree();

    /** Outside an operation: any use is a bug. */
    RgrpAccess NONE = new RgrpAccess() {
        @Override
        public boolean forAllocation(int rgrp) {
            throw new IllegalStateException("resource group " + rgrp + " touched outside an operation");
        }

        @Override
        public void require(int rgrp) {
            throw new IllegalStateException("resource group " + rgrp + " touched outside an operation");
        }

        @Override
        public void noneFree() {
        }
    };
}
