package io.concord.fs;

import io.concord.errors.FsException;
import io.concord.format.BlockType;
import io.concord.format.RgrpBitmap;
import io.concord.format.RgrpHeader;
import io.concord.format.Superblock;
import java.nio.ByteBuffer;

/**
 * Block allocation from the resource groups' bitmaps. Each node starts its search in a different
 * resource group (spread by journal id), so nodes rarely want the same rgrp glock; within a group
 * it keeps a hint so that consecutive allocations are contiguous.
 *
 * <p>A block freed in the running transaction is not handed out again until that transaction has
 * committed (see {@link RunningTransaction#freed}): a crash must never leave a file pointing at a
 * block that already holds someone else's data. When only such blocks are left, the operation is
 * asked to roll back and run again after a commit ({@link CommitAndRetry}).
 *
 * <p>Callers hold the filesystem lock exclusively, inside an operation that {@link #bind}s its
 * {@link RgrpAccess}: before a group's header or bitmaps are read for allocation or changed, the
 * operation holds that group's glock (EX), or skips the group when another node holds it. The
 * free counts kept here choose where to search; for a group this node does not hold they are
 * hints, brought up to date whenever its glock is granted ({@link #granted}), from the count the
 * last holder published in the lock's value block or else from the group's header.
 */
final class Allocator {
    private final MetadataStore store;
    private final Superblock sb;
    private final int[] free;
    private final int[] hint;
    private final int home;
    private final long bitsPerBitmap;
    private RgrpAccess rgrps = RgrpAccess.NONE;
    /** Groups whose glock was granted since their count was last read (set by any thread). */
    private final java.util.concurrent.atomic.AtomicIntegerArray refreshed;
    /** Groups this operation changed, whose counts a rollback must read again. */
    private final java.util.BitSet touched = new java.util.BitSet();
    /**
     * Search views of bitmap blocks, by block number: the bitmap with every block freed by the
     * running transaction still set (GFS2 keeps a clone bitmap for the same purpose), so the search
     * skips them a word at a time. Built on first use in a transaction, kept up to date by
     * {@link #mark}, dropped when the transaction commits or an operation rolls back.
     */
    private final java.util.HashMap<Long, ByteBuffer> views = new java.util.HashMap<>();

    Allocator(MetadataStore store, Superblock sb, int journalId) {
        this.store = store;
        this.sb = sb;
        this.free = new int[sb.rgrpCount()];
        this.hint = new int[sb.rgrpCount()];
        this.home = (int) ((long) journalId * sb.rgrpCount() / sb.journalCount());
        this.bitsPerBitmap = RgrpBitmap.bitsPerBlock(sb.blockSize());
        this.refreshed = new java.util.concurrent.atomic.AtomicIntegerArray(sb.rgrpCount());
        for (int r = 0; r < free.length; r++) {
            free[r] = header(r).freeBlocks();
        }
        store.onTransactionReset(views::clear);
    }

    /** The operation whose rgrp glocks the allocator uses until the next bind ({@link RgrpAccess#NONE} between operations). */
    void bind(RgrpAccess access) {
        this.rgrps = access;
        touched.clear();
    }

    /** An operation rolled back: the groups it changed have their counts read again from their headers. */
    void rolledBack() {
        for (int r = touched.nextSetBit(0); r >= 0; r = touched.nextSetBit(r + 1)) {
            free[r] = header(r).freeBlocks();
        }
        touched.clear();
    }

    /**
     * Group {@code rgrp}'s glock was just granted (any thread): its count is read again before the
     * next search, from {@code published} (the value block's count, or -1 if it has none).
     */
    void granted(int rgrp, int published) {
        refreshed.set(rgrp, published < 0 ? -1 : published + 1);
    }

    /** The count to publish in the group's value block as its glock leaves EX. */
    int publishedCount(int rgrp) {
        // -1 (publish nothing) when the grant's count was never taken in: this node then changed
        // nothing in the group, and free[rgrp] is an old hint.
        return refreshed.get(rgrp) != 0 ? -1 : free[rgrp];
    }

    /** Called with the group held: takes in what its grant brought. */
    private void takeRefresh(int rgrp) {
        int r = refreshed.getAndSet(rgrp, 0);
        if (r > 0) {
            free[rgrp] = r - 1;
        } else if (r < 0) {
            free[rgrp] = header(rgrp).freeBlocks();
        }
    }

    long freeBlocks() {
        long total = 0;
        for (int f : free) {
            total += f;
        }
        return total;
    }

    RgrpHeader header(int rgrp) {
        long at = sb.rgrpFirstBlock(rgrp);
        return RgrpHeader.decode(store.read(at, BlockType.RGRP_HEADER), at, store.fsId());
    }

    /** Allocates one block for an inode near {@code goal}. */
    long allocInode(long goal) {
        Run r = allocate(goal, 1, true);
        return r.start();
    }

    /**
     * Allocates block {@code block} for an inode if it is still free and reusable (a choice an
     * earlier attempt of the operation made); false if not.
     */
    boolean allocInodeAt(long block) {
        int rgrp = sb.rgrpOf(block);
        if (rgrp < 0 || !rgrps.forAllocation(rgrp)) {
            return false;
        }
        takeRefresh(rgrp);
        long bit = block - sb.rgrpFirstBlock(rgrp);
        int bm = (int) (bit / bitsPerBitmap);
        if (RgrpBitmap.get(view(rgrp, bm), (int) (bit - bm * bitsPerBitmap))) {
            return false;
        }
        mark(rgrp, new Run(block, 1), true, true);
        return true;
    }

    /**
     * Allocates a run of at most {@code want} blocks, as near {@code goal} as it can: the caller
     * loops until it has what it needs.
     *
     * @throws FsException NO_SPACE when no block is free
     */
    Run allocate(long goal, int want) {
        return allocate(goal, want, false);
    }

    private Run allocate(long goal, int want, boolean inode) {
        Run r = search(goal, want, inode);
        if (r == null && store.hasUncommittedFrees()) {
            throw new CommitAndRetry();
        }
        if (r == null) {
            throw new FsException(FsException.Kind.NO_SPACE, "no space left on the filesystem");
        }
        return r;
    }

    private Run search(long goal, int want, boolean inode) {
        int start = sb.rgrpOf(goal);
        if (start < 0) {
            start = home;
        }
        for (int i = 0; i < free.length; i++) {
            int rgrp = (start + i) % free.length;
            if (free[rgrp] == 0 && refreshed.get(rgrp) == 0) {
                continue;
            }
            if (!rgrps.forAllocation(rgrp)) {
                continue;
            }
            takeRefresh(rgrp);
            if (free[rgrp] == 0) {
                continue;
            }
            int from = (i == 0 && goal >= sb.rgrpFirstBlock(rgrp)) ? (int) (goal - sb.rgrpFirstBlock(rgrp)) : hint[rgrp];
            Run r = searchGroup(rgrp, from, want);
            if (r == null && from != 0) {
                r = searchGroup(rgrp, 0, want);
            }
            if (r != null) {
                mark(rgrp, r, true, inode);
                hint[rgrp] = (int) (r.end() - sb.rgrpFirstBlock(rgrp));
                return r;
            }
        }
        rgrps.noneFree();
        return null;
    }

    /** The first run of free, reusable blocks at or after bit {@code from} of the group. */
    private Run searchGroup(int rgrp, int from, int want) {
        int length = sb.rgrpLength(rgrp);
        long first = sb.rgrpFirstBlock(rgrp);
        int bit = from;
        while (bit < length) {
            int bm = (int) (bit / bitsPerBitmap);
            ByteBuffer view = view(rgrp, bm);
            int base = (int) (bm * bitsPerBitmap);
            int limit = (int) Math.min(bitsPerBitmap, length - base);
            int clear = RgrpBitmap.findClear(view, bit - base, limit);
            if (clear < 0) {
                bit = base + limit;
                continue;
            }
            int runStart = base + clear;
            int runEnd = runStart + 1;
            while (runEnd < length && runEnd - runStart < want) {
                int rbm = (int) (runEnd / bitsPerBitmap);
                ByteBuffer v = rbm == bm ? view : view(rgrp, rbm);
                if (RgrpBitmap.get(v, (int) (runEnd - rbm * bitsPerBitmap))) {
                    break;
                }
                runEnd++;
            }
            return new Run(first + runStart, runEnd - runStart);
        }
        return null;
    }

    /** The search view of bitmap {@code bm} of {@code rgrp}: the bitmap itself when nothing is pending. */
    private ByteBuffer view(int rgrp, int bm) {
        long at = sb.rgrpFirstBlock(rgrp) + 1 + bm;
        ByteBuffer v = views.get(at);
        if (v != null) {
            return v;
        }
        ByteBuffer real = bitmap(rgrp, bm);
        if (!store.hasUncommittedFrees()) {
            return real;
        }
        ByteBuffer copy = ByteBuffer.allocate(real.capacity());
        copy.put(real.duplicate().clear()).clear();
        long base = sb.rgrpFirstBlock(rgrp) + bm * bitsPerBitmap;
        store.forEachUncommittedFree(base, base + bitsPerBitmap, b -> RgrpBitmap.set(copy, (int) (b - base), true));
        views.put(at, copy);
        return copy;
    }

    /** Returns {@code run} to the free space (reusable once the running transaction commits). */
    void free(Run run, boolean inode) {
        int rgrp = sb.rgrpOf(run.start());
        if (rgrp < 0 || rgrp != sb.rgrpOf(run.end() - 1)) {
            throw new IllegalArgumentException("run " + run + " is not inside one resource group");
        }
        rgrps.require(rgrp);
        takeRefresh(rgrp);
        mark(rgrp, run, false, inode);
        store.freed(run.start(), run.length());
    }

    /** True when {@code block} lies in a resource group (not the superblock or a journal). */
    boolean covers(long block) {
        return sb.rgrpOf(block) >= 0;
    }

    /**
     * Whether the bitmap marks {@code block} in use. Read without the rgrp glock: it only screens
     * handles from outside (the inode's own glock protects the inode), so a stale answer costs at
     * most a later ESTALE or a read of the inode block, never a wrong allocation. A "free" from
     * the cache is checked against the device, as another node may have allocated it since.
     */
    boolean isAllocated(long block) {
        int rgrp = sb.rgrpOf(block);
        long bit = block - sb.rgrpFirstBlock(rgrp);
        int bm = (int) (bit / bitsPerBitmap);
        int i = (int) (bit - bm * bitsPerBitmap);
        if (RgrpBitmap.get(bitmap(rgrp, bm), i)) {
            return true;
        }
        return RgrpBitmap.get(store.readUncached(sb.rgrpFirstBlock(rgrp) + 1 + bm, BlockType.RGRP_BITMAP), i);
    }

    private void mark(int rgrp, Run run, boolean used, boolean inode) {
        long first = sb.rgrpFirstBlock(rgrp);
        long bit = run.start() - first;
        long endBit = bit + run.length();
        while (bit < endBit) {
            int bm = (int) (bit / bitsPerBitmap);
            long bmBlock = first + 1 + bm;
            ByteBuffer image = store.copyOf(bmBlock, BlockType.RGRP_BITMAP);
            long stop = Math.min(endBit, (bm + 1) * bitsPerBitmap);
            for (; bit < stop; bit++) {
                int i = (int) (bit - bm * bitsPerBitmap);
                if (RgrpBitmap.get(image, i) == used) {
                    throw new FsException(FsException.Kind.IO_ERROR, "block " + (first + bit) + " is already " + (used ? "in use" : "free")
                            + ": the allocation bitmap disagrees with the filesystem (run fsck.concord)");
                }
                RgrpBitmap.set(image, i, used);
            }
            RgrpBitmap.seal(image, bmBlock, store.journalId(), store.fsId());
            store.write(bmBlock, image);
            ByteBuffer v = views.get(bmBlock);
            if (v != null && used) {
                // An allocation shows in the view at once; a free stays set there until commit.
                for (long b = Math.max(run.start() - first, bm * bitsPerBitmap); b < stop; b++) {
                    RgrpBitmap.set(v, (int) (b - bm * bitsPerBitmap), true);
                }
            }
        }
        RgrpHeader h = header(rgrp);
        int delta = used ? -run.length() : run.length();
        int inodes = h.inodes() + (inode ? (used ? 1 : -1) : 0);
        RgrpHeader updated = h.withCounts(h.freeBlocks() + delta, inodes);
        ByteBuffer image = store.newImage();
        updated.encode(image, store.journalId(), store.fsId());
        store.write(first, image);
        free[rgrp] = updated.freeBlocks();
        touched.set(rgrp);
    }

    private ByteBuffer bitmap(int rgrp, int bm) {
        long at = sb.rgrpFirstBlock(rgrp) + 1 + bm;
        return store.read(at, BlockType.RGRP_BITMAP);
    }
}
