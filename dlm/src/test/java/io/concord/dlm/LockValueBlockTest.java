package io.concord.dlm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LockValueBlockTest {
    @Test
    void emptyIsZerosAtSequenceZeroAndValid() {
        assertArrayEquals(new byte[32], LockValueBlock.EMPTY.value());
        assertEquals(0, LockValueBlock.EMPTY.sequence());
        assertTrue(LockValueBlock.EMPTY.valid());
    }

    @Test
    void publishingIncrementsSequenceAndRevalidates() {
        byte[] value = new byte[32];
        value[0] = 42;
        LockValueBlock next = LockValueBlock.EMPTY.invalidated().withValue(value);
        assertEquals(1, next.sequence());
        assertTrue(next.valid());
        assertEquals(42, next.buffer().get(0));
    }

    @Test
    void invalidatingKeepsValueAndSequence() {
        LockValueBlock published = LockValueBlock.EMPTY.withValue(filled((byte) 5));
        LockValueBlock stale = published.invalidated();
        assertFalse(stale.valid());
        assertEquals(published.sequence(), stale.sequence());
        assertArrayEquals(published.value(), stale.value());
    }

    @Test
    void isImmutableAgainstCallersArrays() {
        byte[] value = filled((byte) 1);
        LockValueBlock block = new LockValueBlock(value, 3, true);
        value[0] = 9;
        block.value()[1] = 9;
        assertArrayEquals(filled((byte) 1), block.value());
        assertThrows(java.nio.ReadOnlyBufferException.class, () -> block.buffer().put(0, (byte) 9));
    }

    @Test
    void rejectsWrongLengthAndNegativeSequence() {
        assertThrows(IllegalArgumentException.class, () -> new LockValueBlock(new byte[31], 0, true));
        assertThrows(IllegalArgumentException.class, () -> new LockValueBlock(new byte[33], 0, true));
        assertThrows(IllegalArgumentException.class, () -> new LockValueBlock(new byte[32], -1, true));
    }

    private static byte[] filled(byte b) {
        byte[] value = new byte[32];
        java.util.Arrays.fill(value, b);
        return value;
    }
}
