package io.concord.format;

import java.nio.ByteBuffer;

/**
 * A bitmap block of a resource group.
 *
 * <pre>
 * offset size field
 *   0    32  {@link BlockHeader} (type RGRP_BITMAP)
 *  32     4  rgrpIndex
 *  36     4  bitmapIndex     which bitmap block of the group (0 first)
 *  40     8  (reserved, zero)
 *  48   ...  bits: bit k (byte k/8, bit k%8, least significant first) is block
 *            firstBlock + bitmapIndex * bitsPerBlock + k; 1 = in use
 * </pre>
 * Bits past the end of the group are kept set so that they are never allocated.
 */
public final class RgrpBitmap {
    public static final int BITS_OFFSET = 48;

    private RgrpBitmap() {
    }

    public static long bitsPerBlock(int blockSize) {
        return (long) (blockSize - BITS_OFFSET) * 8;
    }

    public static void format(ByteBuffer block, int rgrpIndex, int bitmapIndex) {
        MetaBlocks.zero(block);
        block.putInt(32, rgrpIndex);
        block.putInt(36, bitmapIndex);
    }

    public static void seal(ByteBuffer block, long blockNumber, int journalId, long fsId) {
        MetaBlocks.seal(block, new BlockHeader(BlockType.RGRP_BITMAP, 1, journalId, blockNumber, fsId));
    }

    public static void verify(ByteBuffer block, long blockNumber, long fsId) {
        MetaBlocks.verify(block, BlockType.RGRP_BITMAP, blockNumber, fsId);
    }

    public static boolean get(ByteBuffer block, int bit) {
        return (block.get(BITS_OFFSET + (bit >>> 3)) & (1 << (bit & 7))) != 0;
    }

    public static void set(ByteBuffer block, int bit, boolean used) {
        int at = BITS_OFFSET + (bit >>> 3);
        int b = block.get(at);
        b = used ? b | (1 << (bit & 7)) : b & ~(1 << (bit & 7));
        block.put(at, (byte) b);
    }

    /** The first clear bit at or after {@code from} and before {@code limit}, or -1. */
    public static int findClear(ByteBuffer block, int from, int limit) {
        int bit = from;
        while (bit < limit) {
            if ((bit & 63) == 0 && bit + 64 <= limit && block.getLong(BITS_OFFSET + (bit >>> 3)) == -1L) {
                bit += 64;
                continue;
            }
            if (!get(block, bit)) {
                return bit;
            }
            bit++;
        }
        return -1;
    }
}
