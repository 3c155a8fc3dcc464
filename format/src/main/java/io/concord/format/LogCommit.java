package io.concord.format;

import java.nio.ByteBuffer;

/**
 * The last block of a transaction in the log. A transaction counts only if its commit block is
 * sound and the CRC32C it carries matches every block of the transaction before it, so a torn or
 * half-written transaction is never replayed. It also records where the log's tail was when it was
 * written: replay starts there.
 *
 * <pre>
 * offset size field
 *   0    32  {@link BlockHeader} (type LOG_COMMIT)
 *  32     8  sequence
 *  40     4  start           ring index of the transaction's first block
 *  44     4  blocks          blocks of the transaction before this one (0 for a tail marker)
 *  48     4  crc32c          of those blocks, in ring order
 *  52     4  (reserved, zero)
 *  56     8  tailSequence    the oldest transaction not yet written back in place
 *  64     4  tailIndex       its ring index
 *  68     4  (reserved, zero)
 *  72     8  commitNanos     wall-clock time of the commit (diagnostics)
 * </pre>
 */
public record LogCommit(long sequence, int start, int blocks, int crc, long tailSequence, int tailIndex, long commitNanos) {
    public void encode(ByteBuffer block, long blockNumber, int journalId, long fsId) {
        MetaBlocks.zero(block);
        block.putLong(32, sequence);
        block.putInt(40, start);
        block.putInt(44, blocks);
        block.putInt(48, crc);
        block.putLong(56, tailSequence);
        block.putInt(64, tailIndex);
        block.putLong(72, commitNanos);
        MetaBlocks.seal(block, new BlockHeader(BlockType.LOG_COMMIT, 1, journalId, blockNumber, fsId));
    }

    /** Decodes a block already known (by {@link MetaBlocks#check}) to be a commit block. */
    public static LogCommit decode(ByteBuffer block) {
        return new LogCommit(block.getLong(32), block.getInt(40), block.getInt(44), block.getInt(48), block.getLong(56),
                block.getInt(64), block.getLong(72));
    }
}
