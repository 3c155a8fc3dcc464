package io.concord.fsck;

import io.concord.format.BlockType;
import io.concord.format.RgrpBitmap;
import io.concord.format.RgrpHeader;
import java.nio.ByteBuffer;

/**
 * Resource groups: each header against the superblock's geometry, each bitmap block's own fields
 * and always-set bits, and the bitmaps loaded into {@link BlockUse#allocated} for the walk. After
 * the walk, {@link #checkCounts} compares each header's free and inode counts with its bitmap and
 * with the inode blocks found.
 */
final class RgrpCheck {
    private final Context ctx;
    private final BlockUse use;
    private final Geometry geo;
    /** Per group: the header's counts (-1 when the header is unusable), and the bitmaps' clear bits (-1 when one is unusable). */
    private final long[] headerFree;
    private final long[] headerInodes;
    private final long[] bitmapClear;

    RgrpCheck(Context ctx, BlockUse use) {
        this.ctx = ctx;
        this.use = use;
        this.geo = ctx.geometry();
        this.headerFree = new long[geo.rgrpCount()];
        this.headerInodes = new long[geo.rgrpCount()];
        this.bitmapClear = new long[geo.rgrpCount()];
    }

    void loadAll() {
        for (int r = 0; r < geo.rgrpCount(); r++) {
            load(r);
        }
    }

    private void load(int r) {
        long first = geo.first(r);
        int bitmaps = geo.bitmapBlocks(r);
        use.claim(first, 1 + bitmaps, r, Claims.Role.RGRP_METADATA);
        headerFree[r] = -1;
        headerInodes[r] = -1;
        BlockVerdict v = ctx.verdict(first, BlockType.RGRP_HEADER, "the header of rgrp " + r + " (block " + first + ")", Problem.RGRP);
        if (v != null && v.usable()) {
            RgrpHeader h = RgrpHeader.decode(v.block(), first, ctx.fsId());
            checkGeometry(r, h);
            headerFree[r] = Integer.toUnsignedLong(h.freeBlocks());
            headerInodes[r] = Integer.toUnsignedLong(h.inodes());
        }
        long clear = 0;
        for (int bm = 0; bm < bitmaps; bm++) {
            long c = loadBitmap(r, bm);
            clear = c < 0 || clear < 0 ? -1 : clear + c;
        }
        bitmapClear[r] = clear;
    }

    private void checkGeometry(int r, RgrpHeader h) {
        long first = geo.first(r);
        String name = "the header of rgrp " + r + " (block " + first + ")";
        if (h.index() != r) {
            ctx.report(Problem.RGRP, first, name + " says it is rgrp " + h.index());
        }
        if (h.firstBlock() != first) {
            ctx.report(Problem.RGRP, first, name + " says the group starts at block " + h.firstBlock());
        }
        if (h.length() != geo.length(r)) {
            ctx.report(Problem.RGRP, first, name + " says the group has " + h.length() + " blocks, the superblock gives it " + geo.length(r));
        }
        if (h.bitmapBlocks() != geo.bitmapBlocks(r)) {
            ctx.report(Problem.RGRP, first, name + " says it has " + h.bitmapBlocks() + " bitmap blocks, its length needs " + geo.bitmapBlocks(r));
        }
    }

    /** Loads one bitmap block into {@link BlockUse}; returns its clear bits, or -1 when it is unusable. */
    private long loadBitmap(int r, int bm) {
        long block = geo.first(r) + 1 + bm;
        String name = "bitmap block " + bm + " of rgrp " + r + " (block " + block + ")";
        BlockVerdict v = ctx.verdict(block, BlockType.RGRP_BITMAP, name, Problem.BITMAP);
        if (v == null || !v.usable()) {
            return -1;
        }
        ByteBuffer b = v.block();
        if (b.getInt(32) != r || b.getInt(36) != bm) {
            ctx.report(Problem.BITMAP, block, name + " says it is bitmap block " + b.getInt(36) + " of rgrp " + b.getInt(32));
        }
        long bits = geo.bitsPerBitmap();
        long base = bm * bits;
        long first = geo.first(r);
        int length = geo.length(r);
        long reserved = 1 + geo.bitmapBlocks(r);
        long clear = 0;
        long reservedClear = 0;
        long pastEndClear = 0;
        for (long k = 0; k < bits; k++) {
            boolean set = RgrpBitmap.get(b, (int) k);
            long bit = base + k;
            if (!set) {
                clear++;
            }
            if (bit >= length) {
                pastEndClear += set ? 0 : 1;
                continue;
            }
            use.bitmapKnown.set(first + bit);
            if (set) {
                use.allocated.set(first + bit);
            } else if (bit < reserved) {
                reservedClear++;
            }
        }
        if (reservedClear > 0) {
            ctx.report(Problem.BITMAP, block, name + " marks " + reservedClear + " of the group's header and bitmap blocks free");
        }
        if (pastEndClear > 0) {
            ctx.report(Problem.BITMAP, block, name + " has " + pastEndClear + " clear bits past the end of the group (they must stay set)");
        }
        return clear;
    }

    /** After the walk: each header's counts against its bitmap and the inode blocks found. */
    void checkCounts() {
        for (int r = 0; r < geo.rgrpCount(); r++) {
            long first = geo.first(r);
            String name = "the header of rgrp " + r + " (block " + first + ")";
            if (headerFree[r] >= 0 && bitmapClear[r] >= 0 && headerFree[r] != bitmapClear[r]) {
                long unused = geo.length(r) - use.used.count(first, geo.end(r));
                ctx.report(Problem.RGRP_FREE, first, name + " counts " + headerFree[r] + " free blocks, its bitmap has " + bitmapClear[r]
                        + " (the walk found " + unused + " blocks unused)");
            }
            long found = use.inodes.count(first, geo.end(r));
            if (headerInodes[r] >= 0 && headerInodes[r] != found) {
                ctx.report(Problem.RGRP_INODES, first, name + " counts " + headerInodes[r] + " inodes, the group holds " + found + " inode blocks");
            }
        }
    }
}
