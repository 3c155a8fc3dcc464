package io.concord.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A real mount answers ordinary file operations, and unmounts to a clean image. */
@Timeout(60)
class MountSmokeTest {
    @TempDir
    Path tmp;

    @Test
    void filesWrittenThroughTheMountReadBackAndSurviveARemount() throws Exception {
        Path image;
        try (MountedFs m = MountedFs.create(tmp)) {
            image = m.image();
            Files.createDirectory(m.dir().resolve("d"));
            Files.writeString(m.dir().resolve("d/hello.txt"), "hello, world\n");
            assertEquals("hello, world\n", Files.readString(m.dir().resolve("d/hello.txt")));
            try (var s = Files.list(m.dir().resolve("d"))) {
                assertEquals(List.of("hello.txt"), s.map(p -> p.getFileName().toString()).toList());
            }
        }
        try (MountedFs m = MountedFs.mount(image, tmp.resolve("mnt2"), "")) {
            assertEquals("hello, world\n", Files.readString(m.dir().resolve("d/hello.txt")));
            assertTrue(Files.isDirectory(m.dir().resolve("d")));
        }
    }

    /** The {@code direct} option (O_DIRECT on the image): mounts, writes, reads back after a remount, checks clean. */
    @Test
    void aDirectMountWritesAndReadsBackThroughODirect() throws Exception {
        Path image;
        byte[] data = new byte[3 * 1024 * 1024 + 123];
        new java.util.SplittableRandom(5).nextBytes(data);
        try (MountedFs m = MountedFs.create(tmp, 1L << 30, "direct")) {
            image = m.image();
            Files.write(m.dir().resolve("big"), data);
            Files.writeString(m.dir().resolve("small"), "x");
        }
        try (MountedFs m = MountedFs.mount(image, tmp.resolve("mnt2"), "direct")) {
            assertTrue(java.util.Arrays.equals(data, Files.readAllBytes(m.dir().resolve("big"))));
            assertEquals("x", Files.readString(m.dir().resolve("small")));
        }
        FsckSupport.assertClean(image);
    }

    /** O_TRUNC truncates also with O_RDONLY when the caller may write, as Linux does on ext4. */
    @Test
    void openWithTruncateEmptiesTheFileEvenForReading() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path f = m.dir().resolve("t");
            Files.writeString(f, "some content");
            // open(2) itself: Java ignores TRUNCATE_EXISTING on a read-only open.
            int fd = PosixSyscalls.open(f, 0 /* O_RDONLY */ | 01000 /* O_TRUNC */).expectOk("open O_RDONLY|O_TRUNC").fd();
            PosixSyscalls.close(fd);
            assertEquals(0, Files.size(f));
            Files.writeString(f, "again");
            Files.writeString(f, "x", java.nio.file.StandardOpenOption.TRUNCATE_EXISTING);
            assertEquals("x", Files.readString(f));
        }
    }
}
