package io.concord.format;

import io.concord.errors.CorruptBlockException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * Extended attributes: the encoding used both in the inode's inline area and in an xattr block.
 *
 * <pre>
 * a sequence of:  1 nameLength, 2 valueLength, nameLength bytes of full name ("user.x"), value bytes
 * </pre>
 * As a block: a {@link BlockHeader} (type XATTR), {@code 8 owner inode} at 32, {@code 4 length}
 * at 40, then the sequence at {@link #BLOCK_BODY_OFFSET}. Names are sorted, so encodings compare.
 */
public final class Xattrs {
    public static final int NAME_MAX = 255;
    public static final int BLOCK_BODY_OFFSET = 48;

    private Xattrs() {
    }

    public static int encodedSize(Map<String, byte[]> attrs) {
        int size = 0;
        for (Map.Entry<String, byte[]> e : attrs.entrySet()) {
            size += 3 + e.getKey().getBytes(StandardCharsets.UTF_8).length + e.getValue().length;
        }
        return size;
    }

    public static byte[] encode(Map<String, byte[]> attrs) {
        ByteBuffer b = ByteBuffer.allocate(encodedSize(attrs));
        for (Map.Entry<String, byte[]> e : new TreeMap<>(attrs).entrySet()) {
            byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
            b.put((byte) name.length).putShort((short) e.getValue().length).put(name).put(e.getValue());
        }
        return b.array();
    }

    public static TreeMap<String, byte[]> decode(byte[] encoded, long where) {
        TreeMap<String, byte[]> attrs = new TreeMap<>();
        ByteBuffer b = ByteBuffer.wrap(encoded);
        while (b.hasRemaining()) {
            if (b.remaining() < 3) {
                throw new CorruptBlockException(where, "truncated xattr entry");
            }
            int nameLen = Byte.toUnsignedInt(b.get());
            int valueLen = Short.toUnsignedInt(b.getShort());
            if (nameLen == 0 || b.remaining() < nameLen + valueLen) {
                throw new CorruptBlockException(where, "xattr entry runs past its area");
            }
            byte[] name = new byte[nameLen];
            byte[] value = new byte[valueLen];
            b.get(name).get(value);
            attrs.put(new String(name, StandardCharsets.UTF_8), value);
        }
        return attrs;
    }

    public static int blockCapacity(int blockSize) {
        return blockSize - BLOCK_BODY_OFFSET;
    }

    public static void encodeBlock(ByteBuffer block, byte[] encoded, long blockNumber, long owner, int journalId, long fsId) {
        MetaBlocks.zero(block);
        block.putLong(32, owner);
        block.putInt(40, encoded.length);
        block.put(BLOCK_BODY_OFFSET, encoded);
        MetaBlocks.seal(block, new BlockHeader(BlockType.XATTR, 1, journalId, blockNumber, fsId));
    }

    public static byte[] decodeBlock(ByteBuffer block, long blockNumber, long owner, long fsId) {
        MetaBlocks.checkHeader(block, BlockType.XATTR, blockNumber, fsId);
        int len = block.getInt(40);
        if (block.getLong(32) != owner || len < 0 || len > blockCapacity(block.capacity())) {
            throw new CorruptBlockException(blockNumber, "xattr block does not belong to inode " + owner + " or has bad length");
        }
        byte[] encoded = new byte[len];
        block.get(BLOCK_BODY_OFFSET, encoded);
        return encoded;
    }
}
