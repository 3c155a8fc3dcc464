package io.concord.fs;

import io.concord.errors.CorruptBlockException;
import io.concord.errors.FsException;
import io.concord.format.BlockType;
import io.concord.format.BlockHeader;
import io.concord.format.Inode;
import io.concord.format.MetaBlocks;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Instant;

/**
 * Reading, writing, creating and freeing inode blocks. A handle that names an inode the caller
 * has no reason to believe in (a FUSE node id after an unlink elsewhere) is checked against the
 * bitmap and the block's header first, so a stale handle is ESTALE, not corruption.
 */
final class Inodes {
    private final MetadataStore store;
    private final Allocator allocator;
    private final Clock clock;
    private long lastGeneration;

    Inodes(MetadataStore store, Allocator allocator, Clock clock) {
        this.store = store;
        this.allocator = allocator;
        this.clock = clock;
    }

    /** An inode that the filesystem's own structures point at: anything wrong is corruption. */
    Inode read(long number) {
        return decode(number, store.image(number, BlockType.INODE));
    }

    /** Inodes are immutable, so the decoded form of an unchanged image is shared. */
    private Inode decode(long number, ByteBuffer image) {
        return store.decoded(number, image, BlockType.INODE, number, b -> Inode.decode(b, number, store.fsId()));
    }

    /** An inode named by a handle from outside: a missing one is {@code STALE_HANDLE}. */
    Inode readHandle(long number) {
        if (number <= 0 || !allocator.covers(number) || !allocator.isAllocated(number)) {
            throw stale(number);
        }
        ByteBuffer b;
        try {
            b = store.image(number, BlockType.INODE);
        } catch (CorruptBlockException e) {
            if (looksLikeOtherBlock(number)) {
                throw stale(number);
            }
            throw e;
        }
        return decode(number, b);
    }

    /** True when the block is sound metadata of another type (reused), or plain data. */
    private boolean looksLikeOtherBlock(long number) {
        ByteBuffer raw = store.rawRead(number);
        if (BlockHeader.magicOf(raw) != BlockHeader.MAGIC) {
            return true;
        }
        try {
            return MetaBlocks.check(raw, number, store.fsId()) != BlockType.INODE;
        } catch (CorruptBlockException e) {
            return false;
        }
    }

    private static FsException stale(long number) {
        return new FsException(FsException.Kind.STALE_HANDLE, "inode " + number + " no longer exists");
    }

    void write(Inode inode) {
        ByteBuffer image = store.newImage();
        inode.encode(image, store.journalId(), store.fsId());
        store.write(inode.number(), image);
    }

    /**
     * Allocates and writes a new inode near {@code goal}, holding its glock EX in {@code locks}
     * (which may end the attempt to take it: the next attempt then reuses the same block if it
     * is still free).
     */
    Inode create(OperationLocks locks, long goal, int mode, int uid, int gid, long rdev, long parent) {
        long reserved = locks.reservedInode();
        long number = reserved != 0 && allocator.allocInodeAt(reserved) ? reserved : allocator.allocInode(goal);
        locks.newInode(number);
        Instant now = clock.instant();
        Inode inode = new Inode(number, nextGeneration(), mode, uid, gid, 1, 0, 0, now, now, now, now, rdev, parent, 0, 0, 0,
                new byte[0], new byte[Inode.forkSize(store.blockSize())]);
        write(inode);
        return inode;
    }

    /** Frees the inode's own block (its contents must already be freed). */
    void free(Inode inode) {
        store.forget(inode.number());
        allocator.free(new Run(inode.number(), 1), true);
    }

    /**
     * Generations only grow on a node: microseconds of the clock, or one more than the last
     * handed out, times 256 plus this node's journal slot, so no two nodes hand out the same one.
     * A reused inode block so gets a generation no earlier handle carries (across nodes, as long
     * as their clocks agree to within the time between a free and the block's reuse).
     */
    private long nextGeneration() {
        long now = clock.instant().toEpochMilli() * 1000;
        lastGeneration = Math.max(lastGeneration + 1, now);
        return (lastGeneration << 8) | (store.journalId() & 0xff);
    }
}
