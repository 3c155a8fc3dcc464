package io.concord.fsck;

import java.util.Arrays;

/** A growable stack of longs: the directories still to walk, without a boxed Long each. */
final class LongStack {
    private long[] items = new long[64];
    private int size;

    void push(long v) {
        if (size == items.length) {
            items = Arrays.copyOf(items, size * 2);
        }
        items[size++] = v;
    }

    long pop() {
        return items[--size];
    }

    boolean isEmpty() {
        return size == 0;
    }
}
