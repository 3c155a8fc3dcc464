package io.concord.journal;

/**
 * Where one node slot's journal lies: a {@link io.concord.format.JournalHeader} block at
 * {@code firstBlock}, then a ring of {@code blocks - 1} log blocks.
 */
public record JournalRegion(int journalId, long firstBlock, int blocks, int blockSize, long fsId) {
    public JournalRegion {
        if (blocks < 16) {
            throw new IllegalArgumentException("a journal needs at least 16 blocks, not " + blocks);
        }
    }

    public int ringSize() {
        return blocks - 1;
    }

    /** The device block of ring position {@code index} (taken modulo the ring). */
    public long ringBlock(long index) {
        return firstBlock + 1 + Math.floorMod(index, ringSize());
    }

    public int next(int index, int by) {
        return Math.floorMod(index + by, ringSize());
    }
}
