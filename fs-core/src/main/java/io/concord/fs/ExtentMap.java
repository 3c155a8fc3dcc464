package io.concord.fs;

import io.concord.format.Extent;
import io.concord.format.Inode;
import java.util.ArrayList;
import java.util.List;

/**
 * A file's map from logical to physical blocks: extents in the file's B+tree, keyed by first
 * logical block. Unmapped ranges are holes; {@link Extent#UNWRITTEN} extents (from fallocate)
 * are allocated but read as zeros until written.
 *
 * <p>Invariant: extents never overlap, and two neighbours that are contiguous both logically and
 * physically with the same flags are one extent (so a file written sequentially has few extents).
 */
final class ExtentMap {
    private final Btree tree;

    ExtentMap(Btree tree) {
        this.tree = tree;
    }

    /** The extent holding logical block {@code block}, or null in a hole. */
    Extent find(Inode inode, long block) {
        Btree.Entry e = tree.floor(inode, block);
        if (e == null) {
            return null;
        }
        Extent x = Extent.decode(e.key(), e.value(), inode.number());
        return block < x.end() ? x : null;
    }

    /** Extents that overlap [from, to), in order. */
    List<Extent> overlapping(Inode inode, long from, long to) {
        List<Extent> out = new ArrayList<>();
        Extent first = find(inode, from);
        if (first != null) {
            out.add(first);
        }
        long scanFrom = first != null ? first.end() : from;
        if (scanFrom < to) {
            tree.scan(inode, scanFrom, (k, v) -> {
                if (k >= to) {
                    return false;
                }
                out.add(Extent.decode(k, v, inode.number()));
                return true;
            });
        }
        return out;
    }

    /** The last extent that starts before {@code block} (it may reach past it), or null. */
    Extent before(Inode inode, long block) {
        if (block <= 0) {
            return null;
        }
        Btree.Entry e = tree.floor(inode, block - 1);
        return e == null ? null : Extent.decode(e.key(), e.value(), inode.number());
    }

    /** The first extent that ends after {@code block} (holding it or after it), or null. */
    Extent atOrAfter(Inode inode, long block) {
        Extent x = find(inode, block);
        if (x != null) {
            return x;
        }
        Extent[] next = new Extent[1];
        tree.scan(inode, block, (k, v) -> {
            next[0] = Extent.decode(k, v, inode.number());
            return false;
        });
        return next[0];
    }

    /** Maps a range known to be a hole; joins the left neighbour when contiguous. */
    Inode add(Inode inode, Extent x) {
        if (x.logical() > 0) {
            Extent left = find(inode, x.logical() - 1);
            if (left != null && left.end() == x.logical() && left.physical() + left.length() == x.physical()
                    && left.flags() == x.flags() && (long) left.length() + x.length() <= Integer.MAX_VALUE) {
                Extent joined = new Extent(left.logical(), left.physical(), left.length() + x.length(), left.flags());
                return tree.put(inode, joined.logical(), joined.encode());
            }
        }
        return tree.put(inode, x.logical(), x.encode());
    }

    /**
     * Unmaps [from, to): extents inside are removed, extents across an edge are cut. The physical
     * runs that were unmapped are added to {@code unmapped} (the caller frees them).
     */
    Inode remove(Inode inode, long from, long to, List<Run> unmapped) {
        Inode result = inode;
        for (Extent x : overlapping(inode, from, to)) {
            result = tree.remove(result, x.logical());
            long cutFrom = Math.max(from, x.logical());
            long cutTo = Math.min(to, x.end());
            unmapped.add(new Run(x.physical() + (cutFrom - x.logical()), (int) (cutTo - cutFrom)));
            if (x.logical() < cutFrom) {
                result = tree.put(result, x.logical(), new Extent(x.logical(), x.physical(), (int) (cutFrom - x.logical()), x.flags()).encode());
            }
            if (cutTo < x.end()) {
                result = tree.put(result, cutTo, new Extent(cutTo, x.physical() + (cutTo - x.logical()), (int) (x.end() - cutTo), x.flags()).encode());
            }
        }
        return result;
    }

    /** Marks the unwritten parts of [from, to) as written (they are about to hold data). */
    Inode markWritten(Inode inode, long from, long to) {
        Inode result = inode;
        for (Extent x : overlapping(inode, from, to)) {
            if (!x.unwritten()) {
                continue;
            }
            List<Run> ignored = new ArrayList<>();
            long cutFrom = Math.max(from, x.logical());
            long cutTo = Math.min(to, x.end());
            result = remove(result, cutFrom, cutTo, ignored);
            result = add(result, new Extent(cutFrom, x.physical() + (cutFrom - x.logical()), (int) (cutTo - cutFrom), 0));
        }
        return result;
    }

    void forEach(Inode inode, java.util.function.Consumer<Extent> action) {
        tree.scan(inode, 0, (k, v) -> {
            action.accept(Extent.decode(k, v, inode.number()));
            return true;
        });
    }
}
