package io.concord.harness;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.device.FileBlockDevice;
import io.concord.fs.Attributes;
import io.concord.fs.Caller;
import io.concord.fs.ConcordFs;
import io.concord.fs.MkfsOptions;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A sparse file past 1 TiB on a small device: data at both ends, a hole between, all after a remount. */
@Timeout(60)
class HugeSparseFileTest {
    private static final long TIB = 1L << 40;

    @TempDir
    Path tmp;

    @Test
    void aFileOfMoreThanOneTebibyteKeepsDataAtBothEndsAndAHoleBetween() throws Exception {
        Path image = Images.formatted(tmp.resolve("s.img"), 128L << 20, MkfsOptions.of("s:fs", 1).withJournalMb(4), 9);
        byte[] head = "first block".getBytes(StandardCharsets.UTF_8);
        byte[] tail = "beyond one tebibyte".getBytes(StandardCharsets.UTF_8);
        long tailAt = TIB + 12345;
        long ino;
        try (FileBlockDevice dev = FileBlockDevice.open(image, false, false); ConcordFs fs = Images.mount(dev, 0)) {
            ino = fs.create(Caller.ROOT, fs.root(), "huge", 0644).inode();
            fs.write(Caller.ROOT, ino, 0, ByteBuffer.wrap(head));
            fs.write(Caller.ROOT, ino, tailAt, ByteBuffer.wrap(tail));
        }
        try (FileBlockDevice dev = FileBlockDevice.open(image, false, false); ConcordFs fs = Images.mount(dev, 0)) {
            Attributes a = fs.getattr(ino);
            assertEquals(tailAt + tail.length, a.size());
            assertTrue(a.blocks() <= 8 * 8, "only the written blocks are allocated: " + a.blocks() + " sectors");
            ByteBuffer b = ByteBuffer.allocate(tail.length);
            fs.read(ino, tailAt, b);
            assertArrayEquals(tail, b.array());
            ByteBuffer h = ByteBuffer.allocate(head.length);
            fs.read(ino, 0, h);
            assertArrayEquals(head, h.array());
            ByteBuffer middle = ByteBuffer.allocate(4096);
            fs.read(ino, TIB / 2, middle);
            assertArrayEquals(new byte[4096], middle.array(), "the middle is a hole");
            assertEquals(4096, fs.lseek(ino, 0, ConcordFs.SEEK_HOLE));
            assertEquals(tailAt / 4096 * 4096, fs.lseek(ino, 4096, ConcordFs.SEEK_DATA));
        }
        FsckSupport.assertClean(image);
    }
}
