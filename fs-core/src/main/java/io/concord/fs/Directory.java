package io.concord.fs;

import io.concord.errors.FsException;
import io.concord.format.DirEntry;
import io.concord.format.Inode;
import io.concord.format.NameHash;

/**
 * Directory entries in a directory's B+tree, keyed by name hash, so that a lookup costs the
 * tree's height (three or four blocks at a million entries) whatever the directory's size. A name
 * whose hash collides takes the next free key among {@link NameHash#PROBES}; lookups compare
 * names across that window. The key doubles as the stable readdir cookie: it never changes while
 * the entry exists, and entries added or removed during a listing do not move the others.
 */
final class Directory {
    /** An entry found, with its key (the readdir cookie). */
    record Found(long key, DirEntry entry) {
    }

    private final Btree tree;
    private final long seed;

    Directory(Btree tree, long seed) {
        this.tree = tree;
        this.seed = seed;
    }

    Found lookup(Inode dir, byte[] name) {
        long key = NameHash.key(seed, name);
        Found[] hit = new Found[1];
        tree.scan(dir, key, (k, v) -> {
            if (k >= key + NameHash.PROBES) {
                return false;
            }
            DirEntry e = DirEntry.decode(v, dir.number());
            if (e.nameEquals(name)) {
                hit[0] = new Found(k, e);
                return false;
            }
            return true;
        });
        return hit[0];
    }

    /** Adds an entry known not to exist; returns the updated directory inode. */
    Inode add(Inode dir, DirEntry entry) {
        long key = NameHash.key(seed, entry.name());
        for (long k = key; k < key + NameHash.PROBES; k++) {
            if (tree.get(dir, k) == null) {
                return tree.put(dir, k, entry.encode()).withEntries(dir.entries() + 1);
            }
        }
        throw new FsException(FsException.Kind.NO_SPACE, "too many names in directory " + dir.number() + " share the hash of " + entry.nameString());
    }

    /** Points an existing entry (found at {@code key}) at another inode. */
    Inode replace(Inode dir, long key, DirEntry entry) {
        return tree.put(dir, key, entry.encode());
    }

    Inode remove(Inode dir, long key) {
        return tree.remove(dir, key).withEntries(dir.entries() - 1);
    }

    /** Visits entries after cookie {@code after}, in cookie order, until the visitor says stop. */
    void list(Inode dir, long after, EntryVisitor visitor) {
        tree.scan(dir, Math.max(NameHash.FIRST_KEY, after + 1), (k, v) -> visitor.visit(k, DirEntry.decode(v, dir.number())));
    }

    interface EntryVisitor {
        boolean visit(long cookie, DirEntry entry);
    }

    boolean isEmpty(Inode dir) {
        return dir.entries() == 0;
    }
}
