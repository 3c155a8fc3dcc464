package io.concord.fs;

import static io.concord.fs.OpsFixtures.assertFails;
import static io.concord.fs.OpsFixtures.pattern;
import static io.concord.fs.OpsFixtures.readAll;
import static io.concord.fs.OpsFixtures.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.errors.FsException.Kind;
import io.concord.format.Inode;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** rename(2) and renameat2(2): what moves, what is replaced, what is refused, and the link counts. */
@Timeout(60)
class RenameOpsTest {
    private static final Caller ROOT = Caller.ROOT;

    @TempDir
    Path tmp;
    private OpsFixtures image;
    private ConcordFs fs;
    private long a;
    private long b;

    @BeforeEach
    void mount() throws Exception {
        image = OpsFixtures.mounted(tmp);
        fs = image.fs();
        a = fs.mkdir(ROOT, fs.root(), "a", 0755).inode();
        b = fs.mkdir(ROOT, fs.root(), "b", 0755).inode();
    }

    @AfterEach
    void unmount() {
        image.close();
    }

    @Test
    void renameWithinADirectoryMovesTheNameAndKeepsTheInode() {
        long f = fs.create(ROOT, a, "old", 0644).inode();
        byte[] data = pattern(5000, 1);
        write(fs, f, 0, data);
        fs.rename(ROOT, a, "old", a, "new", 0);
        assertFails(Kind.NOT_FOUND, () -> fs.lookup(ROOT, a, "old"));
        assertEquals(f, fs.lookup(ROOT, a, "new").inode());
        assertArrayEquals(data, readAll(fs, f));
        assertEquals(List.of("new"), names(a));
    }

    @Test
    void renameAcrossDirectoriesMovesTheEntry() {
        long f = fs.create(ROOT, a, "f", 0644).inode();
        fs.rename(ROOT, a, "f", b, "g", 0);
        assertFails(Kind.NOT_FOUND, () -> fs.lookup(ROOT, a, "f"));
        assertEquals(f, fs.lookup(ROOT, b, "g").inode());
        assertEquals(1, fs.getattr(f).nlink());
        assertEquals(List.of(), names(a));
        assertEquals(List.of("g"), names(b));
    }

    @Test
    void renamingADirectoryAcrossParentsMovesItsDotDotAndTheParentsLinks() {
        long d = fs.mkdir(ROOT, a, "d", 0755).inode();
        int aLinks = fs.getattr(a).nlink();
        int bLinks = fs.getattr(b).nlink();
        fs.rename(ROOT, a, "d", b, "d2", 0);
        assertEquals(aLinks - 1, fs.getattr(a).nlink());
        assertEquals(bLinks + 1, fs.getattr(b).nlink());
        assertEquals(b, fs.lookup(ROOT, d, "..").inode());
        assertEquals(2, fs.getattr(d).nlink());
    }

    @Test
    void renameOverAnExistingFileReplacesItAndDropsItsLink() {
        long src = fs.create(ROOT, a, "src", 0644).inode();
        long victim = fs.create(ROOT, b, "dst", 0644).inode();
        fs.link(ROOT, victim, fs.root(), "victim-other-name");
        assertEquals(2, fs.getattr(victim).nlink());

        fs.rename(ROOT, a, "src", b, "dst", 0);
        assertEquals(src, fs.lookup(ROOT, b, "dst").inode());
        assertFails(Kind.NOT_FOUND, () -> fs.lookup(ROOT, a, "src"));
        assertEquals(1, fs.getattr(victim).nlink(), "the replaced inode lost one name");
        assertEquals(victim, fs.lookup(ROOT, fs.root(), "victim-other-name").inode());
        assertEquals(List.of("dst"), names(b));
    }

    @Test
    void renameOverTheLastNameOfAFileDeletesItAndFreesItsSpace() {
        long src = fs.create(ROOT, a, "src", 0644).inode();
        long victim = fs.create(ROOT, a, "dst", 0644).inode();
        write(fs, victim, 0, pattern(40 * 4096, 2));
        long free = fs.statfs().freeBlocks();
        fs.rename(ROOT, a, "src", a, "dst", 0);
        assertEquals(src, fs.lookup(ROOT, a, "dst").inode());
        assertFails(Kind.STALE_HANDLE, () -> fs.getattr(victim));
        assertTrue(fs.statfs().freeBlocks() >= free + 40, "the replaced file's blocks are free again");
    }

    @Test
    void renameOfADirectoryOverAnEmptyDirectoryReplacesIt() {
        long moving = fs.mkdir(ROOT, a, "moving", 0755).inode();
        fs.create(ROOT, moving, "payload", 0644);
        long empty = fs.mkdir(ROOT, b, "empty", 0755).inode();
        int aLinks = fs.getattr(a).nlink();
        int bLinks = fs.getattr(b).nlink();

        fs.rename(ROOT, a, "moving", b, "empty", 0);
        assertEquals(moving, fs.lookup(ROOT, b, "empty").inode());
        assertFails(Kind.STALE_HANDLE, () -> fs.getattr(empty));
        assertEquals(aLinks - 1, fs.getattr(a).nlink());
        assertEquals(bLinks, fs.getattr(b).nlink(), "b lost one subdirectory and gained one");
        assertEquals(b, fs.lookup(ROOT, moving, "..").inode());
        assertTrue(fs.lookup(ROOT, moving, "payload").isRegular());
    }

    @Test
    void renameOverAnEmptyDirectoryInTheSameParentDropsOneParentLink() {
        fs.mkdir(ROOT, a, "x", 0755);
        fs.mkdir(ROOT, a, "y", 0755);
        int links = fs.getattr(a).nlink();
        fs.rename(ROOT, a, "x", a, "y", 0);
        assertEquals(links - 1, fs.getattr(a).nlink());
        assertEquals(List.of("y"), names(a));
    }

    @Test
    void renameOverANonEmptyDirectoryIsNotEmpty() {
        long moving = fs.mkdir(ROOT, a, "moving", 0755).inode();
        long full = fs.mkdir(ROOT, b, "full", 0755).inode();
        fs.create(ROOT, full, "inside", 0644);
        assertFails(Kind.NOT_EMPTY, () -> fs.rename(ROOT, a, "moving", b, "full", 0));
        assertEquals(moving, fs.lookup(ROOT, a, "moving").inode());
        assertEquals(full, fs.lookup(ROOT, b, "full").inode());
        assertTrue(fs.lookup(ROOT, full, "inside").isRegular());
    }

    @Test
    void renameOfADirectoryOverAFileIsNotDirectory() {
        fs.mkdir(ROOT, a, "d", 0755);
        long f = fs.create(ROOT, b, "f", 0644).inode();
        assertFails(Kind.NOT_DIRECTORY, () -> fs.rename(ROOT, a, "d", b, "f", 0));
        assertEquals(f, fs.lookup(ROOT, b, "f").inode());
        assertTrue(fs.lookup(ROOT, a, "d").isDirectory());
    }

    @Test
    void renameOfAFileOverADirectoryIsIsDirectory() {
        fs.create(ROOT, a, "f", 0644);
        long d = fs.mkdir(ROOT, b, "d", 0755).inode();
        assertFails(Kind.IS_DIRECTORY, () -> fs.rename(ROOT, a, "f", b, "d", 0));
        assertEquals(d, fs.lookup(ROOT, b, "d").inode());
        assertTrue(fs.lookup(ROOT, a, "f").isRegular());
    }

    @Test
    void renameOfADirectoryIntoItsOwnSubdirectoryIsInvalidArgument() {
        long d = fs.mkdir(ROOT, a, "d", 0755).inode();
        long child = fs.mkdir(ROOT, d, "child", 0755).inode();
        long grandchild = fs.mkdir(ROOT, child, "grandchild", 0755).inode();
        assertFails(Kind.INVALID_ARGUMENT, () -> fs.rename(ROOT, a, "d", child, "d", 0));
        assertFails(Kind.INVALID_ARGUMENT, () -> fs.rename(ROOT, a, "d", grandchild, "x", 0));
        assertFails(Kind.INVALID_ARGUMENT, () -> fs.rename(ROOT, a, "d", d, "self", 0));
        assertEquals(d, fs.lookup(ROOT, a, "d").inode());
        assertEquals(a, fs.lookup(ROOT, d, "..").inode());
    }

    @Test
    void renameNoReplaceOntoAnExistingNameIsExists() {
        long f = fs.create(ROOT, a, "f", 0644).inode();
        long g = fs.create(ROOT, b, "g", 0644).inode();
        assertFails(Kind.EXISTS, () -> fs.rename(ROOT, a, "f", b, "g", ConcordFs.RENAME_NOREPLACE));
        assertEquals(f, fs.lookup(ROOT, a, "f").inode());
        assertEquals(g, fs.lookup(ROOT, b, "g").inode());
        fs.rename(ROOT, a, "f", b, "free-name", ConcordFs.RENAME_NOREPLACE);
        assertEquals(f, fs.lookup(ROOT, b, "free-name").inode());
    }

    @Test
    void renameExchangeSwapsAFileAndADirectoryAcrossParents() {
        long f = fs.create(ROOT, a, "f", 0644).inode();
        long d = fs.mkdir(ROOT, b, "d", 0755).inode();
        int aLinks = fs.getattr(a).nlink();
        int bLinks = fs.getattr(b).nlink();

        fs.rename(ROOT, a, "f", b, "d", ConcordFs.RENAME_EXCHANGE);
        assertEquals(d, fs.lookup(ROOT, a, "f").inode());
        assertEquals(f, fs.lookup(ROOT, b, "d").inode());
        assertEquals(aLinks + 1, fs.getattr(a).nlink(), "a now holds the directory");
        assertEquals(bLinks - 1, fs.getattr(b).nlink());
        assertEquals(a, fs.lookup(ROOT, d, "..").inode(), "the directory's '..' follows it");
        assertEquals(1, fs.getattr(f).nlink());
        assertEquals(2, fs.getattr(d).nlink());
        DirListEntry inA = fs.readdir(ROOT, a, 2, 10).get(0);
        assertEquals(Inode.S_IFDIR >> 12, inA.type(), "the entry's type follows its inode");
        DirListEntry inB = fs.readdir(ROOT, b, 2, 10).get(0);
        assertEquals(Inode.S_IFREG >> 12, inB.type());
    }

    @Test
    void renameExchangeOfTwoDirectoriesSwapsTheirParentsAndKeepsLinkCounts() {
        long x = fs.mkdir(ROOT, a, "x", 0755).inode();
        long y = fs.mkdir(ROOT, b, "y", 0755).inode();
        int aLinks = fs.getattr(a).nlink();
        int bLinks = fs.getattr(b).nlink();
        fs.rename(ROOT, a, "x", b, "y", ConcordFs.RENAME_EXCHANGE);
        assertEquals(y, fs.lookup(ROOT, a, "x").inode());
        assertEquals(x, fs.lookup(ROOT, b, "y").inode());
        assertEquals(a, fs.lookup(ROOT, y, "..").inode());
        assertEquals(b, fs.lookup(ROOT, x, "..").inode());
        assertEquals(aLinks, fs.getattr(a).nlink());
        assertEquals(bLinks, fs.getattr(b).nlink());
    }

    @Test
    void renameExchangeWithinOneDirectorySwapsTheNames() {
        long f = fs.create(ROOT, a, "f", 0644).inode();
        long g = fs.create(ROOT, a, "g", 0644).inode();
        fs.rename(ROOT, a, "f", a, "g", ConcordFs.RENAME_EXCHANGE);
        assertEquals(g, fs.lookup(ROOT, a, "f").inode());
        assertEquals(f, fs.lookup(ROOT, a, "g").inode());
        assertEquals(List.of("f", "g"), names(a));
    }

    @Test
    void renameExchangeOfADirectoryWithItsOwnDescendantIsInvalidArgument() {
        long d = fs.mkdir(ROOT, a, "d", 0755).inode();
        long child = fs.mkdir(ROOT, d, "child", 0755).inode();
        fs.create(ROOT, child, "deep", 0644);
        assertFails(Kind.INVALID_ARGUMENT, () -> fs.rename(ROOT, a, "d", child, "deep", ConcordFs.RENAME_EXCHANGE));
        assertEquals(d, fs.lookup(ROOT, a, "d").inode());
        assertEquals(d, fs.lookup(ROOT, child, "..").inode());
        assertTrue(fs.lookup(ROOT, child, "deep").isRegular());
    }

    @Test
    void renameExchangeWithAMissingTargetIsNotFound() {
        fs.create(ROOT, a, "f", 0644);
        assertFails(Kind.NOT_FOUND, () -> fs.rename(ROOT, a, "f", b, "nothing", ConcordFs.RENAME_EXCHANGE));
        assertTrue(fs.lookup(ROOT, a, "f").isRegular());
    }

    @Test
    void renameBetweenTwoLinksToTheSameInodeDoesNothing() {
        long f = fs.create(ROOT, a, "one", 0644).inode();
        fs.link(ROOT, f, b, "two");
        fs.rename(ROOT, a, "one", b, "two", 0);
        assertEquals(f, fs.lookup(ROOT, a, "one").inode(), "POSIX: both names stay");
        assertEquals(f, fs.lookup(ROOT, b, "two").inode());
        assertEquals(2, fs.getattr(f).nlink());
    }

    @Test
    void renameOfAMissingNameIsNotFound() {
        assertFails(Kind.NOT_FOUND, () -> fs.rename(ROOT, a, "ghost", b, "x", 0));
    }

    @Test
    void renameWithBothFlagsIsInvalidArgument() {
        fs.create(ROOT, a, "f", 0644);
        fs.create(ROOT, b, "g", 0644);
        assertFails(Kind.INVALID_ARGUMENT,
                () -> fs.rename(ROOT, a, "f", b, "g", ConcordFs.RENAME_NOREPLACE | ConcordFs.RENAME_EXCHANGE));
    }

    @Test
    void renamedTreeSurvivesRemount() {
        long d = fs.mkdir(ROOT, a, "d", 0755).inode();
        long f = fs.create(ROOT, d, "f", 0644).inode();
        fs.rename(ROOT, a, "d", b, "moved", 0);
        fs = image.remount();
        assertEquals(d, fs.lookup(ROOT, b, "moved").inode());
        assertEquals(f, fs.lookup(ROOT, d, "f").inode());
        assertEquals(b, fs.lookup(ROOT, d, "..").inode());
        assertFails(Kind.NOT_FOUND, () -> fs.lookup(ROOT, a, "d"));
    }

    private List<String> names(long dir) {
        return fs.readdir(ROOT, dir, 2, 1000).stream().map(DirListEntry::name).sorted().collect(Collectors.toList());
    }
}
