package io.concord.journal;

import io.concord.device.BlockDevice;
import io.concord.format.BlockType;
import io.concord.format.LogBlockList;
import io.concord.format.LogCommit;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Lays log blocks into a ring by hand, exactly as {@link Journal#commit} would, for tests that need
 * a ring no running journal leaves behind (a lost transaction with an older lap's in its place).
 */
final class LogWriter {
    private final BlockDevice device;
    private final JournalRegion region;

    LogWriter(BlockDevice device, JournalRegion region) {
        this.device = device;
        this.region = region;
    }

    /** An empty commit naming itself as the tail. Returns the ring index after it. */
    int marker(int index, long sequence) {
        return transaction(index, sequence, Map.of(), sequence, index);
    }

    /** One descriptor, the images, one commit whose CRC covers them. Returns the ring index after it. */
    int transaction(int start, long sequence, Map<Long, ByteBuffer> images, long tailSequence, int tailIndex) {
        int bs = region.blockSize();
        int length = images.isEmpty() ? 0 : 1 + images.size();
        CRC32C crc = new CRC32C();
        int at = start;
        if (!images.isEmpty()) {
            long[] blocks = images.keySet().stream().mapToLong(Long::longValue).toArray();
            ByteBuffer descriptor = ByteBuffer.allocate(bs);
            new LogBlockList(BlockType.LOG_DESCRIPTOR, sequence, blocks).encode(descriptor, region.ringBlock(at), region.journalId(), region.fsId());
            crc.update(descriptor.duplicate().clear());
            put(at++, descriptor);
            for (long b : blocks) {
                ByteBuffer image = images.get(b).duplicate().clear();
                crc.update(image.duplicate());
                put(at++, image);
            }
        }
        ByteBuffer commit = ByteBuffer.allocate(bs);
        new LogCommit(sequence, start, length, (int) crc.getValue(), tailSequence, tailIndex, 0)
                .encode(commit, region.ringBlock(at), region.journalId(), region.fsId());
        put(at++, commit);
        return region.next(at, 0);
    }

    private void put(int index, ByteBuffer block) {
        device.write(region.ringBlock(index) * region.blockSize(), block.duplicate().clear());
    }
}
