package io.concord.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.concord.device.BlockDevice;
import io.concord.device.FileBlockDevice;
import io.concord.errors.FsException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.function.Executable;

/**
 * A formatted image mounted for the operation tests ({@code *OpsTest}), and the few checks they
 * share. The mount can be dropped and taken again on the same device, as an unmount and mount.
 */
final class OpsFixtures implements AutoCloseable {
    /** Sparse, so the file costs only what mkfs and the test write. */
    static final long IMAGE_BYTES = 256L << 20;
    static final int BLOCK = 4096;

    private final BlockDevice device;
    private ConcordFs fs;

    private OpsFixtures(BlockDevice device) {
        this.device = device;
        this.fs = TestFs.mount(device);
    }

    /** A fresh 256 MiB filesystem with one journal, mounted. */
    static OpsFixtures mounted(Path dir) throws IOException {
        return new OpsFixtures(TestFs.formatted(dir, IMAGE_BYTES, 1));
    }

    /** A fresh filesystem of {@code bytes} made with {@code options}, mounted. */
    static OpsFixtures mounted(Path dir, long bytes, MkfsOptions options) throws IOException {
        BlockDevice dev = FileBlockDevice.open(TestFs.image(dir, bytes), false, false);
        Mkfs.format(dev, options, new SplittableRandom(1), Clock.systemUTC(), p -> { });
        return new OpsFixtures(dev);
    }

    ConcordFs fs() {
        return fs;
    }

    /** Unmounts cleanly and mounts the same device again. */
    ConcordFs remount() {
        fs.close();
        fs = TestFs.mount(device);
        return fs;
    }

    @Override
    public void close() {
        try {
            fs.close();
        } finally {
            device.close();
        }
    }

    /** Asserts that {@code op} fails with an {@link FsException} of {@code kind}; returns it. */
    static FsException assertFails(FsException.Kind kind, Executable op) {
        return assertFails(kind, op, "");
    }

    static FsException assertFails(FsException.Kind kind, Executable op, String why) {
        FsException e = assertThrows(FsException.class, op, why);
        assertEquals(kind, e.kind(), () -> why + " (" + e.getMessage() + ")");
        return e;
    }

    /** Bytes that differ from block to block and from one seed to another, never all zero. */
    static byte[] pattern(int length, long seed) {
        byte[] b = new byte[length];
        new SplittableRandom(seed).nextBytes(b);
        for (int i = 0; i < length; i += 997) {
            b[i] = (byte) (b[i] | 1);
        }
        return b;
    }

    static int write(ConcordFs fs, long ino, long offset, byte[] bytes) {
        return fs.write(Caller.ROOT, ino, offset, ByteBuffer.wrap(bytes));
    }

    /** Reads {@code length} bytes at {@code offset}, fewer at end of file. */
    static byte[] read(ConcordFs fs, long ino, long offset, int length) {
        ByteBuffer dst = ByteBuffer.allocate(length);
        long at = offset;
        while (dst.hasRemaining()) {
            int n = fs.read(ino, at, dst);
            if (n == 0) {
                break;
            }
            at += n;
        }
        return Arrays.copyOf(dst.array(), dst.position());
    }

    static byte[] readAll(ConcordFs fs, long ino) {
        return read(fs, ino, 0, Math.toIntExact(fs.getattr(ino).size()));
    }

    static byte[] zeros(int length) {
        return new byte[length];
    }

    static byte[] slice(byte[] b, int from, int to) {
        return Arrays.copyOfRange(b, from, to);
    }
}
