package io.concord.harness;

import static io.concord.harness.PosixSyscalls.EAGAIN;
import static io.concord.harness.PosixSyscalls.F_RDLCK;
import static io.concord.harness.PosixSyscalls.F_SETLK;
import static io.concord.harness.PosixSyscalls.F_UNLCK;
import static io.concord.harness.PosixSyscalls.F_WRLCK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Advisory locks between processes through the mount: fcntl byte-range locks (F_SETLK, F_SETLKW,
 * F_GETLK) and flock(2), each refused with EAGAIN ("would block") while another process holds a
 * conflicting lock, and released when the holder closes the file or dies.
 */
@Timeout(90)
class PosixLocksTest {
    private static final String WRLCK = "1";
    private static final String RDLCK = "0";
    private static final String UNLCK = "2";

    @TempDir
    Path tmp;

    /** Tries F_SETLK (bounded polling) until it succeeds; the kernel releases a dead process's locks as it exits. */
    private static void awaitLock(int fd, short type) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        PosixSyscalls.Result r;
        while (!(r = PosixSyscalls.fcntlLock(fd, F_SETLK, type, 0, 0)).ok() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        r.expectOk("the lock once the holder is gone");
    }

    @Test
    void aWriteLockHeldByAnotherProcessRefusesOursWithEagainAndCloseReleasesIt() throws Exception {
        try (MountedFs m = MountedFs.create(tmp); PosixProcess holder = PosixProcess.syscalls(null)) {
            Path f = Files.writeString(m.dir().resolve("locked"), "contents");
            long hfd = holder.callOk("open", f, 2, "644");
            assertEquals("ok 0", holder.call("setlk", hfd, WRLCK, 0, 0), "the holder takes a write lock on the whole file");

            int fd = PosixSyscalls.open(f, PosixSyscalls.O_RDWR).expectOk("open").fd();
            try {
                PosixSyscalls.fcntlLock(fd, F_SETLK, F_WRLCK, 0, 0).expectErrno(EAGAIN, "F_SETLK write against a write lock");
                PosixSyscalls.fcntlLock(fd, F_SETLK, F_RDLCK, 100, 10).expectErrno(EAGAIN, "F_SETLK read of a part against a write lock");
                PosixSyscalls.LockInfo who = PosixSyscalls.getlk(fd, F_RDLCK, 0, 0);
                assertEquals(F_WRLCK, who.type(), "F_GETLK names the conflicting write lock");
                assertEquals(holder.pid(), who.pid(), "and its holder");
                try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                    assertNull(ch.tryLock(), "Java's FileChannel.tryLock sees the other process's lock too");
                }

                assertEquals("ok 0", holder.call("close", hfd), "the holder closes the file");
                assertEquals(F_UNLCK, PosixSyscalls.getlk(fd, F_WRLCK, 0, 0).type(), "nothing conflicts any more");
                PosixSyscalls.fcntlLock(fd, F_SETLK, F_WRLCK, 0, 0).expectOk("F_SETLK write once released");

                long hfd2 = holder.callOk("open", f, 2, "644");
                assertEquals("err 11 EAGAIN", holder.call("setlk", hfd2, RDLCK, 0, 0), "now the other process is refused");
            } finally {
                PosixSyscalls.close(fd);
            }
            assertEquals(0, holder.finish());
        }
    }

    @Test
    void byteRangeLocksConflictOnlyWhereTheyOverlapAndReadLocksShare() throws Exception {
        try (MountedFs m = MountedFs.create(tmp); PosixProcess holder = PosixProcess.syscalls(null)) {
            Path f = Files.write(m.dir().resolve("ranges"), new byte[1000]);
            long hfd = holder.callOk("open", f, 2, "644");
            assertEquals("ok 0", holder.call("setlk", hfd, WRLCK, 0, 100), "write lock on bytes 0..99");
            assertEquals("ok 0", holder.call("setlk", hfd, RDLCK, 200, 100), "read lock on bytes 200..299");
            int fd = PosixSyscalls.open(f, PosixSyscalls.O_RDWR).expectOk("open").fd();
            try {
                PosixSyscalls.fcntlLock(fd, F_SETLK, F_WRLCK, 100, 100).expectOk("write lock on 100..199, next to it");
                PosixSyscalls.fcntlLock(fd, F_SETLK, F_WRLCK, 50, 20).expectErrno(EAGAIN, "inside the write lock");
                PosixSyscalls.fcntlLock(fd, F_SETLK, F_RDLCK, 99, 1).expectErrno(EAGAIN, "its last byte");
                PosixSyscalls.fcntlLock(fd, F_SETLK, F_RDLCK, 250, 10).expectOk("a read lock shares with a read lock");
                PosixSyscalls.fcntlLock(fd, F_SETLK, F_WRLCK, 290, 20).expectErrno(EAGAIN, "a write lock does not");
                PosixSyscalls.LockInfo c = PosixSyscalls.getlk(fd, F_WRLCK, 280, 100);
                assertEquals(F_RDLCK, c.type());
                assertEquals(200, c.start());
                assertEquals(100, c.length());

                assertEquals("ok 0", holder.call("setlk", hfd, RDLCK, 0, 100), "the holder downgrades 0..99 to a read lock");
                PosixSyscalls.fcntlLock(fd, F_SETLK, F_RDLCK, 0, 50).expectOk("now a read lock fits");
                PosixSyscalls.fcntlLock(fd, F_SETLK, F_WRLCK, 0, 50).expectErrno(EAGAIN, "a write lock still does not");
                assertEquals("ok 0", holder.call("setlk", hfd, UNLCK, 0, 50), "the holder unlocks 0..49");
                PosixSyscalls.fcntlLock(fd, F_SETLK, F_WRLCK, 0, 50).expectOk("and the write lock fits there");
                PosixSyscalls.fcntlLock(fd, F_SETLK, F_WRLCK, 50, 10).expectErrno(EAGAIN, "but not at 50..99, which the holder kept");
                assertEquals("err 11 EAGAIN", holder.call("setlk", hfd, WRLCK, 100, 1), "our lock on 100..199 holds the other way too");
            } finally {
                PosixSyscalls.close(fd);
            }
        }
    }

    @Test
    void closingAnyDescriptorOfTheFileReleasesTheProcesssLocksAsPosixSays() throws Exception {
        try (MountedFs m = MountedFs.create(tmp); PosixProcess holder = PosixProcess.syscalls(null)) {
            Path f = Files.writeString(m.dir().resolve("f"), "x");
            long first = holder.callOk("open", f, 2, "644");
            long second = holder.callOk("open", f, 0, "644");
            assertEquals("ok 0", holder.call("setlk", first, WRLCK, 0, 0));
            int fd = PosixSyscalls.open(f, PosixSyscalls.O_RDWR).expectOk("open").fd();
            try {
                PosixSyscalls.fcntlLock(fd, F_SETLK, F_WRLCK, 0, 0).expectErrno(EAGAIN, "while held");
                assertEquals("ok 0", holder.call("close", second), "the holder closes its other descriptor");
                PosixSyscalls.fcntlLock(fd, F_SETLK, F_WRLCK, 0, 0).expectOk("the lock went with it");
            } finally {
                PosixSyscalls.close(fd);
            }
        }
    }

    @Test
    void setlkwWaitsUntilTheHolderReleasesAndAKilledHolderReleasesItsLocks() throws Exception {
        try (MountedFs m = MountedFs.create(tmp);
                PosixProcess holder = PosixProcess.syscalls(null);
                PosixProcess waiter = PosixProcess.syscalls(null)) {
            Path f = Files.writeString(m.dir().resolve("f"), "x");
            long hfd = holder.callOk("open", f, 2, "644");
            long wfd = waiter.callOk("open", f, 2, "644");
            assertEquals("ok 0", holder.call("setlk", hfd, WRLCK, 0, 0));
            waiter.send("setlkw\t" + wfd + "\t" + WRLCK + "\t0\t0");
            assertNull(waiter.nextLine(Duration.ofMillis(500)), "F_SETLKW waits while the lock is held");
            // A request that waits never stalls the others: the mount keeps serving meanwhile.
            long t0 = System.nanoTime();
            Path others = Files.createDirectory(m.dir().resolve("meanwhile"));
            for (int i = 0; i < 200; i++) {
                Files.writeString(others.resolve("f" + i), "served while a lock request waits");
            }
            try (var listing = Files.list(others)) {
                assertEquals(200, listing.count(), "every other request was served while SETLKW waited");
            }
            assertTrue(System.nanoTime() - t0 < 20_000_000_000L, "and promptly");
            assertNull(waiter.nextLine(Duration.ofMillis(10)), "the waiter is still waiting");
            assertEquals("ok 0", holder.call("setlk", hfd, UNLCK, 0, 0), "the holder unlocks");
            assertEquals("ok 0", waiter.expectLine(), "and the waiter gets the lock");
            assertEquals("err 11 EAGAIN", holder.call("setlk", hfd, RDLCK, 0, 0), "which the waiter now holds");

            // A holder that dies without closing anything still lets go: the kernel closes its files.
            waiter.close();
            int fd = PosixSyscalls.open(f, PosixSyscalls.O_RDWR).expectOk("open").fd();
            try {
                awaitLock(fd, F_WRLCK);
            } finally {
                PosixSyscalls.close(fd);
            }
        }
    }

    @Test
    void aLockWaitThatWouldCloseACycleIsRefusedWithEdeadlk() throws Exception {
        try (MountedFs m = MountedFs.create(tmp);
                PosixProcess a = PosixProcess.syscalls(null);
                PosixProcess b = PosixProcess.syscalls(null)) {
            Path f = Files.write(m.dir().resolve("f"), new byte[100]);
            long afd = a.callOk("open", f, 2, "644");
            long bfd = b.callOk("open", f, 2, "644");
            assertEquals("ok 0", a.call("setlk", afd, WRLCK, 0, 10), "a holds 0..9");
            assertEquals("ok 0", b.call("setlk", bfd, WRLCK, 10, 10), "b holds 10..19");
            a.send("setlkw\t" + afd + "\t" + WRLCK + "\t10\t10");
            assertNull(a.nextLine(Duration.ofMillis(300)), "a waits for b");
            assertEquals("err 35 EDEADLK", b.call("setlkw", bfd, WRLCK, 0, 10), "b waiting for a would deadlock: EDEADLK");
            assertEquals("ok 0", b.call("close", bfd), "b gives up its locks");
            assertEquals("ok 0", a.expectLine(), "and a gets 10..19");
            int fd = PosixSyscalls.open(f, PosixSyscalls.O_RDWR).expectOk("open").fd();
            try {
                PosixSyscalls.LockInfo held = PosixSyscalls.getlk(fd, F_WRLCK, 0, 0);
                assertEquals(F_WRLCK, held.type());
                assertEquals(a.pid(), held.pid(), "a holds the locks now");
            } finally {
                PosixSyscalls.close(fd);
            }
        }
    }

    @Test
    void flockExclusiveRefusesOthersWithWouldBlockUntilTheHolderClosesTheFile() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path f = Files.writeString(m.dir().resolve("f"), "x");
            String script = "exec 9>>f; flock -x 9; echo locked; read line; exec 9>&-; echo closed; read line";
            try (PosixProcess holder = PosixProcess.start(null, m.dir(), List.of("bash", "-c", script))) {
                assertEquals("locked", holder.expectLine());
                assertEquals(1, PosixProcess.sh(m.dir(), "flock -x -n f true").exit(), "flock -n -x while held: would block");
                assertEquals(1, PosixProcess.sh(m.dir(), "flock -s -n f true").exit(), "flock -n -s while held: would block");
                int fd = PosixSyscalls.open(f, PosixSyscalls.O_RDONLY).expectOk("open").fd();
                try {
                    PosixSyscalls.flock(fd, PosixSyscalls.LOCK_EX | PosixSyscalls.LOCK_NB).expectErrno(EAGAIN, "LOCK_EX|LOCK_NB");
                    PosixSyscalls.flock(fd, PosixSyscalls.LOCK_SH | PosixSyscalls.LOCK_NB).expectErrno(EAGAIN, "LOCK_SH|LOCK_NB");
                    PosixSyscalls.fcntlLock(fd, F_SETLK, F_RDLCK, 0, 0).expectOk("fcntl locks are a separate namespace from flock");
                    PosixSyscalls.fcntlLock(fd, F_SETLK, F_UNLCK, 0, 0).expectOk("unlock");

                    long t0 = System.nanoTime();
                    PosixProcess.Outcome timed = PosixProcess.sh(m.dir(), "flock -x -w 0.3 f true");
                    long waitedMs = (System.nanoTime() - t0) / 1_000_000;
                    assertEquals(1, timed.exit(), "a timed blocking flock gives up: " + timed);
                    assertTrue(waitedMs >= 250, "after waiting its timeout (" + waitedMs + " ms)");

                    holder.send("release");
                    assertEquals("closed", holder.expectLine());
                    assertEquals(0, PosixProcess.sh(m.dir(), "flock -x -n f true").exit(), "free once the holder closed its descriptor");
                    PosixSyscalls.flock(fd, PosixSyscalls.LOCK_EX | PosixSyscalls.LOCK_NB).expectOk("and for us; the given-up wait left nothing");
                    PosixProcess.Outcome other = PosixProcess.sh(m.dir(), "flock -s -n f true");
                    assertEquals(1, other.exit(), "our exclusive flock refuses another process: " + other);
                } finally {
                    PosixSyscalls.close(fd);
                }
                holder.send("done");
                assertEquals(0, holder.finish());
            }
        }
    }

    @Test
    void sharedFlocksCoexistAndAKilledHolderReleasesItsFlock() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path f = Files.writeString(m.dir().resolve("f"), "x");
            try (PosixProcess holder = PosixProcess.start(null, m.dir(),
                    List.of("bash", "-c", "exec 9<f; flock -s 9; echo shared; read line"))) {
                assertEquals("shared", holder.expectLine());
                assertEquals(0, PosixProcess.sh(m.dir(), "flock -s -n f true").exit(), "a second shared flock is granted");
                assertEquals(1, PosixProcess.sh(m.dir(), "flock -x -n f true").exit(), "an exclusive one is not");
                holder.close();
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                int exit;
                while ((exit = PosixProcess.sh(m.dir(), "flock -x -n f true").exit()) != 0 && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertEquals(0, exit, "the killed holder's flock is gone");
            }
        }
    }

    @Test
    void javaFileLockBlocksUntilAnotherProcessReleases() throws Exception {
        try (MountedFs m = MountedFs.create(tmp); PosixProcess holder = PosixProcess.syscalls(null)) {
            Path f = Files.writeString(m.dir().resolve("f"), "x");
            long hfd = holder.callOk("open", f, 2, "644");
            assertEquals("ok 0", holder.call("setlk", hfd, RDLCK, 0, 0));
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                FileLock shared = ch.tryLock(0, Long.MAX_VALUE, true);
                assertNotNull(shared, "a shared lock beside the other process's read lock");
                shared.release();
                Thread releaser = Thread.ofVirtual().start(() -> {
                    try {
                        Thread.sleep(300);
                        holder.call("close", hfd);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                long t0 = System.nanoTime();
                try (FileLock exclusive = ch.lock()) {
                    assertTrue(exclusive.isValid());
                    assertTrue(System.nanoTime() - t0 >= 250_000_000L, "FileChannel.lock (F_SETLKW) waited for the release");
                }
                releaser.join(10_000);
            }
        }
    }
}
