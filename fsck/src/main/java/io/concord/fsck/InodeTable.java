package io.concord.fsck;

import java.util.Arrays;

/**
 * What the walk learns about each inode it meets, in parallel primitive arrays behind an
 * open-addressing table keyed by inode number: about 30 bytes an inode, so a million files cost
 * some 60 MB at the table's worst load, where a map of objects would cost several times that.
 *
 * <p>Per inode: the nlink it claims, how many directory entries name it (from ordinary directories
 * and from orphan directories apart), how many of its own entries are subdirectories, its file type
 * ({@code mode >> 12}, 0 when unknown) and state bits.
 */
final class InodeTable {
    /** The inode block was sound enough to read (its block is claimed, its fields are known). */
    static final int LOADED = 1;
    /** Found by the scan of allocated blocks, reached by no directory. */
    static final int UNREACHABLE = 2;
    /** The root or an orphan directory: named by no entry. */
    static final int SYSTEM = 4;
    /** An orphan directory (its entries are inodes being deleted). */
    static final int ORPHAN_DIR = 8;

    private long[] keys;
    private int[] nlink;
    private int[] refs;
    private int[] orphanRefs;
    private int[] subdirs;
    private byte[] type;
    private byte[] state;
    private int size;

    InodeTable() {
        allocate(1 << 12);
    }

    private void allocate(int capacity) {
        keys = new long[capacity];
        nlink = new int[capacity];
        refs = new int[capacity];
        orphanRefs = new int[capacity];
        subdirs = new int[capacity];
        type = new byte[capacity];
        state = new byte[capacity];
    }

    int size() {
        return size;
    }

    /** The slot of {@code ino}, or -1. Inode numbers are block numbers, never 0 (the superblock). */
    int slot(long ino) {
        int mask = keys.length - 1;
        for (int i = hash(ino) & mask; ; i = (i + 1) & mask) {
            if (keys[i] == ino) {
                return i;
            }
            if (keys[i] == 0) {
                return -1;
            }
        }
    }

    /** The slot of {@code ino}, added (all counts zero) if it was not there. */
    int add(long ino) {
        int s = slot(ino);
        if (s >= 0) {
            return s;
        }
        if ((size + 1) * 2 > keys.length) {
            grow();
        }
        int mask = keys.length - 1;
        int i = hash(ino) & mask;
        while (keys[i] != 0) {
            i = (i + 1) & mask;
        }
        keys[i] = ino;
        size++;
        return i;
    }

    private void grow() {
        long[] oldKeys = keys;
        int[] oldNlink = nlink;
        int[] oldRefs = refs;
        int[] oldOrphanRefs = orphanRefs;
        int[] oldSubdirs = subdirs;
        byte[] oldType = type;
        byte[] oldState = state;
        allocate(oldKeys.length * 2);
        int mask = keys.length - 1;
        for (int j = 0; j < oldKeys.length; j++) {
            if (oldKeys[j] == 0) {
                continue;
            }
            int i = hash(oldKeys[j]) & mask;
            while (keys[i] != 0) {
                i = (i + 1) & mask;
            }
            keys[i] = oldKeys[j];
            nlink[i] = oldNlink[j];
            refs[i] = oldRefs[j];
            orphanRefs[i] = oldOrphanRefs[j];
            subdirs[i] = oldSubdirs[j];
            type[i] = oldType[j];
            state[i] = oldState[j];
        }
    }

    private static int hash(long ino) {
        long h = ino * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }

    /** Slots in use, in no particular order. */
    int[] slots() {
        int[] out = new int[size];
        int n = 0;
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != 0) {
                out[n++] = i;
            }
        }
        return Arrays.copyOf(out, n);
    }

    long inode(int slot) {
        return keys[slot];
    }

    int nlink(int slot) {
        return nlink[slot];
    }

    int refs(int slot) {
        return refs[slot];
    }

    int orphanRefs(int slot) {
        return orphanRefs[slot];
    }

    int subdirs(int slot) {
        return subdirs[slot];
    }

    /** The file type, {@code mode >> 12}; 0 when unknown. */
    int type(int slot) {
        return type[slot];
    }

    boolean is(int slot, int bit) {
        return (state[slot] & bit) != 0;
    }

    void mark(int slot, int bit) {
        state[slot] |= (byte) bit;
    }

    void setLoaded(int slot, int fileType, int links) {
        type[slot] = (byte) fileType;
        nlink[slot] = links;
        state[slot] |= LOADED;
    }

    void addRef(int slot, boolean fromOrphanDir) {
        if (fromOrphanDir) {
            orphanRefs[slot]++;
        } else {
            refs[slot]++;
        }
    }

    void setSubdirs(int slot, int n) {
        subdirs[slot] = n;
    }
}
