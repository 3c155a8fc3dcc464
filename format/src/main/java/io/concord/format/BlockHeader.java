package io.concord.format;

import java.nio.ByteBuffer;

/**
 * The header every metadata block opens with.
 *
 * <pre>
 * offset size field
 *  0      4   magic        0x434E4344 ("CNCD")
 *  4      2   type         {@link BlockType#code()}
 *  6      2   format       version of this block type's layout (1)
 *  8      4   crc32c       over the whole block with these 4 bytes as zero
 * 12      4   journalId    the node slot that last wrote the block (diagnostics, fsck)
 * 16      8   blockNumber  where the block belongs: a misdirected write is detected
 * 24      8   fsId         the filesystem's id (from its UUID): a stale block of an earlier mkfs is detected
 * 32          (type-specific body)
 * </pre>
 */
public record BlockHeader(BlockType type, int format, int journalId, long blockNumber, long fsId) {
    public static final int MAGIC = 0x434E4344;
    public static final int SIZE = 32;
    public static final int CRC_OFFSET = 8;

    /** Writes the header at the start of {@code block} (absolute positions; CRC left zero). */
    public void encode(ByteBuffer block) {
        block.putInt(0, MAGIC);
        block.putShort(4, (short) type.code());
        block.putShort(6, (short) format);
        block.putInt(CRC_OFFSET, 0);
        block.putInt(12, journalId);
        block.putLong(16, blockNumber);
        block.putLong(24, fsId);
    }

    public static int magicOf(ByteBuffer block) {
        return block.getInt(0);
    }

    public static int typeCodeOf(ByteBuffer block) {
        return Short.toUnsignedInt(block.getShort(4));
    }

    public static int formatOf(ByteBuffer block) {
        return Short.toUnsignedInt(block.getShort(6));
    }

    public static int journalIdOf(ByteBuffer block) {
        return block.getInt(12);
    }

    public static long blockNumberOf(ByteBuffer block) {
        return block.getLong(16);
    }

    public static long fsIdOf(ByteBuffer block) {
        return block.getLong(24);
    }
}
