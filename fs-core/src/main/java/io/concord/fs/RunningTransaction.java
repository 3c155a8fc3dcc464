package io.concord.fs;

import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The metadata changes made since the last commit: new block images, blocks to revoke, blocks
 * freed (which must not be reused until this transaction is durable, or a crash could leave the
 * old owner pointing at a new owner's data), and whether file data was written for it.
 * Many operations share one running transaction (group commit). Guarded by the filesystem lock.
 */
final class RunningTransaction {
    final Map<Long, ByteBuffer> images = new LinkedHashMap<>();
    final Set<Long> revokes = new HashSet<>();
    final Set<Long> freed = new HashSet<>();
    boolean orderedData;

    boolean isEmpty() {
        return images.isEmpty() && revokes.isEmpty() && !orderedData;
    }

    /** Log blocks this transaction would take, roughly: images plus descriptor and revoke blocks. */
    int logBlocks(int perListBlock) {
        return images.size() + images.size() / perListBlock + revokes.size() / perListBlock + 2;
    }
}
