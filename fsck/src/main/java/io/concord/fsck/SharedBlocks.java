package io.concord.fsck;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The second walk (e2fsck's pass 1B), run only when the first found blocks claimed more than
 * once: it claims everything again and keeps, for each claim that touches such a block, who made
 * it. The first walk could not say who had claimed a block first without a word per block; this
 * costs a second read of the metadata, and only on a damaged filesystem.
 */
final class SharedBlocks implements Claims {
    private record Owner(long start, long end, long owner, Role role) {
        String describe() {
            String range = end - start == 1 ? "block " + start : "blocks " + start + ".." + (end - 1);
            return role.describe(owner) + " (" + range + ")";
        }
    }

    private static final int OWNERS_LISTED = 8;

    private final BlockUse use;
    private final LongBits seen;
    private final List<Owner> owners = new ArrayList<>();

    SharedBlocks(BlockUse use) {
        this.use = use;
        this.seen = new LongBits(use.shared.size());
    }

    @Override
    public boolean claim(long start, int length, long owner, Role role) {
        boolean fresh = true;
        long end = start + length;
        long runFrom = -1;
        for (long b = start; b < end; b++) {
            boolean shared = use.shared.get(b);
            if (shared) {
                if (seen.get(b)) {
                    fresh = false;
                }
                seen.set(b);
                if (runFrom < 0) {
                    runFrom = b;
                }
            } else if (runFrom >= 0) {
                owners.add(new Owner(runFrom, b, owner, role));
                runFrom = -1;
            }
        }
        if (runFrom >= 0) {
            owners.add(new Owner(runFrom, end, owner, role));
        }
        return fresh;
    }

    /** Walks every inode the first walk loaded again, gathering owners, then reports each cluster of shared blocks. */
    static void find(Context ctx, BlockUse use, InodeTable table) {
        SharedBlocks shared = new SharedBlocks(use);
        Context quiet = ctx.reportingTo(Problems.discarding());
        InodeCheck check = new InodeCheck(quiet, shared);
        for (int slot : table.slots()) {
            if (!table.is(slot, InodeTable.LOADED)) {
                continue;
            }
            long ino = table.inode(slot);
            var inode = check.load(ino, "inode " + ino, Problem.WRONG_BLOCK);
            if (inode == null) {
                continue;
            }
            if (inode.isDirectory()) {
                check.checkDirectory(inode, (key, e) -> { });
            } else {
                check.checkNonDirectory(inode);
            }
        }
        shared.report(ctx);
    }

    /** One problem per run of overlapping claims that contains a shared block. */
    private void report(Context ctx) {
        owners.sort(Comparator.comparingLong(Owner::start).thenComparingLong(Owner::owner));
        int i = 0;
        while (i < owners.size()) {
            long from = owners.get(i).start();
            long to = owners.get(i).end();
            int j = i + 1;
            while (j < owners.size() && owners.get(j).start() < to) {
                to = Math.max(to, owners.get(j).end());
                j++;
            }
            StringBuilder who = new StringBuilder();
            for (int k = i; k < j && k < i + OWNERS_LISTED; k++) {
                who.append(k > i ? "; " : "").append(owners.get(k).describe());
            }
            if (j - i > OWNERS_LISTED) {
                who.append("; and ").append(j - i - OWNERS_LISTED).append(" more");
            }
            String what = to - from == 1 ? "block " + from + " is" : "blocks " + from + ".." + (to - 1) + " are";
            ctx.report(Problem.BLOCK_TWICE, from, what + " used more than once, by: " + who);
            i = j;
        }
        // Blocks the second walk did not meet again (it walks what the first loaded): still report them.
        for (long b = use.shared.nextSetAndNot(seen, 0); b >= 0; b = use.shared.nextSetAndNot(seen, b + 1)) {
            ctx.report(Problem.BLOCK_TWICE, b, "block " + b + " is used more than once");
        }
    }
}
