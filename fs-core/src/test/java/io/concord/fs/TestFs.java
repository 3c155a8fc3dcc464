package io.concord.fs;

import io.concord.device.BlockDevice;
import io.concord.device.FileBlockDevice;
import io.concord.dlm.NoLockManager;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.SplittableRandom;

/** Makes image files and mounts them, for fs-core's tests. */
final class TestFs {
    private TestFs() {
    }

    static Path image(Path dir, long bytes) throws IOException {
        Path p = dir.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(bytes);
        }
        return p;
    }

    static BlockDevice formatted(Path dir, long bytes, int journals) throws IOException {
        BlockDevice dev = FileBlockDevice.open(image(dir, bytes), false, false);
        Mkfs.format(dev, MkfsOptions.of("test:fs", journals), new SplittableRandom(1), Clock.systemUTC(), p -> { });
        return dev;
    }

    static ConcordFs mount(BlockDevice dev) {
        return ConcordFs.mount(dev, new NoLockManager(), MountOptions.defaults().withCommitInterval(Duration.ofHours(1)));
    }
}
