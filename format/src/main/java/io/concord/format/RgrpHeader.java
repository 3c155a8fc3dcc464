package io.concord.format;

import java.nio.ByteBuffer;

/**
 * The first block of a resource group. A resource group is a fixed region with its own allocation
 * bitmap, so that nodes allocating in different groups never contend for the same lock or blocks.
 *
 * <pre>
 * offset size field
 *   0    32  {@link BlockHeader} (type RGRP_HEADER)
 *  32     4  index           this group's number
 *  36     4  length          blocks in the group, header and bitmaps included
 *  40     8  firstBlock      the header's own block number
 *  48     4  bitmapBlocks    bitmap blocks that follow the header
 *  52     4  freeBlocks      clear bits in the bitmaps
 *  56     4  inodes          inode blocks allocated in the group
 *  60     4  (reserved, zero)
 * </pre>
 * The bitmaps cover every block of the group, the header and the bitmaps themselves included (they
 * are always set), one bit per block; see {@link RgrpBitmap}.
 */
public record RgrpHeader(int index, int length, long firstBlock, int bitmapBlocks, int freeBlocks, int inodes) {

    public static int bitmapBlocksFor(int length, int blockSize) {
        long bits = RgrpBitmap.bitsPerBlock(blockSize);
        return (int) ((length + bits - 1) / bits);
    }

    public RgrpHeader withCounts(int freeBlocks, int inodes) {
        return new RgrpHeader(index, length, firstBlock, bitmapBlocks, freeBlocks, inodes);
    }

    public void encode(ByteBuffer block, int journalId, long fsId) {
        MetaBlocks.zero(block);
        block.putInt(32, index);
        block.putInt(36, length);
        block.putLong(40, firstBlock);
        block.putInt(48, bitmapBlocks);
        block.putInt(52, freeBlocks);
        block.putInt(56, inodes);
        MetaBlocks.seal(block, new BlockHeader(BlockType.RGRP_HEADER, 1, journalId, firstBlock, fsId));
    }

    public static RgrpHeader decode(ByteBuffer block, long blockNumber, long fsId) {
        MetaBlocks.checkHeader(block, BlockType.RGRP_HEADER, blockNumber, fsId);
        return new RgrpHeader(block.getInt(32), block.getInt(36), block.getLong(40), block.getInt(48), block.getInt(52), block.getInt(56));
    }
}
