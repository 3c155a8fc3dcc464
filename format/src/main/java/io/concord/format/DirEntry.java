package io.concord.format;

import io.concord.errors.CorruptBlockException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A directory entry: the value stored under a name's hash key in a directory's tree.
 *
 * <pre>
 * offset size field
 *   0     8  inode
 *   8     1  type            the file type bits of st_mode, shifted right by 12 (as d_type)
 *   9   rest name            1..255 bytes, no '/' and no NUL
 * </pre>
 */
public record DirEntry(long inode, int type, byte[] name) {
    public static final int NAME_MAX = 255;

    public byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(9 + name.length);
        b.putLong(inode).put((byte) type).put(name);
        return b.array();
    }

    public static DirEntry decode(byte[] value, long where) {
        if (value.length < 10 || value.length > 9 + NAME_MAX) {
            throw new CorruptBlockException(where, "directory entry of length " + value.length);
        }
        ByteBuffer b = ByteBuffer.wrap(value);
        return new DirEntry(b.getLong(), Byte.toUnsignedInt(b.get()), Arrays.copyOfRange(value, 9, value.length));
    }

    public boolean nameEquals(byte[] other) {
        return Arrays.equals(name, other);
    }

    public String nameString() {
        return new String(name, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DirEntry e && e.inode == inode && e.type == type && Arrays.equals(e.name, name);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(inode) * 31 + Arrays.hashCode(name);
    }

    @Override
    public String toString() {
        return "DirEntry[" + nameString() + " -> " + inode + "]";
    }
}
