package io.concord.fsck;

import io.concord.device.BlockDevice;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads blocks through a small LRU cache of aligned 64 KiB chunks. Inodes are allocated near
 * their directory and tree nodes near their inode, and the scans go in block order, so one chunk
 * read usually serves the next several blocks asked for. Blocks come back as read-only slices of
 * chunk arrays that are never reused, so a caller may keep one while reading others.
 */
final class BlockReader {
    private static final int CHUNK_BYTES = 64 << 10;
    private static final int CHUNKS_CACHED = 128;

    private final BlockDevice device;
    private final int blockSize;
    private final int blocksPerChunk;
    private final long totalBlocks;
    private final Map<Long, ByteBuffer> chunks = new LinkedHashMap<>(CHUNKS_CACHED * 2, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, ByteBuffer> eldest) {
            return size() > CHUNKS_CACHED;
        }
    };

    BlockReader(BlockDevice device, int blockSize, long totalBlocks) {
        this.device = device;
        this.blockSize = blockSize;
        this.blocksPerChunk = Math.max(1, CHUNK_BYTES / blockSize);
        this.totalBlocks = Math.min(totalBlocks, device.size() / blockSize);
    }

    int blockSize() {
        return blockSize;
    }

    /**
     * The block's bytes (capacity = the block size), read-only.
     *
     * @throws io.concord.errors.DeviceException when the device fails the read
     */
    ByteBuffer read(long block) {
        if (block < 0 || block >= totalBlocks) {
            throw new IllegalArgumentException("block " + block + " is outside the device");
        }
        long chunk = block / blocksPerChunk;
        ByteBuffer c = chunks.get(chunk);
        if (c == null) {
            c = readChunk(chunk);
        }
        if (c == null) {
            // One bad sector must not hide its neighbours: the block alone, uncached.
            ByteBuffer one = ByteBuffer.allocate(blockSize);
            device.read(block * blockSize, one);
            return one.clear().asReadOnlyBuffer();
        }
        int index = (int) (block - chunk * blocksPerChunk);
        return c.slice(index * blockSize, blockSize).asReadOnlyBuffer();
    }

    /** The whole chunk, cached; null when the device fails to read it whole. */
    private ByteBuffer readChunk(long chunk) {
        long first = chunk * blocksPerChunk;
        int blocks = (int) Math.min(blocksPerChunk, totalBlocks - first);
        ByteBuffer c = ByteBuffer.allocate(blocks * blockSize);
        try {
            device.read(first * blockSize, c);
        } catch (RuntimeException e) {
            return null;
        }
        chunks.put(chunk, c);
        return c;
    }
}
