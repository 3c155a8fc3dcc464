package io.concord.fs;

import static io.concord.fs.OpsFixtures.assertFails;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.errors.FsException.Kind;
import io.concord.format.Inode;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * POSIX permissions for callers other than root: EACCES ({@code ACCESS_DENIED}) where the mode
 * bits refuse, EPERM ({@code NOT_PERMITTED}) where only the owner or root may act.
 */
@Timeout(60)
class PermissionOpsTest {
    private static final int READ = 0;
    private static final int WRITE = 1;
    private static final int READ_WRITE = 2;
    private static final Caller ROOT = Caller.ROOT;
    /** Alice and Bob share group 100; Alice is also in 300. Dave is in no group of theirs. */
    private static final Caller ALICE = Caller.of(1000, 100, 300);
    private static final Caller BOB = Caller.of(1001, 100);
    private static final Caller DAVE = Caller.of(1003, 400);

    @TempDir
    Path tmp;
    private OpsFixtures image;
    private ConcordFs fs;
    private long pub;

    @BeforeEach
    void mount() throws Exception {
        image = OpsFixtures.mounted(tmp);
        fs = image.fs();
        pub = fs.mkdir(ROOT, fs.root(), "pub", 0777).inode();
    }

    @AfterEach
    void unmount() {
        image.close();
    }

    private long aliceFile(String name, int mode) {
        long f = fs.create(ALICE, pub, name, 0600).inode();
        fs.setattr(ALICE, f, SetAttr.mode(mode));
        return f;
    }

    // --- mode bits

    @Test
    void ownerGroupAndOtherBitsGovernOpen() {
        long f = aliceFile("f", 0640);
        fs.open(ALICE, f, READ);
        fs.open(ALICE, f, WRITE);
        fs.open(ALICE, f, READ_WRITE);
        fs.open(BOB, f, READ);
        assertFails(Kind.ACCESS_DENIED, () -> fs.open(BOB, f, WRITE));
        assertFails(Kind.ACCESS_DENIED, () -> fs.open(BOB, f, READ_WRITE));
        assertFails(Kind.ACCESS_DENIED, () -> fs.open(DAVE, f, READ));
    }

    @Test
    void theOwnerClassAppliesToTheOwnerEvenWhenOthersMayDoMore() {
        long f = aliceFile("f", 0077);
        assertFails(Kind.ACCESS_DENIED, () -> fs.open(ALICE, f, READ));
        fs.open(BOB, f, READ_WRITE);
        fs.open(DAVE, f, READ_WRITE);
    }

    @Test
    void theGroupClassAppliesToMembersEvenWhenOthersMayDoMore() {
        long f = aliceFile("f", 0607);
        assertFails(Kind.ACCESS_DENIED, () -> fs.open(BOB, f, READ));
        fs.open(DAVE, f, READ_WRITE);
    }

    @Test
    void aSupplementaryGroupGrantsGroupAccess() {
        long f = aliceFile("f", 0640);
        fs.setattr(ROOT, f, SetAttr.owner(null, 500));
        assertFails(Kind.ACCESS_DENIED, () -> fs.open(DAVE, f, READ));
        fs.open(Caller.of(1003, 400, 7, 500), f, READ);
        assertFails(Kind.ACCESS_DENIED, () -> fs.open(Caller.of(1003, 400, 7, 500), f, WRITE));
    }

    @Test
    void executeFollowsTheExecuteBits() {
        long f = aliceFile("f", 0750);
        fs.access(ALICE, f, 1);
        fs.access(BOB, f, 1);
        assertFails(Kind.ACCESS_DENIED, () -> fs.access(DAVE, f, 1));
        fs.access(DAVE, f, 0);
    }

    @Test
    void lookupNeedsSearchPermissionOnTheDirectory() {
        long d = fs.mkdir(ALICE, pub, "d", 0700).inode();
        fs.create(ALICE, d, "inside", 0644);
        fs.lookup(ALICE, d, "inside");
        assertFails(Kind.ACCESS_DENIED, () -> fs.lookup(BOB, d, "inside"));

        fs.setattr(ALICE, d, SetAttr.mode(0711));
        fs.lookup(BOB, d, "inside"); // search without read is enough to look up
        assertFails(Kind.ACCESS_DENIED, () -> fs.readdir(BOB, d, 0, 10));

        fs.setattr(ALICE, d, SetAttr.mode(0600));
        assertFails(Kind.ACCESS_DENIED, () -> fs.lookup(ALICE, d, "inside"), "read without search is not enough, even for the owner");
        assertFails(Kind.ACCESS_DENIED, () -> fs.resolve(BOB, "/pub/d/inside", true));
    }

    @Test
    void creatingAndRemovingNeedWriteAndSearchOnTheDirectory() {
        long d = fs.mkdir(ALICE, pub, "d", 0755).inode();
        fs.create(ALICE, d, "mine", 0666);
        assertFails(Kind.ACCESS_DENIED, () -> fs.create(BOB, d, "his", 0644));
        assertFails(Kind.ACCESS_DENIED, () -> fs.mkdir(BOB, d, "his", 0755));
        assertFails(Kind.ACCESS_DENIED, () -> fs.unlink(BOB, d, "mine"));
        assertFails(Kind.ACCESS_DENIED, () -> fs.rename(BOB, d, "mine", pub, "stolen", 0));
        assertFails(Kind.ACCESS_DENIED, () -> fs.symlink(BOB, d, "l", "x"));
        fs.lookup(ALICE, d, "mine");
    }

    @Test
    void openingADirectoryForWritingIsIsDirectory() {
        assertFails(Kind.IS_DIRECTORY, () -> fs.open(ROOT, pub, WRITE));
        fs.open(ROOT, pub, READ);
    }

    @Test
    void rootReadsAndWritesAFileWithNoPermissionBits() {
        long f = aliceFile("f", 0000);
        assertFails(Kind.ACCESS_DENIED, () -> fs.open(ALICE, f, READ));
        fs.open(ROOT, f, READ);
        fs.open(ROOT, f, READ_WRITE);
        long d = fs.mkdir(ALICE, pub, "d", 0000).inode();
        fs.create(ROOT, d, "made-by-root", 0644);
        fs.lookup(ROOT, d, "made-by-root");
    }

    @Test
    void rootMayExecuteOnlyWhenSomeExecuteBitIsSet() {
        long f = aliceFile("f", 0644);
        assertFails(Kind.ACCESS_DENIED, () -> fs.access(ROOT, f, 1));
        fs.setattr(ALICE, f, SetAttr.mode(0001));
        fs.access(ROOT, f, 1);
    }

    // --- ownership

    @Test
    void onlyTheOwnerMayChmod() {
        long f = aliceFile("f", 0644);
        assertFails(Kind.NOT_PERMITTED, () -> fs.setattr(BOB, f, SetAttr.mode(0777)));
        assertEquals(Inode.S_IFREG | 0644, fs.getattr(f).mode());
        fs.setattr(ALICE, f, SetAttr.mode(0600));
        assertEquals(Inode.S_IFREG | 0600, fs.getattr(f).mode());
        fs.setattr(ROOT, f, SetAttr.mode(0640));
        assertEquals(Inode.S_IFREG | 0640, fs.getattr(f).mode());
    }

    @Test
    void onlyRootMayChangeTheOwner() {
        long f = aliceFile("f", 0644);
        assertFails(Kind.NOT_PERMITTED, () -> fs.setattr(ALICE, f, SetAttr.owner(1001, null)));
        assertFails(Kind.NOT_PERMITTED, () -> fs.setattr(BOB, f, SetAttr.owner(1001, null)));
        assertEquals(1000, fs.getattr(f).uid());
        fs.setattr(ROOT, f, SetAttr.owner(1001, 400));
        assertEquals(1001, fs.getattr(f).uid());
        assertEquals(400, fs.getattr(f).gid());
    }

    @Test
    void theOwnerMayChangeTheGroupOnlyToOneTheyBelongTo() {
        long f = aliceFile("f", 0644);
        fs.setattr(ALICE, f, SetAttr.owner(null, 300));
        assertEquals(300, fs.getattr(f).gid());
        assertFails(Kind.NOT_PERMITTED, () -> fs.setattr(ALICE, f, SetAttr.owner(null, 999)));
        assertFails(Kind.NOT_PERMITTED, () -> fs.setattr(BOB, f, SetAttr.owner(null, 100)), "Bob is in 100 but does not own the file");
        assertEquals(300, fs.getattr(f).gid());
        fs.setattr(ALICE, f, SetAttr.owner(1000, 100)); // "chown alice:100" by Alice names her own uid
        assertEquals(100, fs.getattr(f).gid());
    }

    @Test
    void chmodByANonMemberOfTheFilesGroupDropsSetgid() {
        long f = aliceFile("f", 0644);
        fs.setattr(ROOT, f, SetAttr.owner(null, 500));
        fs.setattr(ALICE, f, SetAttr.mode(02755));
        assertEquals(0755, fs.getattr(f).mode() & 07777);
        fs.setattr(ROOT, f, SetAttr.mode(02755));
        assertEquals(02755, fs.getattr(f).mode() & 07777);
    }

    @Test
    void chownOfASetuidFileClearsSetuid() {
        long f = aliceFile("f", 04755);
        assertEquals(04755, fs.getattr(f).mode() & 07777);
        fs.setattr(ROOT, f, SetAttr.owner(1001, null));
        assertEquals(0755, fs.getattr(f).mode() & 07777);
    }

    // --- sticky and setgid directories

    @Test
    void inAStickyDirectoryOnlyTheOwnerMayUnlinkOrRenameAFile() {
        long tmpDir = fs.mkdir(ROOT, fs.root(), "tmp", 01777).inode();
        fs.create(ALICE, tmpDir, "alices", 0666);
        fs.create(BOB, tmpDir, "bobs", 0666);
        assertFails(Kind.NOT_PERMITTED, () -> fs.unlink(BOB, tmpDir, "alices"));
        assertFails(Kind.NOT_PERMITTED, () -> fs.rename(BOB, tmpDir, "alices", tmpDir, "taken", 0));
        assertFails(Kind.NOT_PERMITTED, () -> fs.rename(BOB, tmpDir, "bobs", tmpDir, "alices", 0), "nor replace it");
        assertFails(Kind.NOT_PERMITTED, () -> fs.rename(BOB, tmpDir, "alices", pub, "moved", 0));
        assertTrue(fs.lookup(ROOT, tmpDir, "alices").isRegular());
        assertTrue(fs.lookup(ROOT, tmpDir, "bobs").isRegular());

        fs.rename(ALICE, tmpDir, "alices", tmpDir, "renamed", 0);
        fs.unlink(ALICE, tmpDir, "renamed");
        fs.unlink(BOB, tmpDir, "bobs");
        assertTrue(fs.readdir(ROOT, tmpDir, 2, 10).isEmpty());
    }

    @Test
    void theOwnerOfAStickyDirectoryMayRemoveAnyEntry() {
        long d = fs.mkdir(ALICE, pub, "sticky", 01777).inode();
        fs.create(BOB, d, "bobs", 0644);
        fs.unlink(ALICE, d, "bobs");
        assertFails(Kind.NOT_FOUND, () -> fs.lookup(ROOT, d, "bobs"));
    }

    @Test
    void aSetgidDirectoryPassesItsGroupToNewFilesAndSetgidToNewSubdirectories() {
        long shared = fs.mkdir(ROOT, fs.root(), "shared", 0777).inode();
        fs.setattr(ROOT, shared, SetAttr.owner(null, 500));
        fs.setattr(ROOT, shared, SetAttr.mode(02777));
        Attributes file = fs.create(ALICE, shared, "file", 0644);
        Attributes dir = fs.mkdir(ALICE, shared, "dir", 0755);
        assertEquals(500, file.gid(), "the file takes the directory's group, not Alice's");
        assertEquals(1000, file.uid());
        assertEquals(0644, file.mode() & 07777, "files do not become setgid");
        assertEquals(500, dir.gid());
        assertEquals(02755, dir.mode() & 07777, "subdirectories inherit setgid");
        Attributes deeper = fs.create(ALICE, dir.inode(), "deeper", 0644);
        assertEquals(500, deeper.gid(), "and pass it on");

        Attributes plain = fs.create(ALICE, pub, "plain", 0644);
        assertEquals(100, plain.gid(), "outside, the caller's own group");
    }

    // --- writes and setuid

    @Test
    void aWriteByNonRootClearsSetuidAndGroupExecutableSetgid() {
        long f = aliceFile("f", 06775);
        fs.open(ALICE, f, WRITE);
        fs.write(ALICE, f, 0, ByteBuffer.wrap(new byte[] {1}));
        assertEquals(0775, fs.getattr(f).mode() & 07777);

        long g = aliceFile("g", 02744); // setgid without group execute: mandatory locking, kept
        fs.write(ALICE, g, 0, ByteBuffer.wrap(new byte[] {1}));
        assertEquals(02744, fs.getattr(g).mode() & 07777);
    }

    @Test
    void aWriteByRootKeepsSetuid() {
        long f = aliceFile("f", 04755);
        fs.write(ROOT, f, 0, ByteBuffer.wrap(new byte[] {1}));
        assertEquals(04755, fs.getattr(f).mode() & 07777);
    }

    @Test
    void aTruncateByNonRootClearsSetuid() {
        long f = aliceFile("f", 04777);
        fs.write(ROOT, f, 0, ByteBuffer.wrap(new byte[100]));
        fs.setattr(BOB, f, SetAttr.size(10));
        assertEquals(0777, fs.getattr(f).mode() & 07777);
    }

    @Test
    void truncateNeedsWritePermission() {
        long f = aliceFile("f", 0644);
        fs.write(ROOT, f, 0, ByteBuffer.wrap(new byte[100]));
        assertFails(Kind.ACCESS_DENIED, () -> fs.setattr(BOB, f, SetAttr.size(0)));
        assertEquals(100, fs.getattr(f).size());
    }

    // --- times

    @Test
    void explicitTimesNeedOwnershipWhileNowNeedsOnlyWritePermission() {
        long f = aliceFile("f", 0666);
        Instant when = Instant.parse("2001-02-03T04:05:06Z");
        assertFails(Kind.NOT_PERMITTED, () -> fs.setattr(BOB, f, SetAttr.times(when, when)));
        assertNotEquals(when, fs.getattr(f).mtime());

        fs.setattr(BOB, f, SetAttr.timesNow());
        assertTrue(fs.getattr(f).mtime().isAfter(when));

        fs.setattr(ALICE, f, SetAttr.times(when, when));
        assertEquals(when, fs.getattr(f).mtime());
        assertEquals(when, fs.getattr(f).atime());

        fs.setattr(ALICE, f, SetAttr.mode(0644));
        assertFails(Kind.ACCESS_DENIED, () -> fs.setattr(BOB, f, SetAttr.timesNow()), "now without write permission");
        fs.setattr(ROOT, f, SetAttr.times(when.plusSeconds(1), when.plusSeconds(1)));
        assertEquals(when.plusSeconds(1), fs.getattr(f).mtime());
    }

    // --- moving directories

    @Test
    void movingADirectoryToAnotherParentNeedsWritePermissionOnIt() {
        long x = fs.mkdir(ALICE, pub, "x", 0777).inode();
        long y = fs.mkdir(ALICE, pub, "y", 0777).inode();
        long d = fs.mkdir(ALICE, x, "d", 0555).inode();
        assertFails(Kind.ACCESS_DENIED, () -> fs.rename(ALICE, x, "d", y, "d", 0), "its '..' would change");
        fs.rename(ALICE, x, "d", x, "renamed", 0); // same parent: '..' stays
        assertEquals(d, fs.lookup(ALICE, x, "renamed").inode());
        fs.setattr(ALICE, d, SetAttr.mode(0755));
        fs.rename(ALICE, x, "renamed", y, "d", 0);
        assertEquals(y, fs.lookup(ALICE, d, "..").inode());
    }
}
