package io.concord.fsck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.device.BlockDevice;
import io.concord.device.FileBlockDevice;
import io.concord.format.BtreeNode;
import io.concord.format.DirEntry;
import io.concord.format.Extent;
import io.concord.format.Inode;
import io.concord.fs.Caller;
import io.concord.fs.ConcordFs;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each test damages a clean image in one way, by writing raw blocks, and checks that the damage is
 * found as the right problem about the right block, and (where the damage is one fault) as nothing
 * else: a logical fault is written with a good checksum, so that only the inconsistency is seen.
 */
class FsckCorruptionTest {
    @TempDir
    Path tmp;

    private Path image;
    private Fixture fx;

    /** The inodes of the test image. */
    record Fixture(long d, long big, long file, long other, long xattrs, long gone) {
    }

    @BeforeEach
    void populate() throws Exception {
        image = Images.formatted(tmp, "fs.img", 64L << 20);
        try (BlockDevice dev = FileBlockDevice.open(image, false, false); ConcordFs fs = Images.mount(dev)) {
            long d = fs.mkdir(Caller.ROOT, fs.root(), "d", 0755).inode();
            long big = fs.mkdir(Caller.ROOT, d, "big", 0755).inode();
            for (int i = 0; i < 300; i++) {
                fs.create(Caller.ROOT, big, String.format("f%03d", i), 0644);
            }
            long file = fs.create(Caller.ROOT, d, "file", 0644).inode();
            fs.write(Caller.ROOT, file, 0, ByteBuffer.wrap(new byte[3 * 4096]));
            long other = fs.create(Caller.ROOT, d, "other", 0644).inode();
            fs.write(Caller.ROOT, other, 0, ByteBuffer.wrap(new byte[2 * 4096]));
            fs.link(Caller.ROOT, file, d, "file2");
            long xattrs = fs.create(Caller.ROOT, d, "xattrs", 0644).inode();
            fs.setxattr(Caller.ROOT, xattrs, "user.big", new byte[2000], 0);
            long gone = fs.create(Caller.ROOT, d, "gone", 0644).inode();
            fs.write(Caller.ROOT, gone, 0, ByteBuffer.wrap(new byte[4096]));
            fs.open(Caller.ROOT, gone, 0);
            fs.unlink(Caller.ROOT, d, "gone");
            fx = new Fixture(d, big, file, other, xattrs, gone);
        }
        FsckReport r = Images.check(image);
        assertTrue(r.isClean(), () -> "the undamaged image must check clean: " + r.problems());
    }

    // ---- checksums: one flipped byte, in a part of the block nothing else reads ----

    @Test
    @Timeout(60)
    void flippedByteInAnInodeIsAChecksumProblemOfThatInode() {
        try (Images.Raw raw = new Images.Raw(image)) {
            raw.flip(fx.file(), 52); // uid
        }
        assertOnly(Problem.CHECKSUM, fx.file());
    }

    @Test
    @Timeout(60)
    void flippedByteInATreeNodeIsAChecksumProblemOfThatNode() {
        long node;
        try (Images.Raw raw = new Images.Raw(image)) {
            BtreeNode root = raw.root(raw.inode(fx.big()));
            assertTrue(root.level() >= 1, "300 entries need tree node blocks");
            node = root.children()[0];
            raw.flip(node, raw.bs - 1); // unused space at the end of the node
        }
        assertOnly(Problem.CHECKSUM, node);
    }

    @Test
    @Timeout(60)
    void flippedByteInAHeartbeatBlockIsAChecksumProblemOfThatBlock() {
        long heartbeat;
        try (Images.Raw raw = new Images.Raw(image)) {
            heartbeat = raw.sb.heartbeatBlock(1);
            raw.flip(heartbeat, 1000); // past every field
        }
        assertOnly(Problem.CHECKSUM, heartbeat);
    }

    @Test
    @Timeout(60)
    void aHeartbeatBlockOfAnotherSlotIsAHeartbeatProblem() {
        long heartbeat;
        try (Images.Raw raw = new Images.Raw(image)) {
            heartbeat = raw.sb.heartbeatBlock(0);
            ByteBuffer b = ByteBuffer.allocate(raw.sb.blockSize());
            io.concord.format.HeartbeatBlock.clean(1).encode(b, heartbeat, raw.sb.fsId());
            raw.write(heartbeat, b.clear());
        }
        assertOnly(Problem.HEARTBEAT, heartbeat);
    }

    @Test
    @Timeout(60)
    void flippedByteInAnRgrpHeaderIsAChecksumProblemOfThatHeader() {
        long header;
        try (Images.Raw raw = new Images.Raw(image)) {
            header = raw.sb.rgrpFirstBlock(1);
            raw.flip(header, 60); // reserved
        }
        assertOnly(Problem.CHECKSUM, header);
    }

    @Test
    @Timeout(60)
    void flippedByteInABitmapIsAChecksumProblemOfThatBitmap() {
        long bitmap;
        try (Images.Raw raw = new Images.Raw(image)) {
            bitmap = raw.sb.rgrpFirstBlock(0) + 1;
            raw.flip(bitmap, 40); // reserved
        }
        assertOnly(Problem.CHECKSUM, bitmap);
    }

    @Test
    @Timeout(60)
    void flippedByteInAnXattrBlockIsAChecksumProblemOfThatBlock() {
        long xb;
        try (Images.Raw raw = new Images.Raw(image)) {
            xb = raw.inode(fx.xattrs()).xattrBlock();
            assertTrue(xb != 0, "2000 bytes of attributes need an xattr block");
            raw.flip(xb, raw.bs - 1);
        }
        assertOnly(Problem.CHECKSUM, xb);
    }

    @Test
    @Timeout(60)
    void flippedBitInATreeNodeKeyIsFoundEvenThoughTheChecksumFailsFirst() {
        long node;
        try (Images.Raw raw = new Images.Raw(image)) {
            node = raw.root(raw.inode(fx.big())).children()[0];
            ByteBuffer b = raw.read(node);
            int secondKey = BtreeNode.BLOCK_BODY_OFFSET + BtreeNode.BODY_HEADER + 10 + b.getShort(BtreeNode.BLOCK_BODY_OFFSET + 16) & 0xFFFF;
            raw.flip(node, secondKey); // the top byte of the second key: the keys are no longer in order
        }
        FsckReport r = Images.check(image);
        assertHas(r, Problem.CHECKSUM, node);
        assertFalse(r.problems(Problem.TREE).isEmpty(), () -> "the resealed copy is still checked: " + r.problems());
    }

    // ---- bitmaps against use ----

    @Test
    @Timeout(60)
    void bitmapBitClearedForAUsedBlockIsFound() {
        long data;
        try (Images.Raw raw = new Images.Raw(image)) {
            data = raw.extents(fx.file()).get(0).physical() + 1;
            assertTrue(raw.bit(data));
            raw.setBit(data, false);
        }
        Problem p = assertOnly(Problem.USED_BUT_FREE, data);
        assertTrue(p.message().contains("inode " + fx.file()), p.message());
    }

    @Test
    @Timeout(60)
    void bitmapBitSetForAnUnusedBlockIsALeak() {
        long unused;
        try (Images.Raw raw = new Images.Raw(image)) {
            int last = raw.sb.rgrpCount() - 1;
            unused = raw.sb.rgrpFirstBlock(last) + raw.sb.rgrpLength(last) - 1;
            assertFalse(raw.bit(unused));
            raw.setBit(unused, true);
        }
        assertOnly(Problem.LEAK, unused);
    }

    // ---- the namespace ----

    @Test
    @Timeout(60)
    void wrongNlinkIsFound() {
        try (Images.Raw raw = new Images.Raw(image)) {
            Inode other = raw.inode(fx.other());
            raw.write(other.withNlink(3));
        }
        Problem p = assertOnly(Problem.NLINK, fx.other());
        assertTrue(p.message().contains("nlink 3") && p.message().contains("1 directory entry"), p.message());
    }

    @Test
    @Timeout(60)
    void wrongDirectoryNlinkIsFound() {
        try (Images.Raw raw = new Images.Raw(image)) {
            Inode d = raw.inode(fx.d());
            raw.write(d.withNlink(2));
        }
        Problem p = assertOnly(Problem.NLINK, fx.d());
        assertTrue(p.message().contains("expected 3"), p.message());
    }

    @Test
    @Timeout(60)
    void entryPointingAtANonInodeBlockIsFound() {
        long data;
        try (Images.Raw raw = new Images.Raw(image)) {
            data = raw.extents(fx.file()).get(0).physical();
            Inode d = raw.inode(fx.d());
            BtreeNode leaf = raw.root(d);
            int i = raw.entryIndex(leaf, "other");
            byte[][] values = leaf.values().clone();
            values[i] = new DirEntry(data, Inode.S_IFREG >> 12, Images.utf8("other")).encode();
            raw.write(raw.withRoot(d, new BtreeNode(0, leaf.keys(), null, values)));
        }
        FsckReport r = Images.check(image);
        assertHas(r, Problem.ENTRY_TARGET, data);
        assertHas(r, Problem.UNREACHABLE_INODE, fx.other()); // what the entry used to name
        assertEquals(Set.of(Problem.ENTRY_TARGET, Problem.UNREACHABLE_INODE), codes(r), () -> r.problems().toString());
    }

    @Test
    @Timeout(60)
    void wrongEntriesCountIsFound() {
        try (Images.Raw raw = new Images.Raw(image)) {
            Inode d = raw.inode(fx.d());
            raw.write(d.withEntries(d.entries() + 1));
        }
        assertOnly(Problem.ENTRIES, fx.d());
    }

    @Test
    @Timeout(60)
    void inodeInNoDirectoryIsFound() {
        try (Images.Raw raw = new Images.Raw(image)) {
            Inode d = raw.inode(fx.d());
            BtreeNode leaf = raw.root(d);
            int i = raw.entryIndex(leaf, "other");
            BtreeNode without = new BtreeNode(0, remove(leaf.keys(), i), null, remove(leaf.values(), i));
            raw.write(raw.withRoot(d, without).withEntries(d.entries() - 1));
        }
        Problem p = assertOnly(Problem.UNREACHABLE_INODE, fx.other());
        assertTrue(p.message().contains("orphan inode not in an orphan directory"), p.message());
    }

    @Test
    @Timeout(60)
    void orphanWithLinksLeftIsFound() {
        try (Images.Raw raw = new Images.Raw(image)) {
            raw.write(raw.inode(fx.gone()).withNlink(1));
        }
        assertOnly(Problem.ORPHAN, fx.gone());
    }

    @Test
    @Timeout(60)
    void entryTypeDifferentFromTheInodesIsFound() {
        try (Images.Raw raw = new Images.Raw(image)) {
            Inode d = raw.inode(fx.d());
            BtreeNode leaf = raw.root(d);
            int i = raw.entryIndex(leaf, "other");
            byte[][] values = leaf.values().clone();
            values[i] = new DirEntry(fx.other(), Inode.S_IFLNK >> 12, Images.utf8("other")).encode();
            raw.write(raw.withRoot(d, new BtreeNode(0, leaf.keys(), null, values)));
        }
        assertOnly(Problem.ENTRY_TYPE, fx.d());
    }

    @Test
    @Timeout(60)
    void wrongParentOfASubdirectoryIsFound() {
        try (Images.Raw raw = new Images.Raw(image)) {
            raw.write(raw.inode(fx.big()).withParent(raw.sb.rootInode()));
        }
        assertOnly(Problem.PARENT, fx.big());
    }

    // ---- blocks used twice ----

    @Test
    @Timeout(60)
    void extentOverlappingAnotherFilesExtentIsFoundNamingBothFiles() {
        long shared;
        long abandoned;
        try (Images.Raw raw = new Images.Raw(image)) {
            shared = raw.extents(fx.file()).get(0).physical();
            Inode other = raw.inode(fx.other());
            BtreeNode leaf = raw.root(other);
            Extent x = Extent.decode(leaf.keys()[0], leaf.values()[0], fx.other());
            abandoned = x.physical();
            byte[][] values = {new Extent(x.logical(), shared + 1, x.length(), x.flags()).encode()};
            raw.write(raw.withRoot(other, new BtreeNode(0, leaf.keys(), null, values)));
        }
        FsckReport r = Images.check(image);
        List<Problem> twice = r.problems(Problem.BLOCK_TWICE);
        assertEquals(1, twice.size(), () -> r.problems().toString());
        Problem p = twice.get(0);
        assertEquals(shared + 1, p.block());
        assertTrue(p.message().contains("data of inode " + fx.file()) && p.message().contains("data of inode " + fx.other()), p.message());
        assertHas(r, Problem.LEAK, abandoned);
        assertEquals(Set.of(Problem.BLOCK_TWICE, Problem.LEAK), codes(r), () -> r.problems().toString());
    }

    @Test
    @Timeout(60)
    void extentOutsideTheDataAreaIsFound() {
        try (Images.Raw raw = new Images.Raw(image)) {
            Inode other = raw.inode(fx.other());
            BtreeNode leaf = raw.root(other);
            Extent x = Extent.decode(leaf.keys()[0], leaf.values()[0], fx.other());
            byte[][] values = {new Extent(x.logical(), raw.sb.journalStart() + 5, x.length(), x.flags()).encode()};
            raw.write(raw.withRoot(other, new BtreeNode(0, leaf.keys(), null, values)));
        }
        FsckReport r = Images.check(image);
        Problem p = r.problems(Problem.BAD_POINTER).get(0);
        assertEquals(fx.other(), p.block());
        assertTrue(p.message().contains("journal 0"), p.message());
        assertHas(r, Problem.LEAK, -1); // the blocks it really had
    }

    // ---- more than one problem ----

    @Test
    @Timeout(60)
    void everyProblemIsReportedNotOnlyTheFirst() {
        try (Images.Raw raw = new Images.Raw(image)) {
            raw.flip(fx.file(), 52);
            raw.write(raw.inode(fx.other()).withNlink(7));
            Inode big = raw.inode(fx.big());
            raw.write(big.withEntries(big.entries() - 5));
        }
        FsckReport r = Images.check(image);
        assertHas(r, Problem.CHECKSUM, fx.file());
        assertHas(r, Problem.NLINK, fx.other());
        assertHas(r, Problem.ENTRIES, fx.big());
        assertEquals(3, r.problemCount(), () -> r.problems().toString());
        assertEquals(FsckReport.EXIT_UNCORRECTED, r.exitCode());
        assertTrue(r.summary().contains("3 problems"), r.summary());
    }

    // ---- helpers ----

    /** Asserts that the check found exactly one problem, {@code code} about {@code block}; returns it. */
    private Problem assertOnly(String code, long block) {
        FsckReport r = Images.check(image);
        assertEquals(1, r.problemCount(), () -> "expected only " + code + " at " + block + ", found " + r.problems());
        Problem p = r.problems().get(0);
        assertEquals(code, p.code(), p::toString);
        assertEquals(block, p.block(), p::toString);
        assertTrue(p.message().contains(Long.toString(block)), () -> "the message names the block: " + p);
        assertEquals(FsckReport.EXIT_UNCORRECTED, r.exitCode());
        assertFalse(r.isClean());
        return p;
    }

    /** Asserts a problem with {@code code} about {@code block} (any block when -1). */
    private static void assertHas(FsckReport r, String code, long block) {
        assertTrue(r.problems(code).stream().anyMatch(p -> block < 0 || p.block() == block),
                () -> "expected " + code + " at block " + block + ", found " + r.problems());
    }

    private static Set<String> codes(FsckReport r) {
        return r.problems().stream().map(Problem::code).collect(Collectors.toCollection(TreeSet::new));
    }

    private static long[] remove(long[] a, int at) {
        long[] r = Arrays.copyOf(a, a.length - 1);
        System.arraycopy(a, at + 1, r, at, a.length - at - 1);
        return r;
    }

    private static byte[][] remove(byte[][] a, int at) {
        byte[][] r = Arrays.copyOf(a, a.length - 1);
        System.arraycopy(a, at + 1, r, at, a.length - at - 1);
        return r;
    }
}
