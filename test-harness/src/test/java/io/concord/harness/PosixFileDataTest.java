package io.concord.harness;

import static io.concord.harness.PosixSyscalls.ENXIO;
import static io.concord.harness.PosixSyscalls.SEEK_DATA;
import static io.concord.harness.PosixSyscalls.SEEK_HOLE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.fs.ConcordFs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * File contents through the mount: read, write, truncate, O_APPEND, fallocate, SEEK_DATA and
 * SEEK_HOLE, a sparse file past 4 GiB, mmap (shared mappings and read(2) see one page cache),
 * O_DIRECT, fsync, and a file read after its last name is gone.
 */
@Timeout(120)
class PosixFileDataTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path tmp;

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    private static byte[] readAt(FileChannel ch, long offset, int n) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (ch.read(b, offset + b.position()) < 0) {
                break;
            }
        }
        return Arrays.copyOf(b.array(), b.position());
    }

    @Test
    void writesReadBackAndTruncateShrinksAndGrowsWithZeros() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path f = m.dir().resolve("data");
            byte[] data = random(300_000, 1);
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(data);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
            }
            assertEquals(data.length, Files.size(f));
            assertArrayEquals(data, Files.readAllBytes(f));

            // An unaligned overwrite in the middle.
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap("OVERWRITE".getBytes(StandardCharsets.US_ASCII)), 4093);
            }
            System.arraycopy("OVERWRITE".getBytes(StandardCharsets.US_ASCII), 0, data, 4093, 9);
            assertArrayEquals(data, Files.readAllBytes(f));

            PosixSyscalls.truncate(f, 5000).expectOk("truncate down");
            assertEquals(5000, Files.size(f));
            assertArrayEquals(Arrays.copyOf(data, 5000), Files.readAllBytes(f));
            PosixSyscalls.truncate(f, 70_000).expectOk("truncate up");
            byte[] grown = Files.readAllBytes(f);
            assertEquals(70_000, grown.length);
            assertArrayEquals(Arrays.copyOf(data, 5000), Arrays.copyOf(grown, 5000));
            assertTrue(allZero(grown, 5000, 70_000), "the bytes past the old end read as zeros, not the old data");

            // O_TRUNC empties, O_APPEND always writes at the end.
            Files.writeString(f, "first\n");
            Files.writeString(f, "second\n", StandardOpenOption.APPEND);
            assertEquals("first\nsecond\n", Files.readString(f));
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                assertEquals(0, ch.size());
            }
            assertEquals(0, Files.size(f));

            // A write past the end leaves a hole that reads as zeros.
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(new byte[] {7}), 3 * MIB + 5);
            }
            byte[] holey = Files.readAllBytes(f);
            assertEquals(3 * MIB + 6, holey.length);
            assertTrue(allZero(holey, 0, 3 * MIB + 5));
            assertEquals(7, holey[3 * MIB + 5]);
        }
    }

    private static boolean allZero(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    @Test
    void fallocateReservesBlocksAndKeepSizePunchHoleAndZeroRangeDoWhatTheySay() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            PosixProcess.Outcome o = PosixProcess.sh(m.dir(), "fallocate -l 8MiB big && stat -c '%s %b %B' big");
            assertEquals(0, o.exit(), o.toString());
            String[] st = o.out().trim().split(" ");
            assertEquals(8 * MIB, Long.parseLong(st[0]), "fallocate sets the size");
            assertTrue(Long.parseLong(st[1]) * Long.parseLong(st[2]) >= 8 * MIB, "the blocks are reserved: " + o.out());
            assertTrue(allZero(Files.readAllBytes(m.dir().resolve("big")), 0, 8 * MIB), "preallocated space reads as zeros");

            PosixProcess.Outcome keep = PosixProcess.sh(m.dir(), "printf abc > keep && fallocate -n -o 0 -l 4MiB keep && stat -c '%s %b %B' keep");
            assertEquals(0, keep.exit(), "fallocate --keep-size on a small file: " + keep);
            String[] k = keep.out().trim().split(" ");
            assertEquals(3, Long.parseLong(k[0]), "KEEP_SIZE leaves the size");
            assertTrue(Long.parseLong(k[1]) * Long.parseLong(k[2]) >= 4 * MIB, "but reserves the blocks: " + keep.out());
            assertEquals("abc", Files.readString(m.dir().resolve("keep")));

            Path f = m.dir().resolve("punch");
            byte[] data = random(3 * MIB, 2);
            Files.write(f, data);
            long blocksBefore = PosixSyscalls.stat(f).blocks();
            PosixProcess.Outcome punch = PosixProcess.sh(m.dir(), "fallocate -p -o 1MiB -l 1MiB punch");
            assertEquals(0, punch.exit(), punch.toString());
            byte[] after = Files.readAllBytes(f);
            assertEquals(3 * MIB, after.length, "punching a hole keeps the size");
            assertArrayEquals(Arrays.copyOfRange(data, 0, MIB), Arrays.copyOfRange(after, 0, MIB));
            assertTrue(allZero(after, MIB, 2 * MIB), "the punched range reads as zeros");
            assertArrayEquals(Arrays.copyOfRange(data, 2 * MIB, 3 * MIB), Arrays.copyOfRange(after, 2 * MIB, 3 * MIB));
            assertTrue(PosixSyscalls.stat(f).blocks() <= blocksBefore - MIB / 512, "the punched blocks are freed");

            PosixProcess.Outcome zero = PosixProcess.sh(m.dir(), "fallocate -z -o 100 -l 5000 punch");
            assertEquals(0, zero.exit(), zero.toString());
            byte[] z = Files.readAllBytes(f);
            assertArrayEquals(Arrays.copyOfRange(data, 0, 100), Arrays.copyOfRange(z, 0, 100));
            assertTrue(allZero(z, 100, 5100), "an unaligned zeroed range reads as zeros");
            assertArrayEquals(Arrays.copyOfRange(data, 5100, MIB), Arrays.copyOfRange(z, 5100, MIB));
        }
    }

    @Test
    void fallocateOfASmallFileKeepsItsDataAndExtendsIt() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path f = m.dir().resolve("small");
            Files.writeString(f, "hello");
            int fd = PosixSyscalls.open(f, PosixSyscalls.O_RDWR).expectOk("open").fd();
            try {
                PosixSyscalls.fallocate(fd, 0, 0, MIB).expectOk("fallocate(0, 1 MiB) of a 5-byte file");
            } finally {
                PosixSyscalls.close(fd);
            }
            assertEquals(MIB, Files.size(f));
            byte[] b = Files.readAllBytes(f);
            assertEquals("hello", new String(b, 0, 5, StandardCharsets.US_ASCII));
            assertTrue(allZero(b, 5, MIB));
        }
    }

    @Test
    void seekDataAndSeekHoleFindTheWrittenExtentsOfASparseFile() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path f = m.dir().resolve("sparse");
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(random(64 * 1024, 3)), 0);
                ch.write(ByteBuffer.wrap(random(64 * 1024, 4)), MIB);
                ch.truncate(2 * MIB);
            }
            PosixSyscalls.truncate(f, 2 * MIB).expectOk("a hole at the end");
            int fd = PosixSyscalls.open(f, PosixSyscalls.O_RDONLY).expectOk("open").fd();
            try {
                assertEquals(0, PosixSyscalls.lseek(fd, 0, SEEK_DATA).expectOk("SEEK_DATA 0").value());
                assertEquals(64 * 1024, PosixSyscalls.lseek(fd, 0, SEEK_HOLE).expectOk("SEEK_HOLE 0").value());
                assertEquals(1000, PosixSyscalls.lseek(fd, 1000, SEEK_DATA).expectOk("SEEK_DATA inside data").value());
                assertEquals(MIB, PosixSyscalls.lseek(fd, 64 * 1024, SEEK_DATA).expectOk("SEEK_DATA from the hole").value());
                assertEquals(100_000, PosixSyscalls.lseek(fd, 100_000, SEEK_HOLE).expectOk("SEEK_HOLE inside a hole").value());
                assertEquals(MIB + 64 * 1024, PosixSyscalls.lseek(fd, MIB, SEEK_HOLE).expectOk("SEEK_HOLE after the second extent").value());
                PosixSyscalls.lseek(fd, MIB + 64 * 1024, SEEK_DATA).expectErrno(ENXIO, "SEEK_DATA in the trailing hole");
                assertEquals(2 * MIB - 1, PosixSyscalls.lseek(fd, 2 * MIB - 1, SEEK_HOLE).expectOk("SEEK_HOLE at the last byte").value());
                PosixSyscalls.lseek(fd, 2 * MIB, SEEK_DATA).expectErrno(ENXIO, "SEEK_DATA at the end");
                PosixSyscalls.lseek(fd, 2 * MIB, SEEK_HOLE).expectErrno(ENXIO, "SEEK_HOLE at the end");
                PosixSyscalls.lseek(fd, 5 * MIB, SEEK_HOLE).expectErrno(ENXIO, "SEEK_HOLE past the end");
            } finally {
                PosixSyscalls.close(fd);
            }
            // A file with no holes has its only hole at the end.
            Path dense = m.dir().resolve("dense");
            Files.write(dense, random(10_000, 5));
            int d = PosixSyscalls.open(dense, PosixSyscalls.O_RDONLY).expectOk("open dense").fd();
            try {
                assertEquals(10_000, PosixSyscalls.lseek(d, 0, SEEK_HOLE).expectOk("SEEK_HOLE of a dense file").value());
                assertEquals(1, PosixSyscalls.lseek(d, 1, SEEK_DATA).expectOk("SEEK_DATA of a dense file").value());
            } finally {
                PosixSyscalls.close(d);
            }
        }
    }

    @Test
    void aSparseFileLargerThanFourGibibytesKeepsItsSizeAndDataAtBothEnds() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path f = m.dir().resolve("huge");
            long far = 5L * 1024 * MIB + 123;
            byte[] head = "head".getBytes(StandardCharsets.US_ASCII);
            byte[] tail = random(10_000, 6);
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
                ch.write(ByteBuffer.wrap(head), 0);
                ch.write(ByteBuffer.wrap(tail), far);
                assertEquals(far + tail.length, ch.size());
                assertArrayEquals(tail, readAt(ch, far, tail.length));
                assertArrayEquals(new byte[4096], readAt(ch, 4L * 1024 * MIB + 17, 4096), "the middle is a hole of zeros");
                assertArrayEquals(head, readAt(ch, 0, 4));
                // 32-bit wrap-around would put the tail on top of the head.
                assertArrayEquals(new byte[] {'h', 'e', 'a', 'd', 0, 0}, readAt(ch, 0, 6));
            }
            PosixSyscalls.Stat st = PosixSyscalls.stat(f);
            assertEquals(far + tail.length, st.size());
            assertTrue(st.blocks() * 512 < 4 * MIB, "only the written blocks are allocated: " + st.blocks() + " sectors");
            PosixProcess.Outcome ls = PosixProcess.sh(m.dir(), "stat -c %s huge && tail -c 10000 huge | cmp - huge --ignore-initial=0:" + far);
            assertEquals(0, ls.exit(), ls.toString());
            assertEquals(Long.toString(far + tail.length), ls.out().lines().findFirst().orElseThrow());

            int fd = PosixSyscalls.open(f, PosixSyscalls.O_RDONLY).expectOk("open").fd();
            try {
                assertEquals(far / 4096 * 4096, PosixSyscalls.lseek(fd, 4096, SEEK_DATA).expectOk("SEEK_DATA past 4 GiB").value());
            } finally {
                PosixSyscalls.close(fd);
            }
            PosixSyscalls.truncate(f, 6L * 1024 * MIB).expectOk("grow to 6 GiB");
            assertEquals(6L * 1024 * MIB, Files.size(f));
            PosixSyscalls.truncate(f, 4L * 1024 * MIB + 1).expectOk("shrink to 4 GiB + 1");
            assertEquals(4L * 1024 * MIB + 1, Files.size(f));
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                assertArrayEquals(new byte[] {0}, readAt(ch, 4L * 1024 * MIB, 10), "the cut tail is gone");
            }
        }
    }

    @Test
    void aSharedMappingAndReadSeeTheSameBytesAndItsWritesReachTheFilesystem() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path f = m.dir().resolve("mapped");
            byte[] initial = random(2 * MIB, 7);
            Files.write(f, initial);
            long ino = PosixSyscalls.stat(f).ino();
            byte[] patch = "written through the mapping".getBytes(StandardCharsets.US_ASCII);
            // Mapped through an arena, so that closing it unmaps (a MappedByteBuffer would keep the mount busy until GC).
            try (FileChannel rw = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE);
                    FileChannel reader = FileChannel.open(f, StandardOpenOption.READ);
                    Arena arena = Arena.ofConfined()) {
                MemorySegment map = rw.map(FileChannel.MapMode.READ_WRITE, 0, 2 * MIB, arena);
                for (int i = 0; i < 2 * MIB; i += 4096) {
                    assertEquals(initial[i], map.get(ValueLayout.JAVA_BYTE, i), "the mapping shows the file at " + i);
                }
                MemorySegment.copy(patch, 0, map, ValueLayout.JAVA_BYTE, MIB + 100, patch.length);
                map.set(ValueLayout.JAVA_BYTE, 0, (byte) 42);
                assertArrayEquals(patch, readAt(reader, MIB + 100, patch.length), "read(2) sees a store to a shared mapping at once");
                assertEquals(42, readAt(reader, 0, 1)[0]);

                // And the other way: a write(2) shows in the mapping.
                rw.write(ByteBuffer.wrap("via write".getBytes(StandardCharsets.US_ASCII)), 5000);
                byte[] seen = map.asSlice(5000, 9).toArray(ValueLayout.JAVA_BYTE);
                assertEquals("via write", new String(seen, StandardCharsets.US_ASCII));

                map.force();
                ByteBuffer direct = ByteBuffer.allocate(patch.length);
                m.filesystem().read(ino, MIB + 100, direct);
                assertArrayEquals(patch, direct.array(), "msync wrote the mapped page back to the filesystem");

                MemorySegment priv = rw.map(FileChannel.MapMode.PRIVATE, 0, 4096, arena);
                priv.set(ValueLayout.JAVA_BYTE, 10, (byte) 99);
                assertEquals(99, priv.get(ValueLayout.JAVA_BYTE, 10));
                assertEquals(initial[10], readAt(reader, 10, 1)[0], "a private mapping's store is not the file's");
            }
            byte[] after = Files.readAllBytes(f);
            assertEquals(42, after[0]);
            assertArrayEquals(patch, Arrays.copyOfRange(after, MIB + 100, MIB + 100 + patch.length));
        }
    }

    @Test
    void directIoWithAlignedBlocksWritesAndReadsTheSameBytes() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path src = tmp.resolve("src.bin");
            byte[] data = random(4 * MIB, 8);
            Files.write(src, data);
            PosixProcess.Outcome w = PosixProcess.sh(m.dir(), "dd if=" + src + " of=direct bs=1M oflag=direct status=none");
            assertEquals(0, w.exit(), w.toString());
            assertArrayEquals(data, Files.readAllBytes(m.dir().resolve("direct")), "dd oflag=direct bs=1M wrote the data");
            Path back = tmp.resolve("back.bin");
            PosixProcess.Outcome r = PosixProcess.sh(m.dir(), "dd if=direct of=" + back + " bs=4096 iflag=direct status=none");
            assertEquals(0, r.exit(), r.toString());
            assertArrayEquals(data, Files.readAllBytes(back), "dd iflag=direct bs=4096 read the data");
            PosixProcess.Outcome small = PosixProcess.sh(m.dir(), "dd if=" + src + " of=direct4k bs=4096 count=3 seek=5 oflag=direct status=none");
            assertEquals(0, small.exit(), small.toString());
            byte[] four = Files.readAllBytes(m.dir().resolve("direct4k"));
            assertEquals(8 * 4096, four.length);
            assertTrue(allZero(four, 0, 5 * 4096));
            assertArrayEquals(Arrays.copyOf(data, 3 * 4096), Arrays.copyOfRange(four, 5 * 4096, 8 * 4096));

            // The same through O_DIRECT descriptors in this process, interleaved with buffered reads.
            Path f = m.dir().resolve("odirect");
            int fd = PosixSyscalls.open(f, PosixSyscalls.O_CREAT | PosixSyscalls.O_RDWR | PosixSyscalls.O_DIRECT, 0644).expectOk("open O_DIRECT").fd();
            try {
                byte[] block = random(8192, 9);
                assertEquals(8192, PosixSyscalls.pwrite(fd, block, 4096).expectOk("O_DIRECT pwrite").value());
                assertArrayEquals(block, PosixSyscalls.pread(fd, 8192, 4096).expectOk("O_DIRECT pread").data());
                byte[] buffered = Files.readAllBytes(f);
                assertArrayEquals(block, Arrays.copyOfRange(buffered, 4096, 4096 + 8192), "a buffered read sees the direct write");
            } finally {
                PosixSyscalls.close(fd);
            }
        }
    }

    @Test
    void appendsFromTwoProcessesNeverOverwriteEachOtherAndParallelWritersLandWhereTheyAimed() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            PosixProcess.Outcome o = PosixProcess.bash(m.dir(), """
                    (for i in $(seq 2000); do echo "one-$i"; done >> log) &
                    (for i in $(seq 2000); do echo "two-$i"; done >> log) &
                    wait
                    """);
            assertEquals(0, o.exit(), o.toString());
            java.util.List<String> lines = Files.readAllLines(m.dir().resolve("log"));
            assertEquals(4000, lines.size(), "O_APPEND: every line of both writers is there");
            assertEquals(2000, lines.stream().filter(l -> l.matches("one-\\d+")).count(), "none torn");
            assertEquals(2000, lines.stream().filter(l -> l.matches("two-\\d+")).count(), "none torn");
            assertEquals(java.util.stream.IntStream.rangeClosed(1, 2000).mapToObj(i -> "one-" + i).toList(),
                    lines.stream().filter(l -> l.startsWith("one-")).toList(), "each writer's lines in its order");

            Path src = tmp.resolve("src.bin");
            byte[] data = random(16 * MIB, 12);
            Files.write(src, data);
            StringBuilder writers = new StringBuilder();
            for (int k = 0; k < 8; k++) {
                writers.append("dd if=").append(src).append(" of=par bs=1M skip=").append(2 * k).append(" seek=").append(2 * k)
                        .append(" count=2 conv=notrunc status=none &\n");
            }
            writers.append("wait\n");
            PosixProcess.Outcome p = PosixProcess.bash(m.dir(), writers.toString());
            assertEquals(0, p.exit(), p.toString());
            assertArrayEquals(data, Files.readAllBytes(m.dir().resolve("par")), "eight processes writing their own 2 MiB at once");
        }
    }

    @Test
    void fsyncAndFdatasyncSucceedOnFilesAndDirectoriesAndLeaveTheDataReadable() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path f = m.dir().resolve("synced");
            byte[] data = random(1 << 18, 10);
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(data));
                ch.force(true);
                ch.write(ByteBuffer.wrap(data), data.length);
                ch.force(false);
            }
            int fd = PosixSyscalls.open(f, PosixSyscalls.O_RDONLY).expectOk("open").fd();
            PosixSyscalls.fsync(fd).expectOk("fsync of a read-only descriptor");
            PosixSyscalls.fdatasync(fd).expectOk("fdatasync");
            PosixSyscalls.close(fd);
            int dir = PosixSyscalls.open(m.dir(), PosixSyscalls.O_RDONLY | PosixSyscalls.O_DIRECTORY).expectOk("open dir").fd();
            PosixSyscalls.fsync(dir).expectOk("fsync of a directory");
            PosixSyscalls.close(dir);
            PosixProcess.Outcome sync = PosixProcess.sh(m.dir(), "sync -f synced && sync synced");
            assertEquals(0, sync.exit(), sync.toString());

            // What fsync made durable is what a fresh mount of the image finds.
            m.unmount();
            try (MountedFs again = MountedFs.mount(m.image(), tmp.resolve("mnt2"), "")) {
                byte[] back = Files.readAllBytes(again.dir().resolve("synced"));
                assertEquals(2 * data.length, back.length);
                assertArrayEquals(data, Arrays.copyOf(back, data.length));
                assertArrayEquals(data, Arrays.copyOfRange(back, data.length, back.length));
            }
        }
    }

    @Test
    void anUnlinkedFileStaysReadableAndWritableThroughItsDescriptorUntilClosedThenItsSpaceIsFreed() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            ConcordFs fs = m.filesystem();
            Path f = Files.createFile(m.dir().resolve("doomed"));
            long freeBefore = fs.statfs().freeBlocks();
            byte[] data = random(8 * MIB, 11);
            Files.write(f, data);
            long freeWithFile = fs.statfs().freeBlocks();
            assertTrue(freeWithFile <= freeBefore - 8 * MIB / 4096, "the file holds its blocks");
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                PosixSyscalls.unlink(f).expectOk("unlink while open");
                PosixSyscalls.lstatResult(f).expectErrno(PosixSyscalls.ENOENT, "the name is gone");
                try (var s = Files.list(m.dir())) {
                    assertEquals(0, s.count(), "and is not listed");
                }
                assertArrayEquals(Arrays.copyOf(data, 4096), readAt(ch, 0, 4096));
                assertArrayEquals(Arrays.copyOfRange(data, 7 * MIB, 8 * MIB), readAt(ch, 7 * MIB, MIB));
                ch.write(ByteBuffer.wrap("still writable".getBytes(StandardCharsets.US_ASCII)), 8 * MIB);
                assertEquals("still writable", new String(readAt(ch, 8 * MIB, 14), StandardCharsets.US_ASCII));
                assertEquals(8 * MIB + 14, ch.size());
                assertTrue(fs.statfs().freeBlocks() <= freeWithFile, "the blocks stay allocated while it is open");
            }
            // The kernel sends RELEASE after close(2) returns; wait (bounded) for the space to come back.
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (fs.statfs().freeBlocks() <= freeBefore && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(fs.statfs().freeBlocks() > freeBefore, "the last close freed the unlinked file's data and its inode: free "
                    + fs.statfs().freeBlocks() + ", before the data " + freeBefore);
        }
    }
}
