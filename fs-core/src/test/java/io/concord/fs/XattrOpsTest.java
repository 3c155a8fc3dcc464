package io.concord.fs;

import static io.concord.fs.OpsFixtures.BLOCK;
import static io.concord.fs.OpsFixtures.assertFails;
import static io.concord.fs.OpsFixtures.pattern;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.errors.FsException.Kind;
import io.concord.format.Inode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Extended attributes: namespaces, flags, inline and block storage, permissions. */
@Timeout(60)
class XattrOpsTest {
    private static final Caller ROOT = Caller.ROOT;
    private static final Caller ALICE = Caller.of(1000, 1000);
    private static final Caller BOB = Caller.of(1001, 1001);
    private static final int XATTR_CREATE = 1;
    private static final int XATTR_REPLACE = 2;

    @TempDir
    Path tmp;
    private OpsFixtures image;
    private ConcordFs fs;
    private long f;

    @BeforeEach
    void mount() throws Exception {
        image = OpsFixtures.mounted(tmp);
        fs = image.fs();
        long pub = fs.mkdir(ROOT, fs.root(), "pub", 0777).inode();
        f = fs.create(ALICE, pub, "f", 0644).inode();
    }

    @AfterEach
    void unmount() {
        image.close();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void userAttributeIsSetReadListedAndRemoved() {
        fs.setxattr(ALICE, f, "user.colour", utf8("blue"), 0);
        fs.setxattr(ALICE, f, "user.empty", new byte[0], 0);
        assertArrayEquals(utf8("blue"), fs.getxattr(ALICE, f, "user.colour"));
        assertArrayEquals(new byte[0], fs.getxattr(ALICE, f, "user.empty"));
        assertEquals(List.of("user.colour", "user.empty"), fs.listxattr(ALICE, f).stream().sorted().toList());

        fs.setxattr(ALICE, f, "user.colour", utf8("green"), 0);
        assertArrayEquals(utf8("green"), fs.getxattr(ALICE, f, "user.colour"), "a plain set replaces");

        fs.removexattr(ALICE, f, "user.colour");
        assertFails(Kind.NO_XATTR, () -> fs.getxattr(ALICE, f, "user.colour"));
        assertEquals(List.of("user.empty"), fs.listxattr(ALICE, f));
    }

    @Test
    void removingAMissingAttributeIsNoXattr() {
        assertFails(Kind.NO_XATTR, () -> fs.removexattr(ALICE, f, "user.none"));
        assertFails(Kind.NO_XATTR, () -> fs.getxattr(ALICE, f, "user.none"));
    }

    @Test
    void createFlagOnAnExistingAttributeIsExists() {
        fs.setxattr(ALICE, f, "user.a", utf8("1"), XATTR_CREATE);
        assertFails(Kind.EXISTS, () -> fs.setxattr(ALICE, f, "user.a", utf8("2"), XATTR_CREATE));
        assertArrayEquals(utf8("1"), fs.getxattr(ALICE, f, "user.a"));
    }

    @Test
    void replaceFlagOnAMissingAttributeIsNoXattr() {
        assertFails(Kind.NO_XATTR, () -> fs.setxattr(ALICE, f, "user.a", utf8("1"), XATTR_REPLACE));
        assertTrue(fs.listxattr(ALICE, f).isEmpty());
        fs.setxattr(ALICE, f, "user.a", utf8("1"), 0);
        fs.setxattr(ALICE, f, "user.a", utf8("2"), XATTR_REPLACE);
        assertArrayEquals(utf8("2"), fs.getxattr(ALICE, f, "user.a"));
    }

    @Test
    void aLargeValueMovesToAnXattrBlockAndBackInline() {
        long sectorsInline = fs.getattr(f).blocks();
        long free = fs.statfs().freeBlocks();
        fs.setxattr(ALICE, f, "user.small", utf8("s"), 0);
        byte[] big = pattern(2000, 1);
        fs.setxattr(ALICE, f, "user.big", big, 0);
        assertEquals(sectorsInline + BLOCK / 512, fs.getattr(f).blocks(), "one xattr block");
        assertEquals(free - 1, fs.statfs().freeBlocks());
        assertArrayEquals(big, fs.getxattr(ALICE, f, "user.big"));
        assertArrayEquals(utf8("s"), fs.getxattr(ALICE, f, "user.small"), "the small one moved along");

        fs.removexattr(ALICE, f, "user.big");
        assertEquals(sectorsInline, fs.getattr(f).blocks(), "back inline, the block is freed");
        assertEquals(free, fs.statfs().freeBlocks());
        assertArrayEquals(utf8("s"), fs.getxattr(ALICE, f, "user.small"));
    }

    @Test
    void xattrBlockSurvivesRemountAndIsFreedWithTheFile() {
        byte[] big = pattern(3000, 2);
        long free = fs.statfs().freeBlocks();
        fs.setxattr(ALICE, f, "user.big", big, 0);
        fs = image.remount();
        assertArrayEquals(big, fs.getxattr(ALICE, f, "user.big"));
        long pub = fs.lookup(ROOT, fs.root(), "pub").inode();
        fs.unlink(ROOT, pub, "f");
        assertEquals(free + 1, fs.statfs().freeBlocks(), "the inode and its xattr block are freed");
    }

    @Test
    void attributesTooLargeForOneBlockAreNoSpaceAndChangeNothing() {
        fs.setxattr(ALICE, f, "user.keep", utf8("k"), 0);
        long free = fs.statfs().freeBlocks();
        assertFails(Kind.NO_SPACE, () -> fs.setxattr(ALICE, f, "user.huge", pattern(BLOCK + 100, 3), 0));
        fs.setxattr(ALICE, f, "user.half1", pattern(2000, 4), 0);
        assertFails(Kind.NO_SPACE, () -> fs.setxattr(ALICE, f, "user.half2", pattern(2100, 5), 0));
        assertEquals(List.of("user.half1", "user.keep"), fs.listxattr(ALICE, f).stream().sorted().toList());
        assertEquals(free - 1, fs.statfs().freeBlocks(), "only half1's block is in use");
    }

    @Test
    void aValuePastTheXattrSizeLimitIsXattrRange() {
        assertFails(Kind.XATTR_RANGE, () -> fs.setxattr(ALICE, f, "user.v", new byte[65537], 0));
        assertFails(Kind.XATTR_RANGE, () -> fs.setxattr(ALICE, f, "user." + "n".repeat(251), utf8("x"), 0));
    }

    @Test
    void trustedAttributesAreForRootOnly() {
        assertFails(Kind.NOT_PERMITTED, () -> fs.setxattr(ALICE, f, "trusted.t", utf8("x"), 0));
        fs.setxattr(ROOT, f, "trusted.t", utf8("x"), 0);
        fs.setxattr(ALICE, f, "user.u", utf8("y"), 0);
        assertArrayEquals(utf8("x"), fs.getxattr(ROOT, f, "trusted.t"));
        assertEquals(List.of("trusted.t", "user.u"), fs.listxattr(ROOT, f).stream().sorted().toList());
        assertEquals(List.of("user.u"), fs.listxattr(ALICE, f), "trusted.* is invisible to others");
        assertFails(Kind.NO_XATTR, () -> fs.getxattr(ALICE, f, "trusted.t"));
        assertFails(Kind.NOT_PERMITTED, () -> fs.removexattr(ALICE, f, "trusted.t"));
    }

    @Test
    void anUnknownNamespaceIsNotSupported() {
        assertFails(Kind.NOT_SUPPORTED, () -> fs.setxattr(ROOT, f, "foo.bar", utf8("x"), 0));
        assertFails(Kind.NOT_SUPPORTED, () -> fs.getxattr(ROOT, f, "foo.bar"));
        assertFails(Kind.NOT_SUPPORTED, () -> fs.setxattr(ROOT, f, "nonamespace", utf8("x"), 0));
    }

    @Test
    void userAttributesOnASymlinkAreNotPermitted() {
        long pub = fs.lookup(ROOT, fs.root(), "pub").inode();
        long link = fs.symlink(ALICE, pub, "l", "f").inode();
        assertFails(Kind.NOT_PERMITTED, () -> fs.setxattr(ALICE, link, "user.a", utf8("x"), 0));
        assertFails(Kind.NOT_PERMITTED, () -> fs.setxattr(ROOT, link, "user.a", utf8("x"), 0));
        long fifo = fs.mknod(ALICE, pub, "p", Inode.S_IFIFO | 0666, 0).inode();
        assertFails(Kind.NOT_PERMITTED, () -> fs.setxattr(ALICE, fifo, "user.a", utf8("x"), 0));
        fs.setxattr(ROOT, link, "trusted.a", utf8("x"), 0);
        assertArrayEquals(utf8("x"), fs.getxattr(ROOT, link, "trusted.a"), "other namespaces are allowed on symlinks");
    }

    @Test
    void userAttributesFollowTheFileModeBits() {
        fs.setxattr(ALICE, f, "user.a", utf8("x"), 0);
        assertArrayEquals(utf8("x"), fs.getxattr(BOB, f, "user.a"), "0644: others may read");
        assertFails(Kind.ACCESS_DENIED, () -> fs.setxattr(BOB, f, "user.b", utf8("y"), 0));
        assertFails(Kind.ACCESS_DENIED, () -> fs.removexattr(BOB, f, "user.a"));
        fs.setattr(ALICE, f, SetAttr.mode(0600));
        assertFails(Kind.ACCESS_DENIED, () -> fs.getxattr(BOB, f, "user.a"));
        assertFalse(fs.listxattr(ALICE, f).isEmpty());
    }

    @Test
    void securityAttributesAreWrittenByRootOnlyAndReadByAnyone() {
        assertFails(Kind.NOT_PERMITTED, () -> fs.setxattr(ALICE, f, "security.label", utf8("M"), 0), "not even the owner");
        fs.setxattr(ROOT, f, "security.label", utf8("L"), 0);
        assertFails(Kind.NOT_PERMITTED, () -> fs.removexattr(ALICE, f, "security.label"));
        assertArrayEquals(utf8("L"), fs.getxattr(BOB, f, "security.label"));
    }

    @Test
    void attributesOnADirectoryWork() {
        long pub = fs.lookup(ROOT, fs.root(), "pub").inode();
        fs.setxattr(ALICE, pub, "user.d", utf8("dir"), 0);
        assertArrayEquals(utf8("dir"), fs.getxattr(ROOT, pub, "user.d"));
    }
}
