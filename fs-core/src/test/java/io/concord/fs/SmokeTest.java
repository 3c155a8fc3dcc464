package io.concord.fs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.device.BlockDevice;
import io.concord.errors.FsException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class SmokeTest {
    @TempDir
    Path tmp;

    @Test
    void filesDirectoriesAndDataSurviveRemount() throws Exception {
        byte[] payload = new byte[3 * 1024 * 1024 + 123];
        new Random(7).nextBytes(payload);
        try (BlockDevice dev = TestFs.formatted(tmp, 256L << 20, 2)) {
            long dir;
            try (ConcordFs fs = TestFs.mount(dev)) {
                dir = fs.mkdir(Caller.ROOT, fs.root(), "d", 0755).inode();
                long f = fs.create(Caller.ROOT, dir, "f", 0644).inode();
                assertEquals(payload.length, fs.write(Caller.ROOT, f, 0, ByteBuffer.wrap(payload)));
                for (int i = 0; i < 2000; i++) {
                    fs.create(Caller.ROOT, dir, "n" + i, 0644);
                }
                fs.symlink(Caller.ROOT, dir, "s", "f");
            }
            try (ConcordFs fs = TestFs.mount(dev)) {
                long d = fs.lookup(Caller.ROOT, fs.root(), "d").inode();
                assertEquals(dir, d);
                Attributes f = fs.lookup(Caller.ROOT, d, "f");
                assertEquals(payload.length, f.size());
                ByteBuffer back = ByteBuffer.allocate(payload.length);
                assertEquals(payload.length, fs.read(f.inode(), 0, back));
                assertArrayEquals(payload, back.array());
                Set<String> names = new HashSet<>();
                long cookie = 0;
                while (true) {
                    List<DirListEntry> page = fs.readdir(Caller.ROOT, d, cookie, 100);
                    if (page.isEmpty()) {
                        break;
                    }
                    for (DirListEntry e : page) {
                        assertTrue(names.add(e.name()), "listed twice: " + e.name());
                    }
                    cookie = page.get(page.size() - 1).cookie();
                }
                assertEquals(2000 + 2 + 2, names.size());
                assertEquals("f", fs.readlink(fs.lookup(Caller.ROOT, d, "s").inode()));
                for (int i = 0; i < 2000; i++) {
                    fs.unlink(Caller.ROOT, d, "n" + i);
                }
                assertThrows(FsException.class, () -> fs.lookup(Caller.ROOT, d, "n5"));
                long free = fs.statfs().freeBlocks();
                fs.unlink(Caller.ROOT, d, "f");
                fs.sync();
                assertTrue(fs.statfs().freeBlocks() > free + payload.length / 4096 - 2);
            }
        }
    }
}
