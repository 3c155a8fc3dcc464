package io.concord.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.device.BlockDevice;
import io.concord.device.FileBlockDevice;
import io.concord.dlm.NoLockManager;
import io.concord.fs.ConcordFs;
import io.concord.fs.Mkfs;
import io.concord.fs.MkfsOptions;
import io.concord.fs.MountOptions;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests whose bytes do not add up — truncated bodies, names without their NUL, counts that
 * overrun, unknown opcodes, random garbage — are each answered with exactly one error reply, and
 * the server goes on serving. Replies are collected in a file standing in for /dev/fuse.
 */
@Timeout(120)
class MalformedRequestTest {
    @TempDir
    Path tmp;
    private BlockDevice device;
    private ConcordFs fs;
    private Path replies;
    private FuseChannel channel;
    private FuseOps ops;

    @BeforeEach
    void setUp() throws Exception {
        Path image = tmp.resolve("f.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(128L << 20);
        }
        device = FileBlockDevice.open(image, false, false);
        Mkfs.format(device, MkfsOptions.of("fuzz:fs", 1).withJournalMb(4), new SplittableRandom(1), Clock.systemUTC(), p -> { });
        fs = ConcordFs.mount(device, new NoLockManager(), MountOptions.defaults().withCommitInterval(Duration.ofHours(1)));
        replies = Files.createFile(tmp.resolve("replies"));
        LibC.Result fd = LibC.open(replies.toString(), LibC.O_RDWR | 02000 /* O_APPEND */);
        assertTrue(!fd.failed(), "open the reply file");
        channel = FuseChannel.over((int) fd.value());
        ops = new FuseOps(fs, channel, new NodeTable(fs.root()),
                new FuseSession.Config("fuzz", false, false, true, 1, Duration.ofSeconds(1), Duration.ofSeconds(1), false, 0));
    }

    @AfterEach
    void tearDown() {
        channel.close();
        fs.close();
        device.close();
    }

    private static byte[] request(int opcode, long unique, long node, byte[] body) {
        ByteBuffer b = ByteBuffer.allocate(Fuse.IN_HEADER + body.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(Fuse.IN_HEADER + body.length).putInt(opcode).putLong(unique).putLong(node).putInt(0).putInt(0).putInt(1).putShort((short) 0)
                .putShort((short) 0).put(body);
        return b.array();
    }

    /** Replies written so far: (unique, error) pairs. */
    private long[][] readReplies() throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(replies)).order(ByteOrder.LITTLE_ENDIAN);
        java.util.List<long[]> out = new java.util.ArrayList<>();
        while (b.remaining() >= Fuse.OUT_HEADER) {
            int len = b.getInt(b.position());
            int error = b.getInt(b.position() + 4);
            long unique = b.getLong(b.position() + 8);
            assertTrue(len >= Fuse.OUT_HEADER && len <= b.remaining(), "a reply's length field is sound");
            out.add(new long[] {unique, error});
            b.position(b.position() + len);
        }
        return out.toArray(long[][]::new);
    }

    private void serve(byte[] bytes) {
        assertTrue(ops.serve(Request.parse(bytes, bytes.length, channel.fd(0))), "the server goes on serving");
    }

    @Test
    void truncatedBodiesAndUnterminatedNamesGetEinval() throws Exception {
        serve(request(Fuse.SETATTR, 1, 1, new byte[10]));          // needs 88 bytes
        serve(request(Fuse.LOOKUP, 2, 1, "no-nul".getBytes()));    // name without its NUL
        serve(request(Fuse.WRITE, 3, 1, new byte[8]));             // needs 40 bytes
        ByteBuffer forget = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(1_000_000).putInt(0);
        serve(request(Fuse.BATCH_FORGET, 4, 1, forget.array()));   // count overruns the body
        long[][] r = readReplies();
        assertEquals(4, r.length);
        for (long[] reply : r) {
            assertEquals(-Errno.EINVAL, reply[1], "request " + reply[0] + " answered EINVAL");
        }
    }

    @Test
    void unknownOpcodesGetEnosys() throws Exception {
        serve(request(9999, 7, 1, new byte[0]));
        serve(request(Fuse.IOCTL, 8, 1, new byte[32]));
        long[][] r = readReplies();
        assertEquals(2, r.length);
        assertEquals(-Errno.ENOSYS, r[0][1]);
        assertEquals(-Errno.ENOSYS, r[1][1]);
    }

    @Test
    void aRequestForANodeThatDoesNotExistIsEstaleNotACrash() throws Exception {
        serve(request(Fuse.GETATTR, 9, 12345, new byte[16]));
        long[][] r = readReplies();
        assertEquals(1, r.length);
        assertEquals(-Errno.ESTALE, r[0][1]);
    }

    @Test
    void headersThatDoNotAddUpAreRefusedByTheParser() {
        byte[] shortOne = new byte[20];
        assertThrows(MalformedRequestException.class, () -> Request.parse(shortOne, shortOne.length, 0));
        byte[] lying = request(Fuse.GETATTR, 1, 1, new byte[16]);
        ByteBuffer.wrap(lying).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 9999);
        assertThrows(MalformedRequestException.class, () -> Request.parse(lying, lying.length, 0));
        byte[] ext = request(Fuse.GETATTR, 1, 1, new byte[16]);
        ByteBuffer.wrap(ext).order(ByteOrder.LITTLE_ENDIAN).putShort(36, (short) 100);
        assertThrows(MalformedRequestException.class, () -> Request.parse(ext, ext.length, 0));
    }

    @Test
    void randomGarbageForEveryOpcodeAlwaysGetsExactlyOneReplyAndNeverStopsTheServer() throws Exception {
        int[] opcodes = {Fuse.LOOKUP, Fuse.GETATTR, Fuse.SETATTR, Fuse.READLINK, Fuse.SYMLINK, Fuse.MKNOD, Fuse.MKDIR, Fuse.UNLINK,
            Fuse.RMDIR, Fuse.RENAME, Fuse.LINK, Fuse.OPEN, Fuse.READ, Fuse.WRITE, Fuse.STATFS, Fuse.RELEASE, Fuse.FSYNC, Fuse.SETXATTR,
            Fuse.GETXATTR, Fuse.LISTXATTR, Fuse.REMOVEXATTR, Fuse.FLUSH, Fuse.OPENDIR, Fuse.READDIR, Fuse.RELEASEDIR, Fuse.FSYNCDIR,
            Fuse.GETLK, Fuse.SETLK, Fuse.ACCESS, Fuse.CREATE, Fuse.FALLOCATE, Fuse.READDIRPLUS, Fuse.RENAME2, Fuse.LSEEK};
        SplittableRandom rnd = new SplittableRandom(42);
        int sent = 0;
        for (int round = 0; round < 60; round++) {
            for (int op : opcodes) {
                byte[] body = new byte[rnd.nextInt(0, 200)];
                rnd.nextBytes(body);
                long node = rnd.nextBoolean() ? 1 : rnd.nextLong(1, 1L << 40);
                serve(request(op, ++sent, node, body));
            }
        }
        long[][] r = readReplies();
        assertEquals(sent, r.length, "every request answered exactly once");
        for (long[] reply : r) {
            assertTrue(reply[1] <= 0, "an error is a negative errno");
            assertTrue(reply[1] != -Errno.EIO, "garbage is the request's fault, never an internal error (EIO): request " + reply[0]);
        }
        // Still serving normally afterwards.
        serve(request(Fuse.STATFS, 100_000, 1, new byte[0]));
        long[][] after = readReplies();
        assertEquals(0, after[after.length - 1][1]);
    }
}
