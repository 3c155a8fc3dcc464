package io.concord.fs;

import io.concord.format.BlockType;
import io.concord.format.BtreeNode;
import io.concord.format.Inode;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * The B+tree behind every directory and every file's extent map. Its root lives in the inode's
 * fork, so a small directory or a file of a few extents costs no block beyond its inode; it grows
 * by pushing the root's contents down into a block and keeps growing by splits, like ext4's
 * extent tree. Keys are unique non-negative longs; values are small byte arrays.
 *
 * <p>Deletion removes an emptied node from its parent and frees it, so a tree that shrinks gives
 * its blocks back; nodes are not merged when merely underfull (as in XFS, a later insert refills
 * them). Child i of an internal node holds exactly the keys in [key i, key i+1), key 0 being 0;
 * after deletions a child's smallest key may be above its bound, which is why {@code floor} falls
 * back to the left sibling.
 *
 * <p>Callers hold the filesystem lock and the inode's glock; every change returns the updated
 * inode (new fork, block count), which the caller writes back.
 */
final class Btree {
    /** A key and its value. */
    record Entry(long key, byte[] value) {
    }

    /** Visits entries in key order; returns false to stop. */
    interface Visitor {
        boolean visit(long key, byte[] value);
    }

    /** A node split: the parent must add {@code right} under {@code key}; {@code rootLeft} is set when the root split. */
    private record Split(long key, long block, BtreeNode rootLeft) {
    }

    private final MetadataStore store;
    private final Allocator allocator;
    private final int blockCapacity;

    Btree(MetadataStore store, Allocator allocator) {
        this.store = store;
        this.allocator = allocator;
        this.blockCapacity = BtreeNode.blockCapacity(store.blockSize());
    }

    // ---- reading ----

    byte[] get(Inode inode, long key) {
        Entry e = floor(inode, key);
        return e != null && e.key() == key ? e.value() : null;
    }

    /** The entry with the greatest key <= {@code key}, or null. */
    Entry floor(Inode inode, long key) {
        return floor(inode.number(), root(inode), key);
    }

    private Entry floor(long owner, BtreeNode node, long key) {
        if (node.isLeaf()) {
            int i = Arrays.binarySearch(node.keys(), key);
            int at = i >= 0 ? i : -i - 2;
            return at >= 0 ? new Entry(node.keys()[at], node.values()[at]) : null;
        }
        for (int c = childFor(node, key); c >= 0; c--) {
            Entry e = floor(owner, child(owner, node, c), key);
            if (e != null) {
                return e;
            }
        }
        return null;
    }

    /** Visits entries with keys >= {@code from} in order; returns false if the visitor stopped. */
    boolean scan(Inode inode, long from, Visitor visitor) {
        return scan(inode.number(), root(inode), from, visitor);
    }

    private boolean scan(long owner, BtreeNode node, long from, Visitor visitor) {
        if (node.isLeaf()) {
            int i = Arrays.binarySearch(node.keys(), from);
            for (int at = i >= 0 ? i : -i - 1; at < node.count(); at++) {
                if (!visitor.visit(node.keys()[at], node.values()[at])) {
                    return false;
                }
            }
            return true;
        }
        for (int c = Math.max(0, childFor(node, from)); c < node.count(); c++) {
            if (!scan(owner, child(owner, node, c), from, visitor)) {
                return false;
            }
        }
        return true;
    }

    /** Every block of the tree's nodes (not the root, which is in the inode). */
    void forEachNodeBlock(Inode inode, LongConsumer action) {
        forEachNodeBlock(inode.number(), root(inode), action);
    }

    private void forEachNodeBlock(long owner, BtreeNode node, LongConsumer action) {
        if (node.isLeaf()) {
            return;
        }
        for (int c = 0; c < node.count(); c++) {
            action.accept(node.children()[c]);
            forEachNodeBlock(owner, child(owner, node, c), action);
        }
    }

    // ---- changing ----

    /** Inserts or replaces the value of {@code key}; returns the updated inode. */
    Inode put(Inode inode, long key, byte[] value) {
        Edit edit = new Edit(inode);
        BtreeNode root = root(inode);
        Split s = insert(edit, root, 0, key, value);
        if (s != null) {
            // The root's content overflowed into two nodes: the root becomes their parent.
            BtreeNode left = s.rootLeft();
            long leftBlock = allocNode(edit);
            writeBlock(edit, leftBlock, left);
            edit.root = new BtreeNode(left.level() + 1, new long[] {0, s.key()}, new long[] {leftBlock, s.block()}, null);
        }
        return edit.finish();
    }

    /** Removes {@code key} if present; returns the updated inode. */
    Inode remove(Inode inode, long key) {
        Edit edit = new Edit(inode);
        BtreeNode root = root(inode);
        BtreeNode after = delete(edit, root, key);
        if (after != null) {
            edit.root = after.count() == 0 ? BtreeNode.emptyLeaf() : after;
        }
        return edit.finish();
    }

    /** Frees every node block; returns the inode with an empty root. */
    Inode clear(Inode inode) {
        Edit edit = new Edit(inode);
        List<Long> blocks = new ArrayList<>();
        forEachNodeBlock(inode, blocks::add);
        for (long b : blocks) {
            freeNode(edit, b);
        }
        edit.root = BtreeNode.emptyLeaf();
        return edit.finish();
    }

    /** Mutable state of one change: the new root and the change in blocks held. */
    private final class Edit {
        final Inode inode;
        BtreeNode root;
        long blocksDelta;

        Edit(Inode inode) {
            this.inode = inode;
        }

        Inode finish() {
            Inode result = inode;
            if (root != null) {
                ByteBuffer fork = ByteBuffer.allocate(inode.fork().length);
                root.encodeBody(fork, 0);
                result = result.withFork(fork.array(), inode.flags() & ~Inode.FLAG_INLINE_DATA);
            }
            return blocksDelta == 0 ? result : result.withBlocks(result.blocks() + blocksDelta);
        }
    }

    /**
     * Inserts into {@code node} stored at {@code block} (0 = the root, in the fork). Returns null
     * when done, or a {@link Split} when the node split and its parent must add the right half.
     */
    private Split insert(Edit edit, BtreeNode node, long block, long key, byte[] value) {
        BtreeNode updated;
        if (node.isLeaf()) {
            updated = withLeafEntry(node, key, value);
        } else {
            int c = Math.max(0, childFor(node, key));
            long childBlock = node.children()[c];
            Split s = insert(edit, child(edit.inode.number(), node, c), childBlock, key, value);
            if (s == null) {
                return null;
            }
            updated = withChild(node, c + 1, s.key(), s.block());
        }
        int capacity = block == 0 ? edit.inode.fork().length : blockCapacity;
        if (updated.encodedSize() <= capacity) {
            store(edit, block, updated);
            return null;
        }
        BtreeNode[] halves = split(updated);
        long rightBlock = allocNode(edit);
        writeBlock(edit, rightBlock, halves[1]);
        if (block == 0) {
            return new Split(halves[1].keys()[0], rightBlock, halves[0]);
        }
        writeBlock(edit, block, halves[0]);
        return new Split(halves[1].keys()[0], rightBlock, null);
    }

    /** Deletes from {@code node}; returns the node as it now is (null if unchanged). */
    private BtreeNode delete(Edit edit, BtreeNode node, long key) {
        if (node.isLeaf()) {
            int i = Arrays.binarySearch(node.keys(), key);
            if (i < 0) {
                return null;
            }
            return new BtreeNode(0, removeAt(node.keys(), i), null, removeAt(node.values(), i));
        }
        // Child c holds exactly the keys in [keys[c], keys[c+1]): a key can be in no other child.
        int c = childFor(node, key);
        long childBlock = node.children()[c];
        BtreeNode after = delete(edit, child(edit.inode.number(), node, c), key);
        if (after == null) {
            return null;
        }
        if (after.count() == 0) {
            freeNode(edit, childBlock);
            BtreeNode parent = new BtreeNode(node.level(), removeAt(node.keys(), c), removeAt(node.children(), c), null);
            if (parent.count() > 0 && c == 0) {
                parent.keys()[0] = 0; // the new first child now takes every key below keys[1]
            }
            return parent;
        }
        writeBlock(edit, childBlock, after);
        return null;
    }

    private void store(Edit edit, long block, BtreeNode node) {
        if (block == 0) {
            edit.root = node;
        } else {
            writeBlock(edit, block, node);
        }
    }

    private void writeBlock(Edit edit, long block, BtreeNode node) {
        ByteBuffer image = store.newImage();
        node.encodeBlock(image, block, edit.inode.number(), store.journalId(), store.fsId());
        store.write(block, image);
    }

    private long allocNode(Edit edit) {
        long b = allocator.allocate(edit.inode.number() + 1, 1).start();
        edit.blocksDelta++;
        return b;
    }

    private void freeNode(Edit edit, long block) {
        store.forget(block);
        allocator.free(new Run(block, 1), false);
        edit.blocksDelta--;
    }

    // Decoded nodes are shared (MetadataStore#decoded): no node's arrays are changed in place.

    private BtreeNode root(Inode inode) {
        byte[] fork = inode.fork();
        return store.decoded(inode.number(), fork, null, -1, () -> BtreeNode.decodeBody(ByteBuffer.wrap(fork), 0, fork.length, inode.number()));
    }

    private BtreeNode child(long owner, BtreeNode node, int c) {
        long b = node.children()[c];
        return store.decoded(b, store.image(b, BlockType.BTREE_NODE), BlockType.BTREE_NODE, owner,
                image -> BtreeNode.decodeBlock(image, b, owner, store.fsId()));
    }

    /** The child whose range holds {@code key}: the last whose lower bound is <= key (0 if none). */
    private static int childFor(BtreeNode node, long key) {
        int i = Arrays.binarySearch(node.keys(), key);
        return Math.max(0, i >= 0 ? i : -i - 2);
    }

    private static BtreeNode withLeafEntry(BtreeNode leaf, long key, byte[] value) {
        int i = Arrays.binarySearch(leaf.keys(), key);
        if (i >= 0) {
            byte[][] values = leaf.values().clone();
            values[i] = value;
            return new BtreeNode(0, leaf.keys(), null, values);
        }
        int at = -i - 1;
        return new BtreeNode(0, insertAt(leaf.keys(), at, key), null, insertAt(leaf.values(), at, value));
    }

    private static BtreeNode withChild(BtreeNode node, int at, long key, long child) {
        return new BtreeNode(node.level(), insertAt(node.keys(), at, key), insertAt(node.children(), at, child), null);
    }

    /** Splits an overfull node into two halves of about equal encoded size. */
    private static BtreeNode[] split(BtreeNode node) {
        int n = node.count();
        int cut;
        if (node.isLeaf()) {
            int total = node.encodedSize();
            int acc = BtreeNode.BODY_HEADER;
            cut = 0;
            while (cut < n - 1 && acc + 10 + node.values()[cut].length <= total / 2) {
                acc += 10 + node.values()[cut].length;
                cut++;
            }
            cut = Math.max(1, cut);
            return new BtreeNode[] {
                new BtreeNode(0, Arrays.copyOfRange(node.keys(), 0, cut), null, Arrays.copyOfRange(node.values(), 0, cut)),
                new BtreeNode(0, Arrays.copyOfRange(node.keys(), cut, n), null, Arrays.copyOfRange(node.values(), cut, n))
            };
        }
        cut = n / 2;
        return new BtreeNode[] {
            new BtreeNode(node.level(), Arrays.copyOfRange(node.keys(), 0, cut), Arrays.copyOfRange(node.children(), 0, cut), null),
            new BtreeNode(node.level(), Arrays.copyOfRange(node.keys(), cut, n), Arrays.copyOfRange(node.children(), cut, n), null)
        };
    }

    private static long[] insertAt(long[] a, int at, long v) {
        long[] r = new long[a.length + 1];
        System.arraycopy(a, 0, r, 0, at);
        r[at] = v;
        System.arraycopy(a, at, r, at + 1, a.length - at);
        return r;
    }

    private static byte[][] insertAt(byte[][] a, int at, byte[] v) {
        byte[][] r = new byte[a.length + 1][];
        System.arraycopy(a, 0, r, 0, at);
        r[at] = v;
        System.arraycopy(a, at, r, at + 1, a.length - at);
        return r;
    }

    private static long[] removeAt(long[] a, int at) {
        long[] r = new long[a.length - 1];
        System.arraycopy(a, 0, r, 0, at);
        System.arraycopy(a, at + 1, r, at, a.length - at - 1);
        return r;
    }

    private static byte[][] removeAt(byte[][] a, int at) {
        byte[][] r = new byte[a.length - 1][];
        System.arraycopy(a, 0, r, 0, at);
        System.arraycopy(a, at + 1, r, at, a.length - at - 1);
        return r;
    }
}
