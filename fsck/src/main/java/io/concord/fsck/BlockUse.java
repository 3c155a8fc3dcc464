package io.concord.fsck;

/**
 * The first walk's view of block use: one bit per block for "set in its bitmap", "its bitmap
 * could be read", "claimed by the walk", "claimed more than once" and "an inode block". A claim of
 * a block that its bitmap says is free is reported at once, as a range per claim.
 */
final class BlockUse implements Claims {
    private final Context ctx;
    final LongBits allocated;
    final LongBits bitmapKnown;
    final LongBits used;
    final LongBits shared;
    final LongBits inodes;
    private long sharedCount;

    BlockUse(Context ctx) {
        this.ctx = ctx;
        long n = ctx.geometry().totalBlocks();
        this.allocated = new LongBits(n);
        this.bitmapKnown = new LongBits(n);
        this.used = new LongBits(n);
        this.shared = new LongBits(n);
        this.inodes = new LongBits(n);
    }

    long sharedCount() {
        return sharedCount;
    }

    @Override
    public boolean claim(long start, int length, long owner, Role role) {
        boolean fresh = true;
        long freeFrom = -1;
        long end = start + length;
        for (long b = start; b < end; b++) {
            if (used.get(b)) {
                if (!shared.get(b)) {
                    shared.set(b);
                    sharedCount++;
                }
                fresh = false;
            } else {
                used.set(b);
            }
            if (role == Role.INODE) {
                inodes.set(b);
            }
            boolean free = bitmapKnown.get(b) && !allocated.get(b);
            if (free && freeFrom < 0) {
                freeFrom = b;
            } else if (!free && freeFrom >= 0) {
                reportFree(freeFrom, b, owner, role);
                freeFrom = -1;
            }
        }
        if (freeFrom >= 0) {
            reportFree(freeFrom, end, owner, role);
        }
        return fresh;
    }

    private void reportFree(long from, long to, long owner, Role role) {
        String what = to - from == 1 ? "block " + from + " (" + role.describe(owner) + ") is"
                : "blocks " + from + ".." + (to - 1) + " (" + role.describe(owner) + ") are";
        ctx.report(Problem.USED_BUT_FREE, from, what + " in use but free in the allocation bitmap");
    }
}
