package io.concord.fsck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The per-block bits and the per-inode table, on which the checker's memory budget rests. */
class PrimitivesTest {
    @Test
    @Timeout(10)
    void longBitsFindsSetAndNotBitsAcrossWords() {
        LongBits a = new LongBits(1000);
        LongBits b = new LongBits(1000);
        for (long i : new long[] {0, 63, 64, 65, 500, 999}) {
            a.set(i);
        }
        b.set(64);
        b.set(500);
        assertEquals(0, a.nextSetAndNot(b, 0));
        assertEquals(63, a.nextSetAndNot(b, 1));
        assertEquals(65, a.nextSetAndNot(b, 64));
        assertEquals(999, a.nextSetAndNot(b, 66));
        assertEquals(-1, a.nextSetAndNot(b, 1000));
        assertEquals(6, a.count());
        assertEquals(3, a.count(63, 500));
        assertFalse(a.get(1000));
        assertTrue(a.get(999));
    }

    @Test
    @Timeout(30)
    void inodeTableKeepsAMillionInodesApart() {
        InodeTable t = new InodeTable();
        int n = 1_000_000;
        Random random = new Random(5);
        long[] inos = new long[n];
        for (int i = 0; i < n; i++) {
            inos[i] = 1 + (random.nextLong() >>> 20);
            int slot = t.add(inos[i]);
            t.setLoaded(slot, i & 15, i);
            t.addRef(slot, (i & 1) == 1);
        }
        for (int i = 0; i < n; i += 997) {
            int slot = t.slot(inos[i]);
            assertEquals(inos[i], t.inode(slot));
            assertTrue(t.is(slot, InodeTable.LOADED));
            if (t.refs(slot) + t.orphanRefs(slot) == 1) { // a random collision would count twice
                assertEquals(i, t.nlink(slot));
                assertEquals((i & 1) == 1 ? 1 : 0, t.orphanRefs(slot));
            }
        }
        assertEquals(-1, t.slot(0x7FFF_FFFF_FFFF_FFFFL));
        assertEquals(t.size(), t.slots().length);
    }
}
