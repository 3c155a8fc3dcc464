package io.concord.format;

import java.nio.ByteBuffer;

/**
 * The first block of a journal region; the ring of log blocks follows it.
 *
 * <pre>
 * offset size field
 *   0    32  {@link BlockHeader} (type JOURNAL_HEADER, journalId = the slot)
 *  32     4  journalId
 *  36     4  blocks          blocks in the region, this header included
 * </pre>
 */
public record JournalHeader(int journalId, int blocks) {
    public void encode(ByteBuffer block, long blockNumber, long fsId) {
        MetaBlocks.zero(block);
        block.putInt(32, journalId);
        block.putInt(36, blocks);
        MetaBlocks.seal(block, new BlockHeader(BlockType.JOURNAL_HEADER, 1, journalId, blockNumber, fsId));
    }

    public static JournalHeader decode(ByteBuffer block, long blockNumber, long fsId) {
        MetaBlocks.verify(block, BlockType.JOURNAL_HEADER, blockNumber, fsId);
        return new JournalHeader(block.getInt(32), block.getInt(36));
    }
}
