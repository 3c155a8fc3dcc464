package io.concord.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.format.Superblock;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Bad input to the tools: one clear line on stderr, a non-zero exit, no stack trace, nothing harmed. */
@Timeout(60)
class CommandLineTest {
    @TempDir
    Path tmp;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int mkfs(String... args) {
        return MkfsCommand.run(args, new PrintStream(out, true), new PrintStream(err, true));
    }

    private int concord(String... args) {
        return ConcordCommand.run(args, new PrintStream(out, true), new PrintStream(err, true));
    }

    private String errText() {
        return err.toString(StandardCharsets.UTF_8);
    }

    private Path image(long bytes) throws Exception {
        Path p = tmp.resolve("d.img");
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(bytes);
        }
        return p;
    }

    private void assertOneCleanLine(String mustContain) {
        String e = errText();
        assertTrue(e.contains(mustContain), "stderr should say '" + mustContain + "': " + e);
        assertFalse(e.contains("\tat "), "no stack trace: " + e);
        assertFalse(e.contains("Exception"), "no exception names: " + e);
    }

    @Test
    void keygenWritesAPrivateKeyOnceAndNeverOverwritesIt() throws Exception {
        Path key = tmp.resolve("authkey");
        assertEquals(0, concord("keygen", key.toString()));
        assertEquals(64, Files.size(key));
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
        byte[] first = Files.readAllBytes(key);
        assertEquals(1, concord("keygen", key.toString()));
        assertOneCleanLine("never overwritten");
        assertTrue(java.util.Arrays.equals(first, Files.readAllBytes(key)), "the key changed");
    }

    @Test
    void mkfsThenInfoShowsTheLockTable() throws Exception {
        Path img = image(256L << 20);
        assertEquals(0, mkfs("-q", "-t", "alpha:data", "-j", "3", img.toString()));
        assertEquals(0, concord("info", img.toString()));
        assertTrue(out.toString().contains("alpha:data"));
        assertTrue(out.toString().contains("journals      3"));
    }

    @Test
    void mkfsRefusesToOverwriteWithoutForce() throws Exception {
        Path img = image(256L << 20);
        assertEquals(0, mkfs("-q", "-t", "a:b", "-j", "1", img.toString()));
        byte[] before = Files.readAllBytes(img);
        assertEquals(1, mkfs("-q", "-t", "c:d", "-j", "1", img.toString()));
        assertOneCleanLine("already holds a Concord filesystem; use -f");
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(img)), "the refused mkfs wrote nothing");
        assertEquals(0, mkfs("-q", "-f", "-t", "c:d", "-j", "1", img.toString()));
    }

    @Test
    void mkfsRefusesATooSmallDevice() throws Exception {
        Path img = image(16L << 20);
        assertEquals(1, mkfs("-q", "-t", "a:b", "-j", "4", img.toString()));
        assertOneCleanLine("too small");
    }

    @Test
    void mkfsRefusesBadOptions() throws Exception {
        Path img = image(64L << 20);
        assertEquals(1, mkfs("-t", "nocolon", "-j", "1", img.toString()));
        assertOneCleanLine("lock table must be cluster:fsname");
        err.reset();
        assertEquals(1, mkfs("-t", "a:b", "-j", "x", img.toString()));
        assertOneCleanLine("-j takes a number");
        err.reset();
        assertEquals(1, mkfs("-t", "a:b", "-j", "1", "-Z", img.toString()));
        assertOneCleanLine("unknown option -Z");
        err.reset();
        assertEquals(1, mkfs("-t", "a:b", "-j", "1", "-b", "3000", img.toString()));
        assertOneCleanLine("power of two");
    }

    @Test
    void aMissingDeviceIsOneClearLine() {
        assertEquals(1, mkfs("-t", "a:b", "-j", "1", tmp.resolve("absent").toString()));
        assertOneCleanLine("no such device or file");
        err.reset();
        assertEquals(1, concord("shell", tmp.resolve("absent").toString()));
        assertOneCleanLine("no such device or file");
    }

    @Test
    void aDeviceThatIsNotConcordIsOneClearLine() throws Exception {
        Path img = image(8L << 20);
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.write("just some text, not a filesystem".getBytes());
        }
        assertEquals(1, concord("info", img.toString()));
        assertOneCleanLine("not a Concord filesystem");
        err.reset();
        assertEquals(1, concord("shell", img.toString()));
        assertOneCleanLine("not a Concord filesystem");
    }

    @Test
    void anUnknownIncompatibleFeatureIsRefused() throws Exception {
        Path img = image(256L << 20);
        assertEquals(0, mkfs("-q", "-t", "a:b", "-j", "1", img.toString()));
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            byte[] block = new byte[4096];
            f.readFully(block);
            ByteBuffer b = ByteBuffer.wrap(block);
            b.putInt(44, 0x40); // an incompatible feature bit this version does not know
            io.concord.format.MetaBlocks.seal(b);
            f.seek(0);
            f.write(block);
        }
        assertEquals(1, concord("shell", img.toString()));
        assertOneCleanLine("incompatible features this Concord does not know");
        assertTrue((Superblock.KNOWN_INCOMPAT & 0x40) == 0);
    }

    private Superblock superblockOf(Path img) {
        try (var dev = io.concord.device.FileBlockDevice.open(img, true, false)) {
            return io.concord.fs.ConcordFs.readSuperblock(dev);
        }
    }

    /** Rewrites the superblock's lock protocol field (offset 68) and reseals it, as an older or newer mkfs would have left it. */
    private static void setProtocolCode(Path img, int code, boolean dropHeartbeats) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            byte[] block = new byte[4096];
            f.readFully(block);
            ByteBuffer b = ByteBuffer.wrap(block);
            b.putInt(68, code);
            if (dropHeartbeats) {
                b.putInt(44, b.getInt(44) & ~Superblock.INCOMPAT_MMP);
            }
            io.concord.format.MetaBlocks.seal(b);
            f.seek(0);
            f.write(block);
        }
    }

    @Test
    void mkfsRecordsTheLockProtocolDlmByDefault() throws Exception {
        Path img = image(256L << 20);
        assertEquals(0, mkfs("-q", "-t", "c:d", "-j", "2", img.toString()));
        assertEquals(io.concord.format.LockProtocol.DLM, superblockOf(img).lockProtocol());
        assertTrue(superblockOf(img).hasHeartbeats(), "a new filesystem has multi-mount protection");
        assertEquals(0, concord("info", img.toString()));
        assertTrue(out.toString().contains("lock protocol dlm"), out.toString());
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"nolock,NOLOCK", "lock_nolock,NOLOCK", "dlm,DLM", "lock_dlm,DLM"})
    void mkfsDashPRoundTrips(String spelling, io.concord.format.LockProtocol expected) throws Exception {
        Path img = image(256L << 20);
        assertEquals(0, mkfs("-q", "-p", spelling, "-t", "c:d", "-j", "1", img.toString()));
        assertEquals(expected, superblockOf(img).lockProtocol());
        assertEquals(0, concord("info", img.toString()));
        assertTrue(out.toString().contains("lock protocol " + expected), out.toString());
    }

    @Test
    void mkfsRefusesAnUnknownLockProtocolAndWritesNothing() throws Exception {
        Path img = image(64L << 20);
        assertEquals(1, mkfs("-q", "-p", "lock_gulm", "-t", "c:d", "-j", "1", img.toString()));
        assertOneCleanLine("lock protocol must be dlm or nolock");
        assertEquals(1, errText().lines().count(), errText());
        assertTrue(java.util.Arrays.equals(new byte[64 << 20], Files.readAllBytes(img)), "the refused mkfs wrote nothing");
    }

    /** A filesystem made before the field existed has zero there and no heartbeat blocks: it stays single-node. */
    @Test
    void aSuperblockFromBeforeTheProtocolFieldReadsAsNolock() throws Exception {
        Path img = image(256L << 20);
        assertEquals(0, mkfs("-q", "-t", "c:d", "-j", "1", img.toString()));
        setProtocolCode(img, 0, true);
        Superblock sb = superblockOf(img);
        assertEquals(io.concord.format.LockProtocol.NOLOCK, sb.lockProtocol());
        assertFalse(sb.hasHeartbeats());
        assertEquals(0, concord("info", img.toString()));
        assertTrue(out.toString().contains("lock protocol nolock"), out.toString());
    }

    @Test
    void anUnknownLockProtocolCodeIsRefusedInOneLine() throws Exception {
        Path img = image(256L << 20);
        assertEquals(0, mkfs("-q", "-t", "c:d", "-j", "1", img.toString()));
        setProtocolCode(img, 7, false);
        assertEquals(1, concord("info", img.toString()));
        assertOneCleanLine("lock protocol 7, which this Concord does not know");
        assertEquals(1, errText().lines().count(), errText());
    }

    private int fsck(String... args) {
        return FsckCommand.run(args, new PrintStream(out, true), new PrintStream(err, true));
    }

    @Test
    void fsckExitCodesFollowFsck8() throws Exception {
        Path img = image(256L << 20);
        assertEquals(0, mkfs("-q", "-t", "a:b", "-j", "2", img.toString()));
        assertEquals(0, fsck("-n", img.toString()));
        assertTrue(out.toString().contains("clean"), out.toString());
        long root;
        try (var dev = io.concord.device.FileBlockDevice.open(img, true, false)) {
            root = io.concord.fs.ConcordFs.readSuperblock(dev).rootInode();
        }
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            // Flip a byte in the root directory's inode.
            f.seek(root * 4096 + 3000);
            int b = f.read();
            f.seek(root * 4096 + 3000);
            f.write(b ^ 0xFF);
        }
        assertEquals(4, fsck("-n", img.toString()));
        assertEquals(8, fsck("-n", tmp.resolve("absent").toString()));
        assertOneCleanLine("no such device or file");
        assertEquals(16, fsck("-y", img.toString()));
        assertEquals(16, fsck("-n", "-Q", img.toString()));
    }
}
