package io.concord.journal;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Set;

/**
 * What a caller asks the journal to commit: the new images of whole metadata blocks (each exactly
 * one block long, already sealed), the blocks whose older logged images must never be replayed
 * again (they were freed), and whether file data was written in place for it, in which case the
 * device is flushed before the log is written ({@code data=ordered}).
 */
public record LoggedTransaction(Map<Long, ByteBuffer> images, Set<Long> revokes, boolean orderedData) {
    public boolean isEmpty() {
        return images.isEmpty() && revokes.isEmpty();
    }
}
