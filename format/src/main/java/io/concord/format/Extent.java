package io.concord.format;

import io.concord.errors.CorruptBlockException;
import java.nio.ByteBuffer;

/**
 * A run of a file's blocks: the value stored under its first logical block in the file's tree.
 *
 * <pre>
 * offset size field
 *   0     8  physical        first device block
 *   8     4  length          blocks, 1..2^31-1
 *  12     4  flags           {@link #UNWRITTEN}: allocated by fallocate, reads as zeros
 * </pre>
 */
public record Extent(long logical, long physical, int length, int flags) {
    public static final int ENCODED_SIZE = 16;
    public static final int UNWRITTEN = 1;

    public boolean unwritten() {
        return (flags & UNWRITTEN) != 0;
    }

    public long end() {
        return logical + length;
    }

    public byte[] encode() {
        return ByteBuffer.allocate(ENCODED_SIZE).putLong(physical).putInt(length).putInt(flags).array();
    }

    public static Extent decode(long logical, byte[] value, long where) {
        if (value.length != ENCODED_SIZE) {
            throw new CorruptBlockException(where, "extent of length " + value.length);
        }
        ByteBuffer b = ByteBuffer.wrap(value);
        Extent e = new Extent(logical, b.getLong(), b.getInt(), b.getInt());
        if (e.length <= 0 || e.physical <= 0 || (e.flags & ~UNWRITTEN) != 0) {
            throw new CorruptBlockException(where, "extent " + e + " out of range");
        }
        return e;
    }
}
