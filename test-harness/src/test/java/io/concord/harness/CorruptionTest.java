package io.concord.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.device.FileBlockDevice;
import io.concord.errors.FormatException;
import io.concord.errors.FsException;
import io.concord.errors.WithdrawnException;
import io.concord.format.BtreeNode;
import io.concord.format.Inode;
import io.concord.format.Superblock;
import io.concord.fs.Caller;
import io.concord.fs.ConcordFs;
import io.concord.fs.MkfsOptions;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A flipped byte in each kind of metadata block is detected when an operation needs the block:
 * the operation fails with EIO naming the block, the node withdraws (every later operation fails)
 * and not one more write reaches the device.
 */
@Timeout(120)
class CorruptionTest {
    @TempDir
    Path tmp;
    Path image;
    long bigDir;
    long dataFile;
    long xattrFile;
    long xattrBlock;
    long treeNode;
    Superblock sb;

    @BeforeEach
    void populate() throws Exception {
        image = Images.formatted(tmp.resolve("c.img"), 128L << 20, MkfsOptions.of("c:fs", 2).withJournalMb(4), 3);
        try (FileBlockDevice dev = FileBlockDevice.open(image, false, false); ConcordFs fs = Images.mount(dev, 0)) {
            sb = fs.superblock();
            bigDir = fs.mkdir(Caller.ROOT, fs.root(), "big", 0755).inode();
            for (int i = 0; i < 3000; i++) {
                fs.mknod(Caller.ROOT, bigDir, "entry-" + i, 0010644, 0);
            }
            dataFile = fs.create(Caller.ROOT, fs.root(), "data", 0644).inode();
            fs.write(Caller.ROOT, dataFile, 0, ByteBuffer.wrap("payload".getBytes()));
            xattrFile = fs.create(Caller.ROOT, fs.root(), "x", 0644).inode();
            fs.setxattr(Caller.ROOT, xattrFile, "user.big", new byte[3000], 0);
        }
        Inode x = readInode(xattrFile);
        xattrBlock = x.xattrBlock();
        assertTrue(xattrBlock > 0, "the large attribute must live in its own block");
        Inode big = readInode(bigDir);
        BtreeNode root = BtreeNode.decodeBody(ByteBuffer.wrap(big.fork()), 0, big.fork().length, bigDir);
        assertTrue(root.level() > 0, "3000 entries must need tree blocks");
        treeNode = root.children()[root.count() - 1];
    }

    @Test
    void corruptInodeIsNamedAndWithdraws() throws Exception {
        expectWithdraw(dataFile, fs -> fs.lookup(Caller.ROOT, fs.root(), "data"));
    }

    @Test
    void corruptDirectoryTreeNodeIsNamedAndWithdraws() throws Exception {
        expectWithdraw(treeNode, fs -> {
            for (int i = 0; i < 3000; i++) {
                fs.lookup(Caller.ROOT, bigDir, "entry-" + i);
            }
        });
    }

    @Test
    void corruptXattrBlockIsNamedAndWithdraws() throws Exception {
        expectWithdraw(xattrBlock, fs -> fs.getxattr(Caller.ROOT, xattrFile, "user.big"));
    }

    @Test
    void corruptBitmapIsNamedAndWithdraws() throws Exception {
        long bitmap = sb.rgrpFirstBlock(0) + 1;
        expectWithdraw(bitmap, fs -> fs.create(Caller.ROOT, fs.root(), "new-file", 0644));
    }

    @Test
    void corruptResourceGroupHeaderRefusesTheMount() throws Exception {
        long header = sb.rgrpFirstBlock(1);
        flipByte(header, 60);
        try (FileBlockDevice raw = FileBlockDevice.open(image, false, false)) {
            CountingDevice dev = new CountingDevice(raw);
            FsException e = assertThrows(FsException.class, () -> Images.mount(dev, 0));
            assertEquals(FsException.Kind.IO_ERROR, e.kind());
            assertTrue(e.getMessage().contains("block " + header), e.getMessage());
        }
    }

    @Test
    void corruptJournalHeaderRefusesTheMount() throws Exception {
        long header = sb.journalFirstBlock(0);
        flipByte(header, 40);
        try (FileBlockDevice raw = FileBlockDevice.open(image, false, false)) {
            CountingDevice dev = new CountingDevice(raw);
            FsException e = assertThrows(FsException.class, () -> Images.mount(dev, 0));
            assertTrue(e.getMessage().contains("block " + header), e.getMessage());
            assertEquals(0, dev.writes(), "nothing may be written when the journal cannot be trusted");
        }
    }

    @Test
    void corruptSuperblockRefusesTheMountWithOneClearLine() throws Exception {
        flipByte(0, 100);
        try (FileBlockDevice raw = FileBlockDevice.open(image, false, false)) {
            CountingDevice dev = new CountingDevice(raw);
            FormatException e = assertThrows(FormatException.class, () -> Images.mount(dev, 0));
            assertTrue(e.getMessage().contains("superblock is damaged"), e.getMessage());
            assertEquals(0, dev.writes());
        }
    }

    private void expectWithdraw(long block, Consumer<ConcordFs> needsBlock) throws Exception {
        flipByte(block, 2000);
        try (FileBlockDevice raw = FileBlockDevice.open(image, false, false)) {
            CountingDevice dev = new CountingDevice(raw);
            ConcordFs fs = Images.mount(dev, 0);
            long writesBefore = dev.writes();
            FsException e = assertThrows(FsException.class, () -> needsBlock.accept(fs));
            assertEquals(FsException.Kind.IO_ERROR, e.kind());
            assertTrue(e.getMessage().contains("block " + block), "the error names the block: " + e.getMessage());
            assertTrue(fs.withdrawn());
            assertThrows(WithdrawnException.class, () -> fs.mkdir(Caller.ROOT, fs.root(), "after", 0755));
            assertThrows(WithdrawnException.class, () -> fs.getattr(fs.root()));
            assertThrows(WithdrawnException.class, fs::sync);
            fs.close();
            assertEquals(writesBefore, dev.writes(), "a withdrawn node writes nothing more");
        }
    }

    private Inode readInode(long ino) throws Exception {
        try (FileBlockDevice dev = FileBlockDevice.open(image, true, false)) {
            ByteBuffer b = ByteBuffer.allocate(sb.blockSize());
            dev.read(ino * sb.blockSize(), b);
            return Inode.decode(b.clear(), ino, sb.fsId());
        }
    }

    private void flipByte(long block, int offset) throws Exception {
        try (FileBlockDevice dev = FileBlockDevice.open(image, false, false)) {
            int bs = sb == null ? 4096 : sb.blockSize();
            ByteBuffer b = ByteBuffer.allocate(1);
            long at = block * bs + offset;
            dev.read(at, b);
            b.put(0, (byte) (b.get(0) ^ 0x5A));
            dev.write(at, b.clear());
        }
    }
}
