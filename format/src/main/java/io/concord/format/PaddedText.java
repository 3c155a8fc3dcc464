package io.concord.format;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Fixed-size text fields of on-disk records: UTF-8, NUL padded, no terminator when full. */
final class PaddedText {
    private PaddedText() {
    }

    static void put(ByteBuffer block, int offset, int max, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > max) {
            throw new IllegalArgumentException("'" + s + "' is longer than " + max + " bytes");
        }
        block.put(offset, bytes);
    }

    static String get(ByteBuffer block, int offset, int max) {
        byte[] bytes = new byte[max];
        block.get(offset, bytes);
        int len = 0;
        while (len < max && bytes[len] != 0) {
            len++;
        }
        return new String(bytes, 0, len, StandardCharsets.UTF_8);
    }

    /** {@code s} cut to at most {@code max} bytes of UTF-8 without splitting a character. */
    static String truncate(String s, int max) {
        String t = s;
        while (t.getBytes(StandardCharsets.UTF_8).length > max) {
            t = t.substring(0, t.length() - 1);
        }
        return t;
    }
}
