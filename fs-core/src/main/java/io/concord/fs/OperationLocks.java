package io.concord.fs;

import io.concord.dlm.LockMode;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The glocks of one operation: those it is known to need, taken in lock order before it runs, and
 * those it finds it needs as it runs ({@link #need}), which it may only take from this node's
 * cache (anything else ends the attempt with {@link NeedLock}). It also answers the allocator
 * ({@link RgrpAccess}). Lives across the attempts of one operation; used by one thread.
 */
final class OperationLocks implements RgrpAccess {
    /** Lock order: the rank of each type, then the number (see {@link OperationRunner}). */
    private static int rank(GlockType t) {
        return switch (t) {
            case RENAME -> 0;
            case INODE -> 1;
            case IOPEN -> 2;
            case RGRP -> 3;
            case STATFS -> 4;
            case JOURNAL -> 5;
        };
    }

    private record Key(GlockType type, long number) implements Comparable<Key> {
        @Override
        public int compareTo(Key o) {
            int r = Integer.compare(rank(type), rank(o.type));
            return r != 0 ? r : Long.compareUnsigned(number, o.number);
        }
    }

    private record Want(LockMode mode, boolean tryOnly) {
    }

    private final Glocks glocks;
    private final boolean mayWaitInside;
    private final RgrpSkips skips;
    private final TreeMap<Key, Want> wanted = new TreeMap<>();
    /** Try-locks that found the lock held by another node, in the attempts so far. */
    private final java.util.Set<Key> busy = new java.util.HashSet<>();
    private final Map<Key, Glocks.Holder> held = new HashMap<>();
    private final List<Glocks.Holder> order = new ArrayList<>();
    private final BitSet skipped = new BitSet();
    /** An inode block chosen by an earlier attempt, whose glock the next one takes first. */
    private long reservedInode;

    /**
     * @param mayWaitInside true with the single-node lock manager, where nothing ever waits for
     *                      a grant: then {@link #need} simply takes what it needs
     */
    OperationLocks(Glocks glocks, boolean mayWaitInside, RgrpSkips skips) {
        this.glocks = glocks;
        this.mayWaitInside = mayWaitInside;
        this.skips = skips;
    }

    /** Adds a lock the operation is known to need before it starts. */
    OperationLocks want(GlockType type, long number, LockMode mode) {
        merge(new Key(type, number), new Want(mode, false));
        return this;
    }

    private void merge(Key k, Want w) {
        Want old = wanted.get(k);
        if (old == null) {
            wanted.put(k, w);
            return;
        }
        LockMode mode = old.mode.covers(w.mode) ? old.mode : w.mode;
        wanted.put(k, new Want(mode, old.tryOnly && w.tryOnly));
    }

    /** Takes every wanted lock in lock order, waiting as needed. The caller holds no filesystem lock. */
    void acquireAll() {
        for (var e : wanted.entrySet()) {
            Key k = e.getKey();
            Want w = e.getValue();
            if (held.containsKey(k)) {
                continue;
            }
            Glocks.Holder h;
            if (w.tryOnly) {
                h = glocks.tryHold(k.type, k.number, w.mode);
                if (h == null) {
                    busy.add(k);
                    if (k.type == GlockType.RGRP) {
                        skips.heldElsewhere((int) k.number);
                    }
                    continue;
                }
                busy.remove(k);
            } else {
                h = glocks.hold(k.type, k.number, w.mode);
            }
            keep(k, h);
        }
    }

    /** Ends this attempt's holds (the next attempt takes them again, from the cache normally). */
    void releaseAll() {
        for (int i = order.size() - 1; i >= 0; i--) {
            order.get(i).close();
        }
        order.clear();
        held.clear();
        skipped.clear();
    }

    private void keep(Key k, Glocks.Holder h) {
        held.put(k, h);
        order.add(h);
    }

    /** Whether this attempt holds the lock in a mode covering {@code mode}. */
    boolean holds(GlockType type, long number, LockMode mode) {
        Glocks.Holder h = held.get(new Key(type, number));
        return h != null && h.mode().covers(mode);
    }

    /**
     * Makes sure the operation holds {@code type}/{@code number} in {@code mode}: from the
     * cache, or by ending this attempt so that the runner takes it.
     */
    void need(GlockType type, long number, LockMode mode) {
        Key k = new Key(type, number);
        Glocks.Holder h = held.get(k);
        if (h != null && h.mode().covers(mode)) {
            return;
        }
        if (h != null) {
            // Held, but weaker: give this hold up first (a local stronger request waits for it).
            order.remove(h);
            held.remove(k);
            h.close();
        }
        Glocks.Holder got = mayWaitInside ? glocks.hold(type, number, mode) : glocks.holdCached(type, number, mode);
        if (got == null) {
            merge(k, new Want(mode, false));
            throw new NeedLock(type, number, mode, false);
        }
        keep(k, got);
    }

    /** {@link #need} for an inode. */
    void need(long ino, LockMode mode) {
        need(GlockType.INODE, ino, mode);
    }

    /**
     * Holds the lock in {@code mode} if no other node holds it (a try-lock, made between attempts):
     * false if one does. The answer stands for the rest of the operation's attempts.
     */
    boolean tryNeed(GlockType type, long number, LockMode mode) {
        Key k = new Key(type, number);
        if (holds(type, number, mode)) {
            return true;
        }
        if (busy.contains(k)) {
            return false;
        }
        Glocks.Holder got = glocks.holdCached(type, number, mode);
        if (got == null && mayWaitInside) {
            got = glocks.tryHold(type, number, mode);
            if (got == null) {
                busy.add(k);
                return false;
            }
        }
        if (got == null) {
            merge(k, new Want(mode, true));
            throw new NeedLock(type, number, mode, true);
        }
        keep(k, got);
        return true;
    }

    /** The inode block an earlier attempt chose for the new inode, or 0. */
    long reservedInode() {
        return reservedInode;
    }

    /**
     * The new inode will be block {@code ino}: makes sure its glock is held EX, ending this
     * attempt if it must be asked for (no other node can be waiting for a lock on a free block,
     * but one may still cache it from the block's previous life).
     */
    void newInode(long ino) {
        reservedInode = ino;
        need(GlockType.INODE, ino, LockMode.EX);
    }

    // ---- RgrpAccess ----

    @Override
    public boolean forAllocation(int rgrp) {
        Key k = new Key(GlockType.RGRP, rgrp);
        if (holds(GlockType.RGRP, rgrp, LockMode.EX)) {
            return true;
        }
        Glocks.Holder got = glocks.holdCached(GlockType.RGRP, rgrp, LockMode.EX);
        if (got == null && mayWaitInside) {
            got = glocks.hold(GlockType.RGRP, rgrp, LockMode.EX);
        }
        if (got != null) {
            keep(k, got);
            return true;
        }
        if (busy.contains(k) || skips.recentlyHeldElsewhere(rgrp)) {
            skipped.set(rgrp);
            return false;
        }
        merge(k, new Want(LockMode.EX, true));
        throw new NeedLock(GlockType.RGRP, rgrp, LockMode.EX, true);
    }

    @Override
    public void require(int rgrp) {
        need(GlockType.RGRP, rgrp, LockMode.EX);
    }

    @Override
    public void noneFree() {
        int r = skipped.nextSetBit(0);
        if (r >= 0) {
            Key k = new Key(GlockType.RGRP, r);
            busy.remove(k);
            merge(k, new Want(LockMode.EX, false));
            throw new NeedLock(GlockType.RGRP, r, LockMode.EX, false);
        }
    }
}
