package io.concord.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.fs.Caller;
import io.concord.fs.ConcordFs;
import io.concord.fs.SetAttr;
import io.concord.fuse.FuseSession;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kernel's caches and the notifications that correct them. With long timeouts the kernel keeps
 * serving what it cached — data, size, mode, names — after the filesystem changed behind its back
 * (as another node would change it); {@code invalidateInode}, {@code invalidateEntry} and
 * {@code deleted} make it see the change at once. And FORGET: when the kernel drops inodes from its
 * cache, it tells the daemon, whose table of known nodes shrinks.
 */
@Timeout(90)
class PosixCacheCoherenceTest {
    private static final String LONG_CACHE = "attr_timeout=60,entry_timeout=60";
    private static final long DRAIN_MS = 5_000;

    @TempDir
    Path tmp;

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void drain(FuseSession s) throws InterruptedException {
        assertTrue(s.drainNotifications(DRAIN_MS), "the notifications were written within " + DRAIN_MS + " ms");
    }

    @Test
    void dataAndSizeChangedBehindTheKernelsBackAreStaleUntilInvalidateInode() throws Exception {
        try (MountedFs m = MountedFs.create(tmp, 1L << 30, LONG_CACHE)) {
            Path f = m.dir().resolve("shared");
            Files.writeString(f, "old contents");
            assertEquals("old contents", Files.readString(f), "read once, so the kernel caches the page");
            long ino = PosixSyscalls.stat(f).ino();

            ConcordFs fs = m.filesystem();
            fs.write(Caller.ROOT, ino, 0, ByteBuffer.wrap(utf8("NEW CONTENTS from another node")));
            assertEquals("old contents", Files.readString(f), "the kernel still serves its cached page and size");
            assertEquals(12, Files.size(f));

            m.session().invalidateInode(ino);
            drain(m.session());
            assertEquals(30, Files.size(f), "the new size at once");
            assertEquals("NEW CONTENTS from another node", Files.readString(f), "the new data at once");
        }
    }

    @Test
    void attributesChangedBehindTheKernelsBackAreStaleUntilInvalidateInode() throws Exception {
        try (MountedFs m = MountedFs.create(tmp, 1L << 30, LONG_CACHE)) {
            Path f = Files.writeString(m.dir().resolve("f"), "x");
            PosixSyscalls.chmod(f, 0644).expectOk("chmod");
            long ino = PosixSyscalls.stat(f).ino();
            m.filesystem().setattr(Caller.ROOT, ino, SetAttr.mode(0600));
            m.filesystem().setattr(Caller.ROOT, ino, SetAttr.owner(1234, 5678));
            assertEquals(0644, PosixSyscalls.stat(f).permissions(), "the cached mode");
            assertEquals(0, PosixSyscalls.stat(f).uid(), "the cached owner");

            m.session().invalidateInode(ino);
            drain(m.session());
            PosixSyscalls.Stat st = PosixSyscalls.stat(f);
            assertEquals(0600, st.permissions());
            assertEquals(1234, st.uid());
            assertEquals(5678, st.gid());
        }
    }

    @Test
    void aNameRemovedBehindTheKernelsBackIsStillFoundUntilInvalidateEntry() throws Exception {
        try (MountedFs m = MountedFs.create(tmp, 1L << 30, LONG_CACHE)) {
            ConcordFs fs = m.filesystem();
            Path sub = Files.createDirectory(m.dir().resolve("sub"));
            Path inRoot = Files.writeString(m.dir().resolve("gone"), "g");
            Path inSub = Files.writeString(sub.resolve("moved"), "m");
            // stat once after the writes, which left the kernel's attributes marked stale, so that it holds fresh ones.
            assertEquals(1, PosixSyscalls.stat(inRoot).size());
            assertEquals(1, PosixSyscalls.stat(inSub).size());
            long subIno = PosixSyscalls.stat(sub).ino();

            fs.unlink(Caller.ROOT, fs.root(), "gone");
            fs.rename(Caller.ROOT, subIno, "moved", subIno, "renamed", 0);
            // lstat(2), answered from the kernel's caches alone (access(2), which Files.exists uses, asks the daemon).
            PosixSyscalls.lstatResult(inRoot).expectOk("the kernel's cached entry still answers for the removed name");
            PosixSyscalls.lstatResult(inSub).expectOk("and for the renamed one");

            m.session().invalidateEntry(fs.root(), utf8("gone"));
            m.session().invalidateEntry(subIno, utf8("moved"));
            drain(m.session());
            PosixSyscalls.lstatResult(inRoot).expectErrno(PosixSyscalls.ENOENT, "the removed name is gone at once");
            PosixSyscalls.lstatResult(inSub).expectErrno(PosixSyscalls.ENOENT, "the old name of the renamed file is gone at once");
            assertEquals("m", Files.readString(sub.resolve("renamed")), "its new name is found");
            try (var s = Files.list(m.dir())) {
                assertEquals(List.of("sub"), s.map(p -> p.getFileName().toString()).toList());
            }
        }
    }

    @Test
    void deletedNotificationDropsTheNameAndTheKernelsInode() throws Exception {
        try (MountedFs m = MountedFs.create(tmp, 1L << 30, LONG_CACHE)) {
            ConcordFs fs = m.filesystem();
            Path d = Files.createDirectory(m.dir().resolve("d"));
            Path f = Files.writeString(d.resolve("victim"), "v");
            assertEquals(1, PosixSyscalls.stat(f).size(), "stat once after the write, which left the kernel's attributes stale");
            long dIno = PosixSyscalls.stat(d).ino();
            long ino = PosixSyscalls.stat(f).ino();
            assertEquals(1, PosixSyscalls.stat(f).nlink());

            fs.unlink(Caller.ROOT, dIno, "victim");
            PosixSyscalls.lstatResult(f).expectOk("the kernel's cached entry still answers");
            m.session().deleted(dIno, ino, utf8("victim"));
            drain(m.session());
            PosixSyscalls.lstatResult(f).expectErrno(PosixSyscalls.ENOENT, "gone at once after the delete notification");
            assertFalse(Files.exists(f));
            Files.writeString(f, "a new file of the same name");
            assertEquals("a new file of the same name", Files.readString(f));
        }
    }

    @Test
    void whenTheKernelDropsItsInodesItForgetsThemAndTheDaemonsNodeTableShrinks() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path d = Files.createDirectory(m.dir().resolve("many"));
            int files = 3000;
            for (int i = 0; i < files; i++) {
                Files.createFile(d.resolve("f" + i));
            }
            for (int i = 0; i < files; i++) {
                PosixSyscalls.stat(d.resolve("f" + i));
            }
            int before = m.session().knownNodes();
            assertTrue(before >= files, "the kernel holds a lookup on every file it was shown: " + before);

            try {
                Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "2");
            } catch (IOException | SecurityException e) {
                Assumptions.abort("cannot drop the kernel's dentry and inode caches here (writing 2 to /proc/sys/vm/drop_caches was "
                        + "refused: " + e + "); FORGET cannot be provoked");
            }
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (m.session().knownNodes() > before / 10 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            // FORGETs may still be arriving: wait (bounded) until the count has been still for 300 ms.
            int after = m.session().knownNodes();
            long stableSince = System.nanoTime();
            while (System.nanoTime() - stableSince < 300_000_000L && System.nanoTime() < deadline) {
                Thread.sleep(20);
                int now = m.session().knownNodes();
                if (now != after) {
                    after = now;
                    stableSince = System.nanoTime();
                }
            }
            assertTrue(after <= before / 10, "FORGET shrank the node table from " + before + " to " + after);

            // Forgotten nodes are looked up again on demand.
            assertEquals(0, Files.size(d.resolve("f" + (files - 1))));
            assertTrue(m.session().knownNodes() > after, "a fresh lookup adds the node back");
        }
    }
}
