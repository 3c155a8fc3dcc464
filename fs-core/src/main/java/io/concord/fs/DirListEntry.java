package io.concord.fs;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One readdir entry. {@code cookie} is the position to continue after: it stays valid while the
 * entry exists, whatever else is added or removed ("." is 1, ".." is 2). The name is the bytes on
 * disk (Linux names need not be UTF-8); {@link #name()} decodes them for display.
 */
public record DirListEntry(byte[] nameBytes, long inode, int type, long cookie) {
    public DirListEntry(String name, long inode, int type, long cookie) {
        this(name.getBytes(StandardCharsets.UTF_8), inode, type, cookie);
    }

    public String name() {
        return new String(nameBytes, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DirListEntry e && Arrays.equals(e.nameBytes, nameBytes) && e.inode == inode && e.type == type && e.cookie == cookie;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(nameBytes) * 31 + Long.hashCode(cookie);
    }

    @Override
    public String toString() {
        return "DirListEntry[" + name() + " -> " + inode + " @" + cookie + "]";
    }
}
