package io.concord.fs;

import static io.concord.fs.OpsFixtures.assertFails;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.errors.FsException.Kind;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Path resolution from the root: components, "." and "..", symbolic links, and its errors. */
@Timeout(60)
class ResolveOpsTest {
    private static final Caller ROOT = Caller.ROOT;

    @TempDir
    Path tmp;
    private OpsFixtures image;
    private ConcordFs fs;
    private long a;
    private long b;
    private long file;

    /** /a/b/file, /a/rel -> b/file, /abs -> /a/b, /a/up -> .., /a/b/chain -> ../rel. */
    @BeforeEach
    void mount() throws Exception {
        image = OpsFixtures.mounted(tmp);
        fs = image.fs();
        a = fs.mkdir(ROOT, fs.root(), "a", 0755).inode();
        b = fs.mkdir(ROOT, a, "b", 0755).inode();
        file = fs.create(ROOT, b, "file", 0644).inode();
        fs.symlink(ROOT, a, "rel", "b/file");
        fs.symlink(ROOT, fs.root(), "abs", "/a/b");
        fs.symlink(ROOT, a, "up", "..");
        fs.symlink(ROOT, b, "chain", "../rel");
    }

    @AfterEach
    void unmount() {
        image.close();
    }

    @Test
    void plainPathsResolveComponentByComponent() {
        assertEquals(fs.root(), fs.resolve(ROOT, "/", true).inode());
        assertEquals(file, fs.resolve(ROOT, "/a/b/file", true).inode());
        assertEquals(file, fs.resolve(ROOT, "//a///b/file", true).inode());
        assertEquals(file, fs.resolve(ROOT, "/a/./b/../b/file", true).inode());
        assertEquals(b, fs.resolve(ROOT, "/a/b/", true).inode());
    }

    @Test
    void aRelativeSymlinkResolvesFromItsOwnDirectory() {
        assertEquals(file, fs.resolve(ROOT, "/a/rel", true).inode());
        assertEquals(file, fs.resolve(ROOT, "/a/b/chain", true).inode(), "a link to a link");
    }

    @Test
    void anAbsoluteSymlinkInTheMiddleOfAPathIsFollowed() {
        assertEquals(file, fs.resolve(ROOT, "/abs/file", true).inode());
        assertEquals(a, fs.resolve(ROOT, "/a/up/a", true).inode());
        assertEquals(b, fs.resolve(ROOT, "/abs/../b", true).inode(), "'..' after a link is the target's parent");
    }

    @Test
    void theLastComponentIsFollowedOnlyWhenAsked() {
        Attributes link = fs.resolve(ROOT, "/a/rel", false);
        assertTrue(link.isSymlink());
        assertEquals("b/file", fs.readlink(link.inode()));
        assertEquals(file, fs.resolve(ROOT, "/a/rel", true).inode());
        assertEquals(b, fs.resolve(ROOT, "/abs/", true).inode());
        assertEquals(file, fs.resolve(ROOT, "/abs/file", false).inode(), "links before the last are always followed");
    }

    @Test
    void aSelfReferencingSymlinkIsSymlinkLoop() {
        fs.symlink(ROOT, fs.root(), "loop", "loop");
        assertFails(Kind.SYMLINK_LOOP, () -> fs.resolve(ROOT, "/loop", true));
        assertFails(Kind.SYMLINK_LOOP, () -> fs.resolve(ROOT, "/loop/x", false));
        assertTrue(fs.resolve(ROOT, "/loop", false).isSymlink());
    }

    @Test
    void twoSymlinksPointingAtEachOtherAreSymlinkLoop() {
        fs.symlink(ROOT, fs.root(), "ping", "/pong");
        fs.symlink(ROOT, fs.root(), "pong", "ping");
        assertFails(Kind.SYMLINK_LOOP, () -> fs.resolve(ROOT, "/ping", true));
    }

    @Test
    void fortyLinksInAChainResolveAndFortyOneAreSymlinkLoop() {
        fs.symlink(ROOT, b, "s0", "file");
        for (int i = 1; i <= 40; i++) {
            fs.symlink(ROOT, b, "s" + i, "s" + (i - 1));
        }
        assertEquals(file, fs.resolve(ROOT, "/a/b/s39", true).inode());
        assertFails(Kind.SYMLINK_LOOP, () -> fs.resolve(ROOT, "/a/b/s40", true));
    }

    @Test
    void aFileInTheMiddleOfAPathIsNotDirectory() {
        assertFails(Kind.NOT_DIRECTORY, () -> fs.resolve(ROOT, "/a/b/file/x", true));
        assertFails(Kind.NOT_DIRECTORY, () -> fs.resolve(ROOT, "/a/rel/x", true), "through a link to a file");
    }

    @Test
    void aMissingComponentIsNotFound() {
        assertFails(Kind.NOT_FOUND, () -> fs.resolve(ROOT, "/a/nothing/file", true));
        fs.symlink(ROOT, fs.root(), "dangling", "/a/nothing");
        assertFails(Kind.NOT_FOUND, () -> fs.resolve(ROOT, "/dangling", true));
        assertTrue(fs.resolve(ROOT, "/dangling", false).isSymlink());
    }
}
