package io.concord.format;

import io.concord.errors.CorruptBlockException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * Sealing and checking whole metadata blocks: the CRC32C and the header fields that say a block is
 * the one that was asked for. Whatever reads metadata from the device verifies it whole
 * ({@link #verify}: CRC included) before anything decodes it; the decoders themselves check only
 * the header ({@link #checkHeader}), because most of what they decode comes from memory.
 */
public final class MetaBlocks {
    private MetaBlocks() {
    }

    /** Where tree nodes and xattr blocks name the inode they belong to (an inode block: its own number). */
    public static final int OWNER_OFFSET = BlockHeader.SIZE;

    /**
     * The owning inode of a tree node or xattr block (for an inode block, its number field), read
     * without any check: for diagnostics and for finding an inode's cached blocks.
     */
    public static long ownerOf(ByteBuffer block) {
        return block.getLong(OWNER_OFFSET);
    }

    /** Fills the whole block (its capacity) with zeros. */
    public static void zero(ByteBuffer block) {
        for (int i = 0; i < block.capacity(); i += 8) {
            block.putLong(i, 0L);
        }
    }

    /** Computes the CRC32C of {@code block} (its whole capacity) with the CRC field as zero. */
    public static int crcOf(ByteBuffer block) {
        CRC32C crc = new CRC32C();
        ByteBuffer whole = block.duplicate().clear();
        ByteBuffer before = whole.duplicate().limit(BlockHeader.CRC_OFFSET);
        crc.update(before);
        crc.update(new byte[4]);
        ByteBuffer after = whole.duplicate().position(BlockHeader.CRC_OFFSET + 4);
        crc.update(after);
        return (int) crc.getValue();
    }

    /** Stores the CRC of the block (call after the body is complete). */
    public static void seal(ByteBuffer block) {
        block.putInt(BlockHeader.CRC_OFFSET, crcOf(block));
    }

    /** Writes {@code header} and seals the block. */
    public static void seal(ByteBuffer block, BlockHeader header) {
        header.encode(block);
        seal(block);
    }

    /**
     * Checks that {@code block} is a sound metadata block of {@code expected} type that belongs at
     * {@code blockNumber} in filesystem {@code fsId}.
     *
     * @throws CorruptBlockException naming the block and what is wrong with it
     */
    public static void verify(ByteBuffer block, BlockType expected, long blockNumber, long fsId) {
        BlockType actual = check(block, blockNumber, fsId);
        if (actual != expected) {
            throw new CorruptBlockException(blockNumber, "expected a " + expected + " block, found " + actual);
        }
    }

    /**
     * Checks what a decoder needs of a block already verified when it was read from the device:
     * magic, type, self-address and filesystem id, without recomputing the CRC. Metadata that
     * lives in memory (cached, logged, or just built) is checked this way; bytes fresh from the
     * device always go through {@link #verify} first.
     *
     * @throws CorruptBlockException naming the block and what is wrong with it
     */
    public static void checkHeader(ByteBuffer block, BlockType expected, long blockNumber, long fsId) {
        if (BlockHeader.magicOf(block) != BlockHeader.MAGIC) {
            throw new CorruptBlockException(blockNumber, "bad magic 0x" + Integer.toHexString(BlockHeader.magicOf(block)));
        }
        int code = BlockHeader.typeCodeOf(block);
        if (code != expected.code()) {
            BlockType actual = BlockType.orNull(code);
            throw new CorruptBlockException(blockNumber, "expected a " + expected + " block, found " + (actual == null ? "type " + code : actual));
        }
        if (BlockHeader.blockNumberOf(block) != blockNumber) {
            throw new CorruptBlockException(blockNumber, "block says it belongs at " + BlockHeader.blockNumberOf(block));
        }
        if (BlockHeader.fsIdOf(block) != fsId) {
            throw new CorruptBlockException(blockNumber, "block belongs to another filesystem (id " + Long.toHexString(BlockHeader.fsIdOf(block)) + ")");
        }
    }

    /**
     * Checks magic, CRC, self-address and filesystem id, and returns the block's type.
     *
     * @throws CorruptBlockException naming the block and what is wrong with it
     */
    public static BlockType check(ByteBuffer block, long blockNumber, long fsId) {
        if (BlockHeader.magicOf(block) != BlockHeader.MAGIC) {
            throw new CorruptBlockException(blockNumber, "bad magic 0x" + Integer.toHexString(BlockHeader.magicOf(block)));
        }
        int stored = block.getInt(BlockHeader.CRC_OFFSET);
        int computed = crcOf(block);
        if (stored != computed) {
            throw new CorruptBlockException(blockNumber, String.format("checksum mismatch (stored %08x, computed %08x)", stored, computed));
        }
        BlockType type = BlockType.orNull(BlockHeader.typeCodeOf(block));
        if (type == null) {
            throw new CorruptBlockException(blockNumber, "unknown block type " + BlockHeader.typeCodeOf(block));
        }
        if (BlockHeader.blockNumberOf(block) != blockNumber) {
            throw new CorruptBlockException(blockNumber, "block says it belongs at " + BlockHeader.blockNumberOf(block));
        }
        if (BlockHeader.fsIdOf(block) != fsId) {
            throw new CorruptBlockException(blockNumber, "block belongs to another filesystem (id " + Long.toHexString(BlockHeader.fsIdOf(block)) + ")");
        }
        int format = BlockHeader.formatOf(block);
        if (format != 1) {
            throw new CorruptBlockException(blockNumber, type + " block has unknown format " + format);
        }
        return type;
    }
}
