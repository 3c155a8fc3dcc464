package io.concord.fs;

import static io.concord.fs.OpsFixtures.assertFails;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.errors.FsException.Kind;
import io.concord.format.Inode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** readdir: every entry once across pages, cookies that survive changes, "." and "..". */
@Timeout(60)
class ReaddirOpsTest {
    private static final Caller ROOT = Caller.ROOT;

    @TempDir
    Path tmp;
    private OpsFixtures image;
    private ConcordFs fs;
    private long parent;
    private long dir;

    @BeforeEach
    void mount() throws Exception {
        image = OpsFixtures.mounted(tmp);
        fs = image.fs();
        parent = fs.mkdir(ROOT, fs.root(), "parent", 0755).inode();
        dir = fs.mkdir(ROOT, parent, "dir", 0755).inode();
    }

    @AfterEach
    void unmount() {
        image.close();
    }

    @Test
    void emptyDirectoryListsDotAndDotDotOnly() {
        List<DirListEntry> all = fs.readdir(ROOT, dir, 0, 100);
        assertEquals(2, all.size());
        assertEquals(".", all.get(0).name());
        assertEquals(dir, all.get(0).inode());
        assertEquals(1, all.get(0).cookie());
        assertEquals("..", all.get(1).name());
        assertEquals(parent, all.get(1).inode());
        assertEquals(2, all.get(1).cookie());
        assertEquals(Inode.S_IFDIR >> 12, all.get(1).type());
        assertTrue(fs.readdir(ROOT, dir, 2, 100).isEmpty(), "nothing after '..'");
    }

    @Test
    void pagesOfOneStepThroughDotDotDotAndTheEntries() {
        fs.create(ROOT, dir, "only", 0644);
        List<DirListEntry> p1 = fs.readdir(ROOT, dir, 0, 1);
        assertEquals(List.of("."), p1.stream().map(DirListEntry::name).toList());
        List<DirListEntry> p2 = fs.readdir(ROOT, dir, p1.get(0).cookie(), 1);
        assertEquals(List.of(".."), p2.stream().map(DirListEntry::name).toList());
        List<DirListEntry> p3 = fs.readdir(ROOT, dir, p2.get(0).cookie(), 1);
        assertEquals(List.of("only"), p3.stream().map(DirListEntry::name).toList());
        assertTrue(fs.readdir(ROOT, dir, p3.get(0).cookie(), 1).isEmpty());
    }

    @Test
    void everyEntryIsListedExactlyOnceAcrossSmallPages() {
        Map<String, Long> made = new HashMap<>();
        for (int i = 0; i < 500; i++) {
            String name = "entry-" + i;
            long ino = i % 5 == 0 ? fs.mkdir(ROOT, dir, name, 0755).inode() : fs.create(ROOT, dir, name, 0644).inode();
            made.put(name, ino);
        }
        for (int pageSize : new int[] {1, 3, 7, 64}) {
            Map<String, DirListEntry> seen = new HashMap<>();
            long cookie = 0;
            while (true) {
                List<DirListEntry> page = fs.readdir(ROOT, dir, cookie, pageSize);
                assertTrue(page.size() <= pageSize);
                if (page.isEmpty()) {
                    break;
                }
                for (DirListEntry e : page) {
                    assertTrue(seen.put(e.name(), e) == null, "listed twice with page size " + pageSize + ": " + e.name());
                }
                cookie = page.get(page.size() - 1).cookie();
            }
            assertEquals(made.size() + 2, seen.size(), "page size " + pageSize);
            for (var m : made.entrySet()) {
                DirListEntry e = seen.get(m.getKey());
                assertEquals(m.getValue(), e.inode(), m.getKey());
                int expectedType = (Integer.parseInt(m.getKey().substring("entry-".length())) % 5 == 0 ? Inode.S_IFDIR : Inode.S_IFREG) >> 12;
                assertEquals(expectedType, e.type(), m.getKey());
            }
        }
    }

    @Test
    void entriesAddedAndRemovedBetweenPagesDoNotSkipOrRepeatSurvivors() {
        Set<String> original = new HashSet<>();
        for (int i = 0; i < 300; i++) {
            fs.create(ROOT, dir, "orig-" + i, 0644);
            original.add("orig-" + i);
        }
        Set<String> removed = new HashSet<>();
        List<String> listed = new ArrayList<>();
        long cookie = 2;
        int round = 0;
        while (true) {
            List<DirListEntry> page = fs.readdir(ROOT, dir, cookie, 10);
            if (page.isEmpty()) {
                break;
            }
            for (DirListEntry e : page) {
                listed.add(e.name());
            }
            cookie = page.get(page.size() - 1).cookie();
            // Between pages: remove two originals (one perhaps already listed, one perhaps not),
            // and add three new names.
            for (int k = 0; k < 2; k++) {
                String victim = "orig-" + ((round * 37 + k * 151) % 300);
                if (removed.add(victim)) {
                    fs.unlink(ROOT, dir, victim);
                }
            }
            for (int k = 0; k < 3; k++) {
                fs.create(ROOT, dir, "new-" + round + "-" + k, 0644);
            }
            round++;
        }
        Set<String> unique = new HashSet<>(listed);
        assertEquals(listed.size(), unique.size(), "no name was listed twice");
        for (String name : original) {
            if (!removed.contains(name)) {
                assertTrue(unique.contains(name), "survivor skipped: " + name);
            }
        }
        assertTrue(round > 20, "the listing took many pages: " + round);
    }

    @Test
    void aCookieStaysValidAfterItsEntryIsRemoved() {
        for (int i = 0; i < 50; i++) {
            fs.create(ROOT, dir, "e" + i, 0644);
        }
        List<DirListEntry> first = fs.readdir(ROOT, dir, 2, 10);
        DirListEntry last = first.get(first.size() - 1);
        fs.unlink(ROOT, dir, last.name());
        Set<String> rest = new HashSet<>();
        long cookie = last.cookie();
        while (true) {
            List<DirListEntry> page = fs.readdir(ROOT, dir, cookie, 7);
            if (page.isEmpty()) {
                break;
            }
            page.forEach(e -> rest.add(e.name()));
            cookie = page.get(page.size() - 1).cookie();
        }
        assertEquals(40, rest.size(), "the 40 entries after the removed cookie's entry");
        for (DirListEntry e : first) {
            assertFalse(rest.contains(e.name()));
        }
    }

    @Test
    void cookiesAreTheSameAcrossRemount() {
        for (int i = 0; i < 40; i++) {
            fs.create(ROOT, dir, "c" + i, 0644);
        }
        List<DirListEntry> before = fs.readdir(ROOT, dir, 0, 100);
        fs = image.remount();
        assertEquals(before, fs.readdir(ROOT, dir, 0, 100));
    }

    @Test
    void readdirOfAFileIsNotDirectory() {
        long f = fs.create(ROOT, dir, "f", 0644).inode();
        assertFails(Kind.NOT_DIRECTORY, () -> fs.readdir(ROOT, f, 0, 10));
    }

    @Test
    void readdirNeedsReadPermission() {
        fs.setattr(ROOT, dir, SetAttr.mode(0711));
        assertFails(Kind.ACCESS_DENIED, () -> fs.readdir(Caller.of(1000, 1000), dir, 0, 10));
    }
}
