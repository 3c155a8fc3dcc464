package io.concord.fs;

import static io.concord.fs.FileLocks.F_RDLCK;
import static io.concord.fs.FileLocks.F_UNLCK;
import static io.concord.fs.FileLocks.F_WRLCK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.concord.errors.FsException;
import io.concord.errors.FsException.Kind;
import io.concord.fs.FileLocks.Lock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/** Non-blocking POSIX locks (F_GETLK, F_SETLK), flock, release and memory. */
@Timeout(10)
class FileLocksTest {
    private static final long EOF = Long.MAX_VALUE;
    private static final long INO = 42;
    private final FileLocks locks = new FileLocks();

    static Lock rd(long start, long end, long owner) {
        return new Lock(start, end, F_RDLCK, owner, (int) owner + 1000);
    }

    static Lock wr(long start, long end, long owner) {
        return new Lock(start, end, F_WRLCK, owner, (int) owner + 1000);
    }

    static Lock un(long start, long end, long owner) {
        return new Lock(start, end, F_UNLCK, owner, (int) owner + 1000);
    }

    static void assertFails(Kind kind, Executable action) {
        assertEquals(kind, assertThrows(FsException.class, action).kind());
    }

    @Test
    void readLocksShareAndWriteLocksExcludeBetweenOwners() {
        locks.lock(INO, rd(0, 9, 1));
        locks.lock(INO, rd(5, 14, 2));
        assertNull(locks.test(INO, rd(0, 20, 3)));
        assertNotNull(locks.test(INO, wr(9, 9, 3)));
        assertFails(Kind.WOULD_BLOCK, () -> locks.lock(INO, wr(9, 9, 3)));

        locks.lock(INO, wr(100, 199, 3));
        assertFails(Kind.WOULD_BLOCK, () -> locks.lock(INO, rd(150, 150, 1)));
        assertFails(Kind.WOULD_BLOCK, () -> locks.lock(INO, wr(199, EOF, 1)));
        locks.lock(INO, wr(200, EOF, 1)); // touches but does not overlap
        assertEquals(List.of(rd(0, 9, 1), rd(5, 14, 2), wr(100, 199, 3), wr(200, EOF, 1)), locks.posixLocks(INO));
    }

    @Test
    void anOwnerNeverConflictsWithItself() {
        locks.lock(INO, wr(0, 99, 1));
        assertNull(locks.test(INO, wr(50, 60, 1)));
        locks.lock(INO, rd(50, 60, 1));
        assertEquals(List.of(wr(0, 49, 1), rd(50, 60, 1), wr(61, 99, 1)), locks.posixLocks(INO));
    }

    @Test
    void unlockingTheMiddleOfALockLeavesTwoPieces() {
        locks.lock(INO, wr(0, 99, 1));
        locks.lock(INO, un(40, 59, 1));
        assertEquals(List.of(wr(0, 39, 1), wr(60, 99, 1)), locks.posixLocks(INO));
        assertNull(locks.test(INO, wr(40, 59, 2)));
        assertEquals(wr(0, 39, 1), locks.test(INO, rd(39, 40, 2)));
        assertEquals(wr(60, 99, 1), locks.test(INO, rd(59, 60, 2)));
        assertEquals(wr(0, 39, 1), locks.test(INO, rd(0, EOF, 2)));
        locks.lock(INO, wr(40, 59, 2));
    }

    @Test
    void touchingAndOverlappingLocksOfOneTypeMerge() {
        locks.lock(INO, rd(0, 9, 1));
        locks.lock(INO, rd(20, 29, 1));
        locks.lock(INO, rd(10, 19, 1));
        assertEquals(List.of(rd(0, 29, 1)), locks.posixLocks(INO));
        locks.lock(INO, rd(25, EOF, 1));
        assertEquals(List.of(rd(0, EOF, 1)), locks.posixLocks(INO));
    }

    @Test
    void locksOfDifferentTypesTouchWithoutMerging() {
        locks.lock(INO, rd(0, 9, 1));
        locks.lock(INO, wr(10, 19, 1));
        assertEquals(List.of(rd(0, 9, 1), wr(10, 19, 1)), locks.posixLocks(INO));
        // Re-typing the write lock makes it mergeable with its neighbour.
        locks.lock(INO, rd(10, 19, 1));
        assertEquals(List.of(rd(0, 19, 1)), locks.posixLocks(INO));
    }

    @Test
    void aNewLockReplacesEverythingOfTheOwnerInItsRange() {
        locks.lock(INO, rd(0, 9, 1));
        locks.lock(INO, wr(20, 29, 1));
        locks.lock(INO, rd(40, 49, 1));
        locks.lock(INO, wr(5, 44, 1));
        assertEquals(List.of(rd(0, 4, 1), wr(5, 44, 1), rd(45, 49, 1)), locks.posixLocks(INO));
        locks.lock(INO, un(0, EOF, 1));
        assertEquals(List.of(), locks.posixLocks(INO));
        assertEquals(0, locks.lockedInodes());
    }

    @Test
    void unlockingWhatIsNotLockedIsHarmless() {
        locks.lock(INO, un(0, EOF, 1));
        assertEquals(0, locks.lockedInodes());
        locks.lock(INO, wr(10, 19, 2));
        locks.lock(INO, un(10, 19, 1)); // someone else's range
        assertEquals(List.of(wr(10, 19, 2)), locks.posixLocks(INO));
    }

    @Test
    void getlkReportsTheConflictingLocksOwnerPidAndRange() {
        locks.lock(INO, new Lock(100, EOF, F_WRLCK, 7, 4242));
        locks.lock(INO, new Lock(10, 19, F_RDLCK, 8, 4343));
        Lock seen = locks.test(INO, wr(0, 200, 9));
        assertEquals(new Lock(10, 19, F_RDLCK, 8, 4343), seen);
        Lock forRead = locks.test(INO, rd(0, 200, 9));
        assertEquals(new Lock(100, EOF, F_WRLCK, 7, 4242), forRead);
        assertNull(locks.test(INO, rd(0, 99, 9)));
        assertNull(locks.test(INO + 1, wr(0, EOF, 9)));
    }

    @Test
    void setlkConflictChangesNothing() {
        locks.lock(INO, rd(0, 99, 1));
        locks.lock(INO, rd(50, 59, 2));
        // Owner 1 asks to upgrade all of it; owner 2's read lock stops that, so owner 1 keeps its read lock.
        FsException e = assertThrows(FsException.class, () -> locks.lock(INO, wr(0, 99, 1)));
        assertEquals(Kind.WOULD_BLOCK, e.kind());
        assertEquals(List.of(rd(0, 99, 1), rd(50, 59, 2)), locks.posixLocks(INO));
    }

    @Test
    void malformedRequestsAreInvalidArguments() {
        assertFails(Kind.INVALID_ARGUMENT, () -> locks.lock(INO, new Lock(5, 4, F_WRLCK, 1, 1)));
        assertFails(Kind.INVALID_ARGUMENT, () -> locks.lock(INO, new Lock(-1, 4, F_WRLCK, 1, 1)));
        assertFails(Kind.INVALID_ARGUMENT, () -> locks.lock(INO, new Lock(0, 4, 3, 1, 1)));
        assertFails(Kind.INVALID_ARGUMENT, () -> locks.lockWait(INO, new Lock(0, 4, -1, 1, 1)));
        assertFails(Kind.INVALID_ARGUMENT, () -> locks.test(INO, un(0, 4, 1)));
        assertFails(Kind.INVALID_ARGUMENT, () -> locks.flock(INO, 1, 3));
        assertFails(Kind.INVALID_ARGUMENT, () -> locks.flockWait(INO, 1, -1));
        assertEquals(0, locks.lockedInodes());
    }

    @Test
    void releaseOwnerDropsOnlyThatOwnersLocksOnThatInode() {
        locks.lock(INO, rd(0, 9, 1));
        locks.lock(INO, wr(20, 29, 1));
        locks.lock(INO, rd(0, 9, 2));
        locks.lock(INO + 1, wr(0, EOF, 1));
        locks.flock(INO, 1, F_WRLCK);
        locks.releaseOwner(INO, 1);
        assertEquals(List.of(rd(0, 9, 2)), locks.posixLocks(INO));
        assertEquals(List.of(wr(0, EOF, 1)), locks.posixLocks(INO + 1));
        assertEquals(Map.of(1L, F_WRLCK), locks.flocks(INO));
        locks.releaseOwner(INO, 99); // never locked anything
        locks.releaseOwner(INO + 7, 1); // inode without locks
        assertEquals(2, locks.lockedInodes());
    }

    @Test
    void flockSharedLocksShareAndExclusiveExcludes() {
        locks.flock(INO, 1, F_RDLCK);
        locks.flock(INO, 2, F_RDLCK);
        assertFails(Kind.WOULD_BLOCK, () -> locks.flock(INO, 3, F_WRLCK));
        locks.releaseFlock(INO, 1);
        locks.releaseFlock(INO, 2);
        locks.flock(INO, 3, F_WRLCK);
        assertFails(Kind.WOULD_BLOCK, () -> locks.flock(INO, 1, F_RDLCK));
        assertFails(Kind.WOULD_BLOCK, () -> locks.flock(INO, 1, F_WRLCK));
        locks.flock(INO, 3, F_WRLCK); // again: no change
        assertEquals(Map.of(3L, F_WRLCK), locks.flocks(INO));
    }

    @Test
    void flockConversionReplacesTheOwnersLock() {
        locks.flock(INO, 1, F_WRLCK);
        locks.flock(INO, 1, F_RDLCK);
        assertEquals(Map.of(1L, F_RDLCK), locks.flocks(INO));
        locks.flock(INO, 2, F_RDLCK);
        locks.releaseFlock(INO, 2);
        locks.flock(INO, 1, F_WRLCK);
        assertEquals(Map.of(1L, F_WRLCK), locks.flocks(INO));
        locks.flock(INO, 1, F_UNLCK);
        assertEquals(0, locks.lockedInodes());
    }

    @Test
    void failedFlockUpgradeDropsTheSharedLockAsLinuxDoes() {
        locks.flock(INO, 1, F_RDLCK);
        locks.flock(INO, 2, F_RDLCK);
        assertFails(Kind.WOULD_BLOCK, () -> locks.flock(INO, 1, F_WRLCK));
        assertEquals(Map.of(2L, F_RDLCK), locks.flocks(INO));
        locks.flock(INO, 2, F_WRLCK); // owner 1 no longer holds anything
    }

    @Test
    void flockAndPosixLocksDoNotInteract() {
        locks.flock(INO, 1, F_WRLCK);
        locks.lock(INO, wr(0, EOF, 2)); // an exclusive flock does not stop a POSIX lock
        assertFails(Kind.WOULD_BLOCK, () -> locks.flock(INO, 2, F_RDLCK)); // nor the other way round
        assertEquals(wr(0, EOF, 2), locks.test(INO, rd(0, 0, 1)));
        locks.releaseOwner(INO, 1); // POSIX release leaves the flock
        locks.releaseFlock(INO, 2); // flock release leaves the POSIX lock
        assertEquals(Map.of(1L, F_WRLCK), locks.flocks(INO));
        assertEquals(List.of(wr(0, EOF, 2)), locks.posixLocks(INO));
    }

    @Test
    void inodesAreForgottenOnceEverythingIsReleased() {
        for (long ino = 0; ino < 100; ino++) {
            locks.lock(ino, rd(ino, ino + 10, 1));
            locks.lock(ino, rd(0, 5, 2));
            locks.flock(ino, 3, F_RDLCK);
        }
        assertEquals(100, locks.lockedInodes());
        for (long ino = 0; ino < 100; ino++) {
            locks.releaseOwner(ino, 1);
            locks.lock(ino, un(0, EOF, 2));
            assertEquals(100 - ino, locks.lockedInodes(), "the flock still holds the inode");
            locks.releaseFlock(ino, 3);
            assertEquals(100 - ino - 1, locks.lockedInodes());
        }
        assertEquals(0, locks.lockedInodes());
        assertEquals(0, locks.blockedPosixRequests());
    }
}
