package io.concord.fsck;

/**
 * A bit per block over the whole device, indexed by block number: {@link java.util.BitSet} stops
 * at 2^31 bits, a device of 4 KiB blocks passes that at 8 TiB. One bit per block is the whole
 * memory budget per block, so that a large filesystem is checked in a few hundred MB.
 */
final class LongBits {
    private final long[] words;
    private final long size;

    LongBits(long size) {
        this.size = size;
        this.words = new long[(int) ((size + 63) >>> 6)];
    }

    long size() {
        return size;
    }

    boolean get(long i) {
        return i >= 0 && i < size && (words[(int) (i >>> 6)] & (1L << i)) != 0;
    }

    void set(long i) {
        words[(int) (i >>> 6)] |= 1L << i;
    }

    /** The first index at or after {@code from} set here and clear in {@code other}, or -1. */
    long nextSetAndNot(LongBits other, long from) {
        if (from >= size) {
            return -1;
        }
        int w = (int) (from >>> 6);
        long word = (words[w] & ~other.words[w]) & (-1L << from);
        while (true) {
            if (word != 0) {
                long i = ((long) w << 6) + Long.numberOfTrailingZeros(word);
                return i < size ? i : -1;
            }
            if (++w == words.length) {
                return -1;
            }
            word = words[w] & ~other.words[w];
        }
    }

    /** The first index at or after {@code from} that is set, or -1. */
    long nextSet(long from) {
        if (from >= size) {
            return -1;
        }
        int w = (int) (from >>> 6);
        long word = words[w] & (-1L << from);
        while (true) {
            if (word != 0) {
                long i = ((long) w << 6) + Long.numberOfTrailingZeros(word);
                return i < size ? i : -1;
            }
            if (++w == words.length) {
                return -1;
            }
            word = words[w];
        }
    }

    /** Set bits in [from, to). */
    long count(long from, long to) {
        long n = 0;
        for (long i = nextSet(from); i >= 0 && i < to; i = nextSet(i + 1)) {
            n++;
        }
        return n;
    }

    long count() {
        long n = 0;
        for (long w : words) {
            n += Long.bitCount(w);
        }
        return n;
    }
}
