package io.concord.fsck;

import io.concord.format.RgrpBitmap;
import io.concord.format.RgrpHeader;
import io.concord.format.Superblock;

/**
 * Where things must lie, computed from the superblock alone (never from a header that may be
 * damaged): each resource group's extent, its bitmap blocks, and its data area, the only place a
 * pointer from an inode may lead.
 */
final class Geometry {
    private final Superblock sb;
    private final long bitsPerBitmap;

    Geometry(Superblock sb) {
        this.sb = sb;
        this.bitsPerBitmap = RgrpBitmap.bitsPerBlock(sb.blockSize());
    }

    Superblock superblock() {
        return sb;
    }

    long totalBlocks() {
        return sb.totalBlocks();
    }

    int rgrpCount() {
        return sb.rgrpCount();
    }

    long bitsPerBitmap() {
        return bitsPerBitmap;
    }

    /** The group holding {@code block}, or -1 for the superblock, the journals and past the end. */
    int rgrpOf(long block) {
        return sb.rgrpOf(block);
    }

    long first(int rgrp) {
        return sb.rgrpFirstBlock(rgrp);
    }

    int length(int rgrp) {
        return sb.rgrpLength(rgrp);
    }

    long end(int rgrp) {
        return first(rgrp) + length(rgrp);
    }

    int bitmapBlocks(int rgrp) {
        return RgrpHeader.bitmapBlocksFor(length(rgrp), sb.blockSize());
    }

    /** The group's first block after its header and bitmaps. */
    long dataStart(int rgrp) {
        return first(rgrp) + 1 + bitmapBlocks(rgrp);
    }

    /** True when [start, start + length) lies inside one resource group's data area. */
    boolean inDataArea(long start, long length) {
        if (length <= 0 || start <= 0 || start + length < start) {
            return false;
        }
        int r = rgrpOf(start);
        return r >= 0 && start >= dataStart(r) && start + length <= end(r);
    }

    /** Where {@code block} lies, for a message: "journal 1", "the header of rgrp 3", "past the end". */
    String describe(long block) {
        if (block == 0) {
            return "the superblock";
        }
        if (block < 0 || block >= sb.totalBlocks()) {
            return "past the end of the filesystem";
        }
        int r = rgrpOf(block);
        if (r < 0) {
            if (sb.hasHeartbeats() && block < sb.journalStart()) {
                return "the heartbeat area";
            }
            if (block >= sb.journalStart() && block < sb.journalStart() + (long) sb.journalCount() * sb.journalBlocks()) {
                return "journal " + (block - sb.journalStart()) / sb.journalBlocks();
            }
            return "no resource group";
        }
        if (block == first(r)) {
            return "the header of rgrp " + r;
        }
        if (block < dataStart(r)) {
            return "a bitmap block of rgrp " + r;
        }
        return "rgrp " + r;
    }
}
