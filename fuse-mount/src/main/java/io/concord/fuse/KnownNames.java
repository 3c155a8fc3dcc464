package io.concord.fuse;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The names this mount has given the kernel as found (directory entries it may cache as
 * dentries), by directory, so that when another node may change a directory every name the kernel
 * could serve from its cache can be invalidated. A name is forgotten when the kernel forgets the
 * inode it named (FORGET to zero), so the table is no larger than the kernel's inode cache.
 * Names looked up and not found need no entry: an ENOENT reply leaves no cached dentry.
 */
final class KnownNames {
    private record Name(long parent, ByteBuffer name) {
    }

    private final Map<Long, Set<ByteBuffer>> byParent = new HashMap<>();
    private final Map<Long, Set<Name>> byChild = new HashMap<>();

    /** The kernel was told that {@code name} in {@code parent} is {@code child}. */
    synchronized void entered(long parent, byte[] name, long child) {
        ByteBuffer key = ByteBuffer.wrap(name.clone());
        if (byParent.computeIfAbsent(parent, p -> new HashSet<>()).add(key)) {
            byChild.computeIfAbsent(child, c -> new HashSet<>()).add(new Name(parent, key));
        }
    }

    /** The kernel forgot {@code child}: its names cannot be cached any more. */
    synchronized void forgotten(long child) {
        Set<Name> names = byChild.remove(child);
        if (names == null) {
            return;
        }
        for (Name n : names) {
            Set<ByteBuffer> s = byParent.get(n.parent);
            if (s != null && s.remove(n.name) && s.isEmpty()) {
                byParent.remove(n.parent);
            }
        }
    }

    /** Every name known in {@code parent}, which are forgotten here (the caller invalidates them). */
    synchronized List<byte[]> take(long parent) {
        Set<ByteBuffer> s = byParent.remove(parent);
        if (s == null) {
            return List.of();
        }
        List<byte[]> out = new ArrayList<>(s.size());
        for (ByteBuffer b : s) {
            out.add(b.array());
        }
        // The reverse entries are left: forgotten() ignores names already gone from byParent.
        return out;
    }

    synchronized int size() {
        return byChild.size();
    }
}
