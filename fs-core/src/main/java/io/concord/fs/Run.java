package io.concord.fs;

/** A run of contiguous device blocks. */
record Run(long start, int length) {
    long end() {
        return start + length;
    }
}
