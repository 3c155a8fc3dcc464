package io.concord.fsck;

import io.concord.errors.CorruptBlockException;
import io.concord.format.BlockType;
import io.concord.format.BtreeNode;
import java.nio.ByteBuffer;

/**
 * Walks one inode's B+tree (root in the fork, other nodes in blocks) and hands each leaf entry to
 * a visitor in key order, checking on the way what {@code Btree} promises: every node block lies
 * in a data area, is a sound tree node owned by this inode, one level below its parent and not
 * empty; keys ascend within a node (the decoder checks that) and each child's keys lie in the
 * range its parent gives it: child i of an internal node holds keys in [key i, key i+1), child 0
 * everything below key 1 (its own key 0 may be lower than its range after deletions).
 *
 * <p>A node block claimed before (by another inode, or twice in this tree) is counted but not
 * entered: the claims report it, and entering could loop.
 */
final class TreeWalk {
    /** Receives leaf entries in key order. */
    interface Leaf {
        void entry(long key, byte[] value);
    }

    private final Context ctx;
    private final Claims claims;
    private final long owner;
    private final Leaf leaf;
    private long nodeBlocks;

    private TreeWalk(Context ctx, Claims claims, long owner, Leaf leaf) {
        this.ctx = ctx;
        this.claims = claims;
        this.owner = owner;
        this.leaf = leaf;
    }

    /**
     * Walks the tree rooted in {@code fork}; leaf keys must lie in [lo, hi). Returns the number of
     * node blocks the tree points at (for the inode's block count).
     */
    static long walk(Context ctx, Claims claims, long owner, byte[] fork, long lo, long hi, Leaf leaf) {
        BtreeNode root;
        try {
            root = BtreeNode.decodeBody(ByteBuffer.wrap(fork), 0, fork.length, owner);
        } catch (CorruptBlockException e) {
            ctx.report(Problem.TREE, owner, "the tree root in inode " + owner + " does not decode: " + detail(e));
            return 0;
        }
        if (!root.isLeaf() && root.count() == 0) {
            ctx.report(Problem.TREE, owner, "the tree root in inode " + owner + " is an internal node with no children");
        }
        TreeWalk w = new TreeWalk(ctx, claims, owner, leaf);
        w.node(root, owner, lo, hi);
        return w.nodeBlocks;
    }

    /** Walks {@code node}, stored at {@code where} (the inode's own block for the root). */
    private void node(BtreeNode node, long where, long lo, long hi) {
        String name = where == owner ? "the tree root in inode " + owner : "tree node " + where + " of inode " + owner;
        if (node.isLeaf()) {
            for (int i = 0; i < node.count(); i++) {
                long key = node.keys()[i];
                if (key < lo || key >= hi) {
                    ctx.report(Problem.TREE, where, name + " holds key " + key + " outside its range [" + lo + ", " + hi + ")");
                    continue;
                }
                leaf.entry(key, node.values()[i]);
            }
            return;
        }
        for (int i = 0; i < node.count(); i++) {
            long key = node.keys()[i];
            if (i > 0 && (key <= lo || key >= hi)) {
                ctx.report(Problem.TREE, where, name + " separates its children at key " + key + ", outside its range [" + lo + ", " + hi + ")");
            }
            long childLo = i == 0 ? lo : Math.max(lo, key);
            long childHi = i + 1 < node.count() ? Math.min(hi, node.keys()[i + 1]) : hi;
            child(node, name, where, i, childLo, childHi);
        }
    }

    private void child(BtreeNode parent, String parentName, long parentWhere, int i, long lo, long hi) {
        long block = parent.children()[i];
        if (!ctx.geometry().inDataArea(block, 1)) {
            ctx.report(Problem.BAD_POINTER, parentWhere, parentName + " points at block " + block + " for child " + i + ", which is in "
                    + ctx.geometry().describe(block) + ", not a data area");
            return;
        }
        nodeBlocks++;
        if (!claims.claim(block, 1, owner, Claims.Role.TREE_NODE)) {
            return;
        }
        BlockVerdict v = ctx.verdict(block, BlockType.BTREE_NODE, "tree node " + block + " (child " + i + " of " + parentName + ")",
                Problem.TREE);
        if (v == null || !v.usable()) {
            return;
        }
        long nodeOwner = BtreeNode.ownerOf(v.block());
        if (nodeOwner != owner) {
            ctx.report(Problem.TREE, block, "tree node " + block + " in the tree of inode " + owner + " says it belongs to inode " + nodeOwner);
            return;
        }
        BtreeNode child;
        try {
            child = BtreeNode.decodeBody(v.block(), BtreeNode.BLOCK_BODY_OFFSET, BtreeNode.blockCapacity(ctx.blockSize()), block);
        } catch (CorruptBlockException e) {
            ctx.report(Problem.TREE, block, "tree node " + block + " of inode " + owner + " does not decode: " + detail(e));
            return;
        }
        if (child.level() != parent.level() - 1) {
            ctx.report(Problem.TREE, block, "tree node " + block + " of inode " + owner + " is at level " + child.level() + " below a node at level "
                    + parent.level());
            return;
        }
        if (child.count() == 0) {
            ctx.report(Problem.TREE, block, "tree node " + block + " of inode " + owner + " is empty (an emptied node must be freed)");
        }
        node(child, block, lo, hi);
    }

    /** The exception's message without the "corrupt metadata block N: " prefix it carries. */
    static String detail(CorruptBlockException e) {
        String m = e.getMessage();
        int at = m.indexOf(": ");
        return at >= 0 ? m.substring(at + 2) : m;
    }
}
