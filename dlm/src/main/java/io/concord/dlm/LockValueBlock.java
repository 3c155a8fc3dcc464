package io.concord.dlm;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The lock value block: 32 bytes that travel with a resource's lock, so holders can pass small
 * state (a resource group's free count, a quota) without touching disk. Immutable.
 *
 * <p>Only a PW or EX holder publishes a value, and each publication increments
 * {@link #sequence()}, so a reader can tell whether it changed since it last looked.
 * {@link #valid()} is false after a holder that could have been writing it died (its last value
 * is lost); the next publication makes it valid again. Readers of an invalid block must rebuild
 * the state from disk. So must readers of a block with sequence 0: it was never written, or every
 * node that knew it died together (a resource's master and all its holders), in which case no
 * survivor can even tell it existed — as with the kernel DLM, where GFS2 checks a magic number in
 * the block for the same reason.
 */
public final class LockValueBlock {
    public static final int SIZE = 32;

    /** What a resource starts with: zeros, sequence 0, valid. */
    public static final LockValueBlock EMPTY = new LockValueBlock(new byte[SIZE], 0, true);

    private final byte[] value;
    private final long sequence;
    private final boolean valid;

    /** @throws IllegalArgumentException unless {@code value} is {@link #SIZE} bytes and {@code sequence >= 0} */
    public LockValueBlock(byte[] value, long sequence, boolean valid) {
        if (sequence < 0) {
            throw new IllegalArgumentException("negative value block sequence " + sequence);
        }
        this.value = checkedCopy(value);
        this.sequence = sequence;
        this.valid = valid;
    }

    /** A copy of the 32 bytes. */
    public byte[] value() {
        return value.clone();
    }

    /** The 32 bytes as a read-only buffer, for decoding without a copy. */
    public ByteBuffer buffer() {
        return ByteBuffer.wrap(value).asReadOnlyBuffer();
    }

    /** How many times a value has been published on this resource. */
    public long sequence() {
        return sequence;
    }

    public boolean valid() {
        return valid;
    }

    /** The block that publishing {@code newValue} over this one yields: next sequence, valid. */
    public LockValueBlock withValue(byte[] newValue) {
        return new LockValueBlock(newValue, sequence + 1, true);
    }

    /** This block marked as possibly stale; value and sequence are kept. */
    public LockValueBlock invalidated() {
        return valid ? new LockValueBlock(value, sequence, false) : this;
    }

    static byte[] checkedCopy(byte[] value) {
        if (value.length != SIZE) {
            throw new IllegalArgumentException("a lock value block is " + SIZE + " bytes, not " + value.length);
        }
        return value.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LockValueBlock other
                && sequence == other.sequence && valid == other.valid && Arrays.equals(value, other.value);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(sequence) * 31 + Arrays.hashCode(value) + (valid ? 1 : 0);
    }

    @Override
    public String toString() {
        return "LVB{seq=" + sequence + (valid ? "" : ", INVALID") + ", " + HexFormat.of().formatHex(value) + "}";
    }
}
