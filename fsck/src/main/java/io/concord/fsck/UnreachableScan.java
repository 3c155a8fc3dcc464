package io.concord.fsck;

import io.concord.errors.CorruptBlockException;
import io.concord.format.BlockType;
import io.concord.format.Inode;
import io.concord.format.MetaBlocks;
import java.nio.ByteBuffer;

/**
 * After the namespace walk, the blocks set in a bitmap that nothing reached. First the inodes
 * among them: each is reported (an orphan inode not in an orphan directory) and then checked like
 * any other, so that its own tree, extents and xattr block count as used and are not reported
 * again as leaks. A directory's entries are not followed: the inodes they name are found by this
 * same scan. What is left after that is leaked, reported as runs of consecutive blocks.
 */
final class UnreachableScan {
    private final Context ctx;
    private final BlockUse use;
    private final InodeTable table;
    private final InodeCheck check;

    UnreachableScan(Context ctx, BlockUse use, InodeTable table) {
        this.ctx = ctx;
        this.use = use;
        this.table = table;
        this.check = new InodeCheck(ctx, use);
    }

    void run() {
        LongStack inodes = new LongStack();
        for (long b = use.allocated.nextSetAndNot(use.used, 0); b >= 0; b = use.allocated.nextSetAndNot(use.used, b + 1)) {
            ByteBuffer raw = ctx.read(b);
            if (raw != null && BlockVerdict.of(raw, BlockType.INODE, b, ctx.fsId()).usable()) {
                inodes.push(b);
            }
        }
        // Oldest first reads better; the stack gives them newest first.
        LongStack ordered = new LongStack();
        while (!inodes.isEmpty()) {
            ordered.push(inodes.pop());
        }
        while (!ordered.isEmpty()) {
            unreachable(ordered.pop());
        }
        reportLeaks();
    }

    private void unreachable(long ino) {
        if (table.slot(ino) >= 0) {
            return;
        }
        int slot = table.add(ino);
        table.mark(slot, InodeTable.UNREACHABLE);
        Inode i = check.load(ino, "unreachable inode " + ino, Problem.WRONG_BLOCK);
        if (i == null) {
            return;
        }
        String type = InodeCheck.typeName(i.type());
        table.setLoaded(slot, type != null ? i.type() >> 12 : 0, i.nlink());
        ctx.report(Problem.UNREACHABLE_INODE, ino, "inode " + ino + " (" + (type != null ? type : "unknown type") + ", nlink " + i.nlink() + ", "
                + i.size() + " bytes) is allocated but no directory names it: an orphan inode not in an orphan directory");
        if (i.isDirectory()) {
            check.checkDirectory(i, (key, e) -> { });
        } else {
            check.checkNonDirectory(i);
        }
    }

    private void reportLeaks() {
        Geometry geo = ctx.geometry();
        long b = use.allocated.nextSetAndNot(use.used, 0);
        while (b >= 0) {
            long groupEnd = geo.end(geo.rgrpOf(b));
            long end = b + 1;
            while (end < groupEnd && use.allocated.get(end) && !use.used.get(end)) {
                end++;
            }
            String what = end - b == 1 ? "block " + b + " is" : "blocks " + b + ".." + (end - 1) + " are";
            ctx.report(Problem.LEAK, b, what + " allocated in the bitmap but used by nothing (leaked; " + (end - b == 1 ? "it " : "the first ")
                    + describe(b) + ")");
            b = use.allocated.nextSetAndNot(use.used, end);
        }
    }

    /** What a leaked block looks like, for the message. */
    private String describe(long block) {
        ByteBuffer raw = ctx.read(block);
        if (raw == null) {
            return "cannot be read";
        }
        try {
            BlockType t = MetaBlocks.check(raw, block, ctx.fsId());
            String owned = t == BlockType.BTREE_NODE || t == BlockType.XATTR ? " of inode " + io.concord.format.MetaBlocks.ownerOf(raw) : "";
            return "is " + BlockVerdict.article(t) + owned;
        } catch (CorruptBlockException e) {
            return "holds no sound metadata: file data, or a damaged block";
        }
    }
}
