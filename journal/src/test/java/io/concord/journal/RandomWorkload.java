package io.concord.journal;

import io.concord.device.BlockDevice;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A seeded stream of transactions over a disk's data blocks, and the data area that a replay of
 * everything committed so far must leave.
 *
 * <p>Each transaction logs new images of 1..{@code maxImages} blocks; now and then it also revokes
 * a block that holds metadata, as a filesystem does when it frees one. Once that commit returns the
 * block is reused for file data, written in place and synced, so any replay of its older images
 * would show. A transaction never both revokes and logs the same block.
 */
final class RandomWorkload {
    private final JournalDisk disk;
    private final SplittableRandom random;
    private final int maxImages;
    private final boolean revokes;
    private final Map<Long, byte[]> expected;
    private final Set<Long> metadata = new HashSet<>();
    private long version;

    RandomWorkload(JournalDisk disk, long seed, int maxImages) {
        this(disk, seed, maxImages, true);
    }

    /** With {@code revokes} false every transaction only logs images. */
    RandomWorkload(JournalDisk disk, long seed, int maxImages, boolean revokes) {
        this.disk = disk;
        this.revokes = revokes;
        this.random = new SplittableRandom(seed);
        this.maxImages = maxImages;
        this.expected = disk.zeros();
    }

    LoggedTransaction next() {
        List<Long> pool = disk.dataBlockNumbers();
        Set<Long> revoked = new HashSet<>();
        if (this.revokes && !metadata.isEmpty() && random.nextInt(6) == 0) {
            List<Long> candidates = new ArrayList<>(metadata);
            candidates.sort(null);
            revoked.add(candidates.get(random.nextInt(candidates.size())));
        }
        Map<Long, ByteBuffer> images = new LinkedHashMap<>();
        int count = 1 + random.nextInt(maxImages);
        while (images.size() < count) {
            long b = pool.get(random.nextInt(pool.size()));
            if (!revoked.contains(b)) {
                images.put(b, disk.image(b, ++version));
            }
        }
        return new LoggedTransaction(images, revoked, random.nextInt(4) == 0);
    }

    /**
     * Records that {@code tx} committed, and reuses the blocks it revoked for file data: written on
     * {@code dataDevice} and flushed there.
     */
    void committed(LoggedTransaction tx, BlockDevice dataDevice) {
        expected.putAll(imagesOf(tx));
        metadata.addAll(tx.images().keySet());
        for (long b : tx.revokes()) {
            byte[] data = JournalDisk.data(b, ++version);
            JournalDisk.write(dataDevice, b, data);
            expected.put(b, data);
            metadata.remove(b);
        }
        if (!tx.revokes().isEmpty()) {
            dataDevice.flush();
        }
    }

    /** What replay must leave once everything committed so far is redone. */
    Map<Long, byte[]> expected() {
        return new LinkedHashMap<>(expected);
    }

    /** {@link #expected()} with {@code tx}'s images applied as well. */
    Map<Long, byte[]> expectedWith(LoggedTransaction tx) {
        Map<Long, byte[]> after = expected();
        after.putAll(imagesOf(tx));
        return after;
    }

    private static Map<Long, byte[]> imagesOf(LoggedTransaction tx) {
        Map<Long, byte[]> out = new LinkedHashMap<>();
        tx.images().forEach((b, image) -> out.put(b, JournalDisk.bytes(image)));
        return out;
    }
}
