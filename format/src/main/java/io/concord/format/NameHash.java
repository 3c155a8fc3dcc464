package io.concord.format;

/**
 * Directory name hashing, part of the on-disk format (it decides where an entry lives): a seeded 64-bit hash (the seed is the filesystem's, from mkfs, so that
 * names cannot be chosen to collide on every Concord filesystem at once). A key is the hash cut
 * to 62 bits and kept clear of 0..2, which readdir uses for its start, "." and "..".
 */
public final class NameHash {
    public static final long FIRST_KEY = 3;
    /** How many consecutive keys a colliding name may take; lookups scan this far. */
    public static final int PROBES = 8;

    private NameHash() {
    }

    public static long key(long seed, byte[] name) {
        long h = seed ^ 0x9E3779B97F4A7C15L ^ (name.length * 0xC2B2AE3D27D4EB4FL);
        int i = 0;
        for (; i + 8 <= name.length; i += 8) {
            long v = 0;
            for (int k = 0; k < 8; k++) {
                v |= (name[i + k] & 0xFFL) << (8 * k);
            }
            h = mix(h ^ v);
        }
        long tail = 0;
        for (int k = 0; i < name.length; i++, k++) {
            tail |= (name[i] & 0xFFL) << (8 * k);
        }
        h = mix(h ^ tail ^ 0xFF);
        long key = h >>> 2;
        // Leave room for the probes below 2^62 and keep clear of readdir's reserved cookies.
        return Math.max(FIRST_KEY, Math.min(key, (1L << 62) - PROBES - 1));
    }

    /** A strong 64-bit finalizer (MurmurHash3's fmix64 constants). */
    private static long mix(long h) {
        h ^= h >>> 33;
        h *= 0xFF51AFD7ED558CCDL;
        h ^= h >>> 33;
        h *= 0xC4CEB9FE1A85EC53L;
        h ^= h >>> 33;
        return h;
    }
}
