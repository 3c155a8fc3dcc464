package io.concord.fs;

import io.concord.device.BlockDevice;
import io.concord.errors.FsException;
import io.concord.errors.FsException.Kind;
import io.concord.format.Extent;
import io.concord.format.Inode;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * File contents: reads and writes through the extent map, allocation on write, truncation,
 * fallocate and SEEK_DATA/SEEK_HOLE.
 *
 * <p>Data goes to the device in place, at once, and is never journaled ({@code data=ordered}):
 * a write that allocates blocks marks the running transaction so that the journal flushes the
 * device before committing the metadata that points at them. Blocks are allocated only from free
 * space whose freeing is already durable, so an overwrite can never land in a block that a crash
 * would hand back to its old owner.
 *
 * <p>Callers hold the filesystem lock exclusively (shared for reads) and the inode's glock.
 */
final class FileData {
    /** fallocate(2) mode bits. */
    static final int FALLOC_FL_KEEP_SIZE = 0x01;
    static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    static final int FALLOC_FL_ZERO_RANGE = 0x10;
    /** Extents handled per transaction when freeing a large file, so one step fits the journal. */
    private static final int EXTENTS_PER_STEP = 32;

    private final MetadataStore store;
    private final BlockDevice device;
    private final Allocator allocator;
    private final ExtentMap extents;
    private final int bs;
    private final long maxSize;

    FileData(MetadataStore store, BlockDevice device, Allocator allocator, ExtentMap extents) {
        this.store = store;
        this.device = device;
        this.allocator = allocator;
        this.extents = extents;
        this.bs = store.blockSize();
        this.maxSize = (long) bs << 32;
    }

    long maxFileSize() {
        return maxSize;
    }

    /** Reads up to {@code dst.remaining()} bytes at {@code offset}; returns how many (0 at EOF). */
    int read(Inode inode, long offset, ByteBuffer dst) {
        if (offset >= inode.size() || !dst.hasRemaining()) {
            return 0;
        }
        int length = (int) Math.min(dst.remaining(), inode.size() - offset);
        if (inode.hasInlineData()) {
            dst.put(inode.fork(), (int) offset, length);
            return length;
        }
        int start = dst.position();
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            long block = pos / bs;
            Extent x = extents.atOrAfter(inode, block);
            long runEnd;
            if (x == null || x.logical() > block) {
                runEnd = x == null ? end : Math.min(end, x.logical() * bs);
                zero(dst, start + (int) (pos - offset), (int) (runEnd - pos));
            } else {
                runEnd = Math.min(end, x.end() * bs);
                if (x.unwritten()) {
                    zero(dst, start + (int) (pos - offset), (int) (runEnd - pos));
                } else {
                    long physical = x.physical() * bs + (pos - x.logical() * bs);
                    ByteBuffer part = dst.duplicate().position(start + (int) (pos - offset)).limit(start + (int) (runEnd - offset));
                    device.read(physical, part);
                }
            }
            pos = runEnd;
        }
        dst.position(start + length);
        return length;
    }

    /** One block's place on the device, and whether its old bytes must be kept around the write. */
    private record Mapped(long logical, long physical, boolean keepOld) {
    }

    /** Writes all of {@code src} at {@code offset}; returns the updated inode (size, blocks). */
    Inode write(Inode inode, long offset, ByteBuffer src) {
        int length = src.remaining();
        if (length == 0) {
            return inode;
        }
        if (offset < 0 || offset + length > maxSize || offset + length < 0) {
            throw new FsException(Kind.FILE_TOO_LARGE, "write past the largest file size (" + maxSize + " bytes)");
        }
        Inode cur = inode;
        long first = offset / bs;
        long last = (offset + length - 1) / bs;
        List<Mapped> mapped = new ArrayList<>();
        long b = first;
        while (b <= last) {
            Extent x = extents.atOrAfter(cur, b);
            if (x == null || x.logical() > b) {
                long holeEnd = x == null ? last + 1 : Math.min(last + 1, x.logical());
                long goal = goalFor(cur, b);
                Run r = allocator.allocate(goal, (int) Math.min(holeEnd - b, Integer.MAX_VALUE));
                Inode added = extents.add(cur, new Extent(b, r.start(), r.length(), 0)); // may have added tree blocks
                cur = added.withBlocks(added.blocks() + r.length());
                store.orderedData();
                for (int i = 0; i < r.length(); i++) {
                    mapped.add(new Mapped(b + i, r.start() + i, false));
                }
                b += r.length();
            } else {
                long to = Math.min(last + 1, x.end());
                if (x.unwritten()) {
                    cur = extents.markWritten(cur, b, to);
                    store.orderedData();
                }
                for (long i = b; i < to; i++) {
                    mapped.add(new Mapped(i, x.physical() + (i - x.logical()), !x.unwritten()));
                }
                b = to;
            }
        }
        writeMapped(mapped, offset, src);
        long newSize = Math.max(cur.size(), offset + length);
        return cur.withSize(newSize);
    }

    /** Writes the data over physically contiguous groups of mapped blocks, in as few I/Os as it can. */
    private void writeMapped(List<Mapped> mapped, long offset, ByteBuffer src) {
        long end = offset + src.remaining();
        int i = 0;
        while (i < mapped.size()) {
            int j = i + 1;
            while (j < mapped.size() && mapped.get(j).physical() == mapped.get(j - 1).physical() + 1) {
                j++;
            }
            Mapped head = mapped.get(i);
            Mapped tail = mapped.get(j - 1);
            long groupStart = head.logical() * bs;
            long groupEnd = (tail.logical() + 1) * bs;
            if (offset <= groupStart && end >= groupEnd) {
                // Whole blocks: straight from the caller's buffer, no staging copy.
                ByteBuffer whole = src.duplicate();
                whole.position(src.position() + (int) (groupStart - offset)).limit(src.position() + (int) (groupEnd - offset));
                device.write(head.physical() * bs, whole);
                i = j;
                continue;
            }
            ByteBuffer buf = ByteBuffer.allocate((int) (groupEnd - groupStart));
            if (offset > groupStart && head.keepOld()) {
                device.read(head.physical() * bs, buf.duplicate().limit(bs));
            }
            if (end < groupEnd && tail.keepOld() && (j - 1 > i || offset <= groupStart)) {
                device.read(tail.physical() * bs, buf.duplicate().position(buf.capacity() - bs));
            }
            long from = Math.max(offset, groupStart);
            long to = Math.min(end, groupEnd);
            ByteBuffer part = src.duplicate();
            part.position(src.position() + (int) (from - offset)).limit(src.position() + (int) (to - offset));
            buf.put((int) (from - groupStart), part, part.position(), part.remaining());
            device.write(head.physical() * bs, buf.clear());
            i = j;
        }
        src.position(src.limit());
    }

    /** Near the previous block's physical place, so that a growing file stays contiguous. */
    private long goalFor(Inode inode, long block) {
        if (block > 0) {
            Extent prev = extents.find(inode, block - 1);
            if (prev != null) {
                return prev.physical() + (block - prev.logical());
            }
        }
        return inode.number() + 1;
    }

    /**
     * Sets the size. Shrinking unmaps and frees the blocks past the new end, a bounded number of
     * extents per step; {@code between} runs between steps (the caller commits there so one step
     * always fits the journal). Growing only records the size: the new part is a hole.
     */
    Inode truncate(Inode inode, long size, Runnable between, java.util.function.Consumer<Inode> save) {
        if (size < 0 || size > maxSize) {
            throw new FsException(size < 0 ? Kind.INVALID_ARGUMENT : Kind.FILE_TOO_LARGE, "size " + size + " out of range");
        }
        if (inode.hasInlineData()) {
            throw new FsException(Kind.INVALID_ARGUMENT, "inode " + inode.number() + " keeps its data inline and cannot be truncated");
        }
        if (size >= inode.size()) {
            return inode.withSize(size);
        }
        Inode cur = unmapFrom(inode, (size + bs - 1) / bs, size, between, save);
        // Zero the cut block's tail only now, after every metadata step has succeeded.
        zeroTail(cur, size);
        return cur;
    }

    /** Frees every data block of the inode, step by step (for deletion). */
    /**
     * True when {@link #freeAll} frees all of {@code inode} in one step, never calling its
     * {@code between}: it has at most one step's worth of extents (every extent holds a block).
     */
    boolean freesInOneStep(Inode inode) {
        return inode.hasInlineData() || inode.blocks() <= EXTENTS_PER_STEP;
    }

    Inode freeAll(Inode inode, Runnable between, java.util.function.Consumer<Inode> save) {
        if (inode.hasInlineData()) {
            return inode;
        }
        return unmapFrom(inode, 0, 0, between, save);
    }

    /**
     * Unmaps everything from {@code fromBlock} on, a bounded number of extents per step, from the
     * end of the file backwards, and ends at {@code finalSize}. After each step the saved size is
     * the step's cut point, so every step (each may be committed on its own) leaves a file that is
     * a clean, shorter version of itself: no block past its size stays mapped to old data that a
     * later growth would show again.
     */
    private Inode unmapFrom(Inode inode, long fromBlock, long finalSize, Runnable between, java.util.function.Consumer<Inode> save) {
        Inode cur = inode;
        long cutEnd = Long.MAX_VALUE / 2;
        while (true) {
            long stepStart = cutEnd;
            int taken = 0;
            Extent x = extents.before(cur, cutEnd);
            while (x != null && x.end() > fromBlock && taken < EXTENTS_PER_STEP) {
                stepStart = Math.max(fromBlock, x.logical());
                taken++;
                x = extents.before(cur, x.logical());
            }
            boolean last = x == null || x.end() <= fromBlock;
            if (taken > 0) {
                cur = unmapAndFree(cur, stepStart, cutEnd);
            }
            long sizeNow = last ? finalSize : Math.min(cur.size(), stepStart * bs);
            cur = cur.withSize(Math.min(cur.size(), Math.max(sizeNow, finalSize)));
            if (last) {
                return cur.withSize(finalSize);
            }
            save.accept(cur);
            between.run();
            cutEnd = stepStart;
        }
    }

    private Inode unmapAndFree(Inode inode, long from, long to) {
        List<Run> runs = new ArrayList<>();
        Inode cur = extents.remove(inode, from, to, runs);
        long freed = 0;
        for (Run r : runs) {
            allocator.free(r, false);
            freed += r.length();
        }
        return cur.withBlocks(cur.blocks() - freed);
    }

    /** Zeroes the bytes of the last partial block past {@code size}, so that growing later reads zeros. */
    private void zeroTail(Inode inode, long size) {
        int within = (int) (size % bs);
        if (within == 0) {
            return;
        }
        Extent x = extents.find(inode, size / bs);
        if (x == null || x.unwritten()) {
            return;
        }
        long physical = x.physical() + (size / bs - x.logical());
        ByteBuffer block = ByteBuffer.allocate(bs);
        device.read(physical * bs, block);
        zero(block, within, bs - within);
        device.write(physical * bs, block.clear());
    }

    /** fallocate(2): allocate (unwritten), punch a hole, or zero a range. */
    Inode fallocate(Inode inode, int mode, long offset, long length) {
        if (offset < 0 || length <= 0) {
            throw new FsException(Kind.INVALID_ARGUMENT, "fallocate range " + offset + "+" + length);
        }
        if (offset + length > maxSize || offset + length < 0) {
            throw new FsException(Kind.FILE_TOO_LARGE, "fallocate past the largest file size");
        }
        boolean keepSize = (mode & FALLOC_FL_KEEP_SIZE) != 0;
        int op = mode & ~FALLOC_FL_KEEP_SIZE;
        if (inode.hasInlineData()) {
            throw new FsException(Kind.NOT_SUPPORTED, "fallocate on inline data");
        }
        Inode cur = inode;
        long end = offset + length;
        if (op == FALLOC_FL_PUNCH_HOLE) {
            if (!keepSize) {
                throw new FsException(Kind.NOT_SUPPORTED, "PUNCH_HOLE needs KEEP_SIZE");
            }
            // Up to the end of the last block, so that a partial last block inside the hole is freed too.
            long fileEnd = (cur.size() + bs - 1) / bs * bs;
            return clearRange(cur, offset, Math.min(end, fileEnd), false);
        }
        if (op == FALLOC_FL_ZERO_RANGE) {
            cur = clearRange(cur, offset, end, true);
        } else if (op == 0) {
            cur = allocateUnwritten(cur, offset / bs, (end + bs - 1) / bs);
        } else {
            throw new FsException(Kind.NOT_SUPPORTED, "fallocate mode 0x" + Integer.toHexString(mode));
        }
        return !keepSize && end > cur.size() ? cur.withSize(end) : cur;
    }

    /** Zeroes partial edge blocks in place and unmaps whole blocks; {@code reallocate} maps them unwritten again. */
    private Inode clearRange(Inode inode, long from, long to, boolean reallocate) {
        if (from >= to) {
            return inode;
        }
        long firstWhole = (from + bs - 1) / bs;
        long endWhole = to / bs;
        Inode cur = inode;
        if (endWhole > firstWhole) {
            cur = unmapAndFree(cur, firstWhole, endWhole);
            if (reallocate) {
                cur = allocateUnwritten(cur, firstWhole, endWhole);
            }
        }
        // The partial edge blocks are zeroed in place last, once nothing above can fail.
        zeroPartial(cur, from, Math.min(to, firstWhole * bs));
        if (endWhole >= firstWhole) {
            zeroPartial(cur, Math.max(from, endWhole * bs), to);
        }
        return cur;
    }

    private void zeroPartial(Inode inode, long from, long to) {
        if (from >= to) {
            return;
        }
        Extent x = extents.find(inode, from / bs);
        if (x == null || x.unwritten()) {
            return;
        }
        long physical = (x.physical() + (from / bs - x.logical())) * bs + from % bs;
        device.write(physical, ByteBuffer.allocate((int) (to - from)));
    }

    private Inode allocateUnwritten(Inode inode, long from, long to) {
        Inode cur = inode;
        long b = from;
        while (b < to) {
            Extent x = extents.atOrAfter(cur, b);
            if (x != null && x.logical() <= b) {
                b = x.end();
                continue;
            }
            long holeEnd = x == null ? to : Math.min(to, x.logical());
            Run r = allocator.allocate(goalFor(cur, b), (int) Math.min(holeEnd - b, Integer.MAX_VALUE));
            Inode added = extents.add(cur, new Extent(b, r.start(), r.length(), Extent.UNWRITTEN)); // may have added tree blocks
            cur = added.withBlocks(added.blocks() + r.length());
            b += r.length();
        }
        return cur;
    }

    /** lseek(2) with SEEK_DATA ({@code data}) or SEEK_HOLE; unwritten extents count as holes. */
    long seek(Inode inode, long offset, boolean data) {
        if (offset < 0) {
            throw new FsException(Kind.INVALID_ARGUMENT, "negative offset");
        }
        if (offset >= inode.size()) {
            throw new FsException(Kind.NO_SUCH_OFFSET, "offset " + offset + " is at or past the end of the file");
        }
        if (inode.hasInlineData()) {
            return data ? offset : inode.size();
        }
        long block = offset / bs;
        while (true) {
            Extent x = extents.atOrAfter(inode, block);
            while (x != null && x.unwritten()) {
                x = extents.atOrAfter(inode, x.end());
            }
            if (data) {
                if (x == null || x.logical() * bs >= inode.size()) {
                    throw new FsException(Kind.NO_SUCH_OFFSET, "no data at or after offset " + offset);
                }
                return Math.max(offset, x.logical() * bs);
            }
            if (x == null || x.logical() > block) {
                return Math.min(inode.size(), Math.max(offset, block * bs));
            }
            block = x.end();
        }
    }

    private static void zero(ByteBuffer b, int at, int length) {
        for (int i = 0; i < length; i++) {
            b.put(at + i, (byte) 0);
        }
    }
}
