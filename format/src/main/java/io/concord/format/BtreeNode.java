package io.concord.format;

import io.concord.errors.CorruptBlockException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A node of an inode's B+tree (directory entries keyed by name hash, or file extents keyed by
 * logical block). The root lives in the inode's fork; other nodes are whole blocks.
 *
 * <p>Node body, wherever it is stored:
 * <pre>
 * offset size field
 *   0     2  level           0 = leaf
 *   2     2  count
 *   4     4  (reserved, zero)
 *   8   ...  internal: count x (8 key, 8 child block)       keys ascending; child i holds keys >= key i
 *            leaf:     count x (8 key, 2 length, length bytes value)   keys ascending, unique
 * </pre>
 * As a block: a {@link BlockHeader} (type BTREE_NODE), then {@code 8 owner inode} at 32, then
 * the body at {@link #BLOCK_BODY_OFFSET}. Keys are non-negative.
 */
public record BtreeNode(int level, long[] keys, long[] children, byte[][] values) {
    public static final int BODY_HEADER = 8;
    public static final int BLOCK_BODY_OFFSET = 40;
    public static final int MAX_VALUE = 1024;

    public static BtreeNode emptyLeaf() {
        return new BtreeNode(0, new long[0], null, new byte[0][]);
    }

    public boolean isLeaf() {
        return level == 0;
    }

    public int count() {
        return keys.length;
    }

    public int encodedSize() {
        int size = BODY_HEADER;
        if (isLeaf()) {
            for (byte[] v : values) {
                size += 10 + v.length;
            }
        } else {
            size += 16 * keys.length;
        }
        return size;
    }

    /** Writes the body at the buffer's absolute {@code offset}; the caller checks it fits. */
    public void encodeBody(ByteBuffer buf, int offset) {
        buf.putShort(offset, (short) level);
        buf.putShort(offset + 2, (short) keys.length);
        buf.putInt(offset + 4, 0);
        int at = offset + BODY_HEADER;
        for (int i = 0; i < keys.length; i++) {
            buf.putLong(at, keys[i]);
            if (isLeaf()) {
                buf.putShort(at + 8, (short) values[i].length);
                buf.put(at + 10, values[i]);
                at += 10 + values[i].length;
            } else {
                buf.putLong(at + 8, children[i]);
                at += 16;
            }
        }
    }

    /** Reads a body of at most {@code capacity} bytes; {@code where} names the block for errors. */
    public static BtreeNode decodeBody(ByteBuffer buf, int offset, int capacity, long where) {
        int level = Short.toUnsignedInt(buf.getShort(offset));
        int count = Short.toUnsignedInt(buf.getShort(offset + 2));
        int end = offset + capacity;
        if (level > 32) {
            throw new CorruptBlockException(where, "tree node level " + level + " out of range");
        }
        long[] keys = new long[count];
        long[] children = level == 0 ? null : new long[count];
        byte[][] values = level == 0 ? new byte[count][] : null;
        int at = offset + BODY_HEADER;
        for (int i = 0; i < count; i++) {
            int need = level == 0 ? 10 : 16;
            if (at + need > end) {
                throw new CorruptBlockException(where, "tree node entries run past the node");
            }
            keys[i] = buf.getLong(at);
            if (keys[i] < 0 || (i > 0 && keys[i] <= keys[i - 1])) {
                throw new CorruptBlockException(where, "tree node keys out of order at entry " + i);
            }
            if (level == 0) {
                int len = Short.toUnsignedInt(buf.getShort(at + 8));
                if (len > MAX_VALUE || at + 10 + len > end) {
                    throw new CorruptBlockException(where, "tree node value length " + len + " out of range");
                }
                values[i] = new byte[len];
                buf.get(at + 10, values[i]);
                at += 10 + len;
            } else {
                children[i] = buf.getLong(at + 8);
                at += 16;
            }
        }
        return new BtreeNode(level, keys, children, values);
    }

    public void encodeBlock(ByteBuffer block, long blockNumber, long owner, int journalId, long fsId) {
        MetaBlocks.zero(block);
        block.putLong(32, owner);
        encodeBody(block, BLOCK_BODY_OFFSET);
        MetaBlocks.seal(block, new BlockHeader(BlockType.BTREE_NODE, 1, journalId, blockNumber, fsId));
    }

    public static int blockCapacity(int blockSize) {
        return blockSize - BLOCK_BODY_OFFSET;
    }

    /** Decodes a node block and checks it belongs to inode {@code owner}. */
    public static BtreeNode decodeBlock(ByteBuffer block, long blockNumber, long owner, long fsId) {
        MetaBlocks.checkHeader(block, BlockType.BTREE_NODE, blockNumber, fsId);
        if (block.getLong(32) != owner) {
            throw new CorruptBlockException(blockNumber, "tree node belongs to inode " + block.getLong(32) + ", not " + owner);
        }
        return decodeBody(block, BLOCK_BODY_OFFSET, blockCapacity(block.capacity()), blockNumber);
    }

    public static long ownerOf(ByteBuffer block) {
        return block.getLong(32);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BtreeNode n && n.level == level && Arrays.equals(n.keys, keys) && Arrays.equals(n.children, children)
                && Arrays.deepEquals(n.values, values);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(keys);
    }

    @Override
    public String toString() {
        return "BtreeNode[level " + level + ", " + keys.length + " keys]";
    }
}
