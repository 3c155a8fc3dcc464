package io.concord.harness;

import io.concord.device.BlockDevice;
import io.concord.device.FileBlockDevice;
import io.concord.dlm.NoLockManager;
import io.concord.fs.ConcordFs;
import io.concord.fs.Mkfs;
import io.concord.fs.MkfsOptions;
import io.concord.fs.MountOptions;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.SplittableRandom;

/** Disk images for tests: sparse files, formatted and mounted as a node would. */
public final class Images {
    private Images() {
    }

    /** A sparse file of {@code bytes} at {@code path}. */
    public static Path sparseFile(Path path, long bytes) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw")) {
            f.setLength(bytes);
        }
        return path;
    }

    /** Formats a new sparse image and returns it, closed. */
    public static Path formatted(Path path, long bytes, MkfsOptions options, long seed) throws IOException {
        sparseFile(path, bytes);
        try (BlockDevice dev = FileBlockDevice.open(path, false, false)) {
            Mkfs.format(dev, options, new SplittableRandom(seed), Clock.systemUTC(), p -> { });
        }
        return path;
    }

    /** Mounts with the single-node lock manager and a commit interval long enough not to interfere. */
    public static ConcordFs mount(BlockDevice dev, int journal) {
        return ConcordFs.mount(dev, new NoLockManager(), MountOptions.defaults().withJournal(journal).withCommitInterval(Duration.ofHours(1)));
    }
}
