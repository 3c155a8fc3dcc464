package io.concord.fs;

import io.concord.dlm.LockMode;
import io.concord.dlm.LockValueBlock;

/**
 * What one lock type does as its glock comes and goes (GFS2's {@code gfs2_glock_operations}).
 * The glock engine calls these and never asks which type it is dealing with; each type has one
 * entry in the table the filesystem hands the engine.
 *
 * <p>Calls come from the engine with no glock monitor held and with the glock marked as
 * changing, so no local holder uses the lock meanwhile. {@link #sync} and {@link #invalidate}
 * run on the engine's demote thread and may wait (for the filesystem lock, for I/O);
 * {@link #granted} runs on the thread that asked for the lock.
 */
interface GlockOps {
    /**
     * Before the lock leaves EX or PW: make what this node changed under it durable and in place,
     * so that the next holder reads it from the device (GFS2's {@code go_sync}).
     *
     * @throws RuntimeException if that failed: the node has withdrawn and the lock is kept
     */
    default void sync(long number) {
    }

    /**
     * First step of giving the lock up or weakening it, while local holders may still come and go:
     * make the kernel write back and drop what it caches under the lock. Writing back dirty mapped
     * pages sends requests that need this very lock, which is why holders are still admitted
     * here; the engine repeats this step (a few times at most) if any came in meanwhile, as they
     * may have filled the kernel's caches again. May wait, boundedly.
     */
    default void flushKernel(long number) {
    }

    /** Before the lock is given up: forget what this node cached under it, kernel caches too ({@code go_inval}). */
    default void invalidate(long number) {
    }

    /**
     * The lock was just granted in {@code mode}: refresh what it protects ({@code go_lock}). The
     * value block is the resource's as of this grant.
     */
    default void granted(long number, LockMode mode, LockValueBlock value) {
    }

    /** When the lock goes down from EX or PW: the value block to publish, or null for none. */
    default byte[] valueOut(long number) {
        return null;
    }

    /** Whether the lock may be demoted now, although no operation holds it ({@code go_demote_ok}). */
    default boolean mayDemote(long number) {
        return true;
    }

    /** Whether the lock stays cached on this node once no holder is left (iopen does not). */
    default boolean cachedWhenIdle() {
        return true;
    }

    /** A type that protects no cache of this node's. */
    GlockOps NONE = new GlockOps() {
    };
}
