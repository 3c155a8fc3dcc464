package io.concord.format;

import io.concord.errors.CorruptBlockException;
import java.nio.ByteBuffer;

/**
 * A log descriptor or a log revoke block: a transaction's sequence number and a list of device
 * block numbers. A descriptor's blocks are the images that follow it in the log, in order; a
 * revoke's blocks are ones whose earlier logged images must not be replayed.
 *
 * <pre>
 * offset size field
 *   0    32  {@link BlockHeader} (type LOG_DESCRIPTOR or LOG_REVOKE)
 *  32     8  sequence        the transaction this block belongs to
 *  40     4  count
 *  44     4  (reserved, zero)
 *  48  8*n   block numbers
 * </pre>
 */
public record LogBlockList(BlockType type, long sequence, long[] blocks) {
    public static final int LIST_OFFSET = 48;

    public static int capacity(int blockSize) {
        return (blockSize - LIST_OFFSET) / 8;
    }

    public void encode(ByteBuffer block, long blockNumber, int journalId, long fsId) {
        MetaBlocks.zero(block);
        block.putLong(32, sequence);
        block.putInt(40, blocks.length);
        for (int i = 0; i < blocks.length; i++) {
            block.putLong(LIST_OFFSET + 8 * i, blocks[i]);
        }
        MetaBlocks.seal(block, new BlockHeader(type, 1, journalId, blockNumber, fsId));
    }

    /** Decodes a block already known (by {@link MetaBlocks#check}) to be a descriptor or revoke. */
    public static LogBlockList decode(ByteBuffer block, BlockType type, long blockNumber) {
        int count = block.getInt(40);
        if (count < 0 || count > capacity(block.capacity())) {
            throw new CorruptBlockException(blockNumber, "log block lists " + count + " blocks");
        }
        long[] blocks = new long[count];
        for (int i = 0; i < count; i++) {
            blocks[i] = block.getLong(LIST_OFFSET + 8 * i);
        }
        return new LogBlockList(type, block.getLong(32), blocks);
    }

    public static long sequenceOf(ByteBuffer block) {
        return block.getLong(32);
    }
}
