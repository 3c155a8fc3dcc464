package io.concord.fs;

import static io.concord.fs.FileLocks.F_RDLCK;
import static io.concord.fs.FileLocks.F_WRLCK;
import static io.concord.fs.FileLocksTest.rd;
import static io.concord.fs.FileLocksTest.un;
import static io.concord.fs.FileLocksTest.wr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.errors.FsException;
import io.concord.errors.FsException.Kind;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Blocking requests (F_SETLKW, blocking flock): grants, order, cancellation, deadlock detection. */
@Timeout(10)
class FileLocksWaitTest {
    private static final long EOF = Long.MAX_VALUE;
    private static final long INO = 42;
    private static final long A = 1;
    private static final long B = 2;
    private static final long C = 3;
    private final FileLocks locks = new FileLocks();

    private static void assertGranted(CompletableFuture<Void> f) throws Exception {
        assertNull(f.get(5, TimeUnit.SECONDS));
    }

    private static void assertWaiting(CompletableFuture<Void> f) {
        assertFalse(f.isDone(), "should still be waiting");
    }

    private static void assertRefused(Kind kind, CompletableFuture<Void> f) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
        assertEquals(kind, assertInstanceOf(FsException.class, e.getCause()).kind());
    }

    @Test
    void setlkwWaitsUntilTheWholeConflictIsUnlocked() throws Exception {
        locks.lock(INO, wr(0, 99, A));
        CompletableFuture<Void> f = locks.lockWait(INO, wr(40, 59, B));
        assertWaiting(f);
        locks.lock(INO, un(0, 49, A));
        assertWaiting(f);
        locks.lock(INO, un(50, 99, A));
        assertGranted(f);
        assertEquals(List.of(wr(40, 59, B)), locks.posixLocks(INO));
        assertEquals(0, locks.blockedPosixRequests());
    }

    @Test
    void setlkwIsGrantedWhenTheHolderIsReleased() throws Exception {
        locks.lock(INO, rd(0, EOF, A));
        locks.lock(INO + 1, wr(0, EOF, A));
        CompletableFuture<Void> f = locks.lockWait(INO, wr(10, 10, B));
        locks.releaseOwner(INO + 1, A); // another inode: no effect
        assertWaiting(f);
        locks.releaseOwner(INO, A);
        assertGranted(f);
        assertEquals(List.of(wr(10, 10, B)), locks.posixLocks(INO));
    }

    @Test
    void setlkwWithoutConflictIsGrantedAtOnce() throws Exception {
        locks.lock(INO, rd(0, 9, A));
        CompletableFuture<Void> f = locks.lockWait(INO, rd(0, 9, B));
        assertTrue(f.isDone());
        assertGranted(f);
        assertTrue(locks.lockWait(INO, un(0, 9, B)).isDone());
        assertEquals(List.of(rd(0, 9, A)), locks.posixLocks(INO));
    }

    @Test
    void waitersAreRetriedInArrivalOrder() throws Exception {
        locks.lock(INO, wr(0, 9, A));
        CompletableFuture<Void> first = locks.lockWait(INO, wr(0, 9, B));
        CompletableFuture<Void> second = locks.lockWait(INO, wr(0, 9, C));
        locks.releaseOwner(INO, A);
        assertGranted(first);
        assertWaiting(second);
        locks.releaseOwner(INO, B);
        assertGranted(second);
    }

    @Test
    void allReadersWaitingBehindAWriterAreGrantedTogether() throws Exception {
        locks.lock(INO, wr(0, EOF, A));
        CompletableFuture<Void> r1 = locks.lockWait(INO, rd(0, 9, B));
        CompletableFuture<Void> r2 = locks.lockWait(INO, rd(5, 15, C));
        locks.lock(INO, un(0, EOF, A));
        assertGranted(r1);
        assertGranted(r2);
    }

    @Test
    void aGrantThatDowngradesItsOwnerUnblocksAnEarlierWaiter() throws Exception {
        locks.lock(INO, wr(0, 9, A));
        locks.lock(INO, wr(20, 29, B));
        CompletableFuture<Void> c = locks.lockWait(INO, rd(5, 5, C)); // blocked by A's write lock
        CompletableFuture<Void> a = locks.lockWait(INO, rd(0, 29, A)); // blocked by B
        locks.releaseOwner(INO, B);
        assertGranted(a);
        assertGranted(c);
        assertEquals(List.of(rd(0, 29, A), rd(5, 5, C)), locks.posixLocks(INO));
    }

    @Test
    void cancellingAWaiterLeavesNoTrace() throws Exception {
        locks.lock(INO, wr(0, 9, A));
        CompletableFuture<Void> f = locks.lockWait(INO, wr(0, 9, B));
        assertEquals(1, locks.blockedPosixRequests());
        assertTrue(f.cancel(true));
        assertTrue(f.isCancelled());
        assertTrue(f.cancel(true), "cancelling again still reports cancelled");
        assertEquals(0, locks.blockedPosixRequests());
        locks.releaseOwner(INO, A);
        assertEquals(List.of(), locks.posixLocks(INO));
        assertEquals(0, locks.lockedInodes());
    }

    @Test
    void cancellingAGrantedWaitChangesNothing() throws Exception {
        locks.lock(INO, wr(0, 9, A));
        CompletableFuture<Void> f = locks.lockWait(INO, wr(0, 9, B));
        locks.releaseOwner(INO, A);
        assertFalse(f.cancel(true));
        assertGranted(f);
        assertEquals(List.of(wr(0, 9, B)), locks.posixLocks(INO));
    }

    @Test
    void aTimeoutOnTheFutureWithdrawsTheWait() throws Exception {
        locks.lock(INO, wr(0, 9, A));
        CompletableFuture<Void> f = locks.lockWait(INO, wr(0, 9, B)).orTimeout(20, TimeUnit.MILLISECONDS);
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
        assertInstanceOf(TimeoutException.class, e.getCause());
        assertEquals(0, locks.blockedPosixRequests());
        locks.releaseOwner(INO, A);
        assertEquals(0, locks.lockedInodes());
    }

    @Test
    void twoOwnersWaitingForEachOtherGetDeadlock() throws Exception {
        locks.lock(INO, wr(0, 0, A));
        locks.lock(INO, wr(1, 1, B));
        CompletableFuture<Void> a = locks.lockWait(INO, wr(1, 1, A));
        assertWaiting(a);
        CompletableFuture<Void> b = locks.lockWait(INO, wr(0, 0, B));
        assertRefused(Kind.DEADLOCK, b);
        assertWaiting(a);
        assertEquals(List.of(wr(0, 0, A), wr(1, 1, B)), locks.posixLocks(INO), "a refused wait changes no lock");
        locks.lock(INO, un(1, 1, B));
        assertGranted(a);
    }

    @Test
    void threeOwnersInACycleAcrossInodesGetDeadlock() throws Exception {
        locks.lock(1, wr(0, EOF, A));
        locks.lock(2, wr(0, EOF, B));
        locks.lock(3, wr(0, EOF, C));
        CompletableFuture<Void> ab = locks.lockWait(2, rd(0, 0, A));
        CompletableFuture<Void> bc = locks.lockWait(3, rd(0, 0, B));
        CompletableFuture<Void> ca = locks.lockWait(1, rd(0, 0, C));
        assertWaiting(ab);
        assertWaiting(bc);
        assertRefused(Kind.DEADLOCK, ca);
        locks.releaseOwner(3, C);
        assertGranted(bc);
        locks.releaseOwner(2, B);
        assertGranted(ab);
    }

    @Test
    void aChainOfWaitsWithoutACycleIsNotRefused() throws Exception {
        locks.lock(INO, wr(0, 0, A));
        locks.lock(INO, wr(1, 1, B));
        locks.lock(INO, wr(2, 2, C));
        CompletableFuture<Void> ab = locks.lockWait(INO, wr(1, 1, A));
        CompletableFuture<Void> bc = locks.lockWait(INO, wr(2, 2, B));
        CompletableFuture<Void> dc = locks.lockWait(INO, rd(0, 2, 4)); // waits for all three
        assertWaiting(ab);
        assertWaiting(bc);
        assertWaiting(dc);
        locks.releaseOwner(INO, C);
        assertGranted(bc);
        assertWaiting(ab);
        locks.releaseOwner(INO, B);
        assertGranted(ab);
        locks.releaseOwner(INO, A);
        assertGranted(dc);
    }

    @Test
    void aWaiterIsRefusedWhenANewBlockerWaitsForItsOwner() throws Exception {
        locks.lock(1, rd(0, 9, B));
        locks.lock(2, wr(0, 0, A));
        CompletableFuture<Void> a = locks.lockWait(1, wr(0, 9, A)); // A waits for B
        CompletableFuture<Void> c = locks.lockWait(2, rd(0, 0, C)); // C waits for A
        assertWaiting(a);
        assertWaiting(c);
        // Another thread of C takes a read lock A's request now also waits for: A -> C -> A.
        locks.lock(1, rd(5, 5, C));
        assertRefused(Kind.DEADLOCK, a);
        assertWaiting(c);
        assertEquals(1, locks.blockedPosixRequests());
        locks.releaseOwner(2, A);
        assertGranted(c);
    }

    @Test
    void grantCallbacksMayCallBackIntoTheEngine() throws Exception {
        locks.lock(INO, wr(0, 9, A));
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CompletableFuture<Void> chained = locks.lockWait(INO, wr(0, 9, B)).thenRun(() -> {
            locks.lock(INO, wr(20, 29, B));
            locks.lock(INO + 1, wr(0, 0, B));
        }).whenComplete((v, t) -> failure.set(t));
        locks.releaseOwner(INO, A);
        chained.get(5, TimeUnit.SECONDS);
        assertNull(failure.get());
        assertEquals(List.of(wr(0, 9, B), wr(20, 29, B)), locks.posixLocks(INO));
    }

    @Test
    void flockWaitIsGrantedWhenTheExclusiveHolderLetsGo() throws Exception {
        locks.flock(INO, A, F_WRLCK);
        CompletableFuture<Void> r1 = locks.flockWait(INO, B, F_RDLCK);
        CompletableFuture<Void> r2 = locks.flockWait(INO, C, F_RDLCK);
        assertWaiting(r1);
        locks.flock(INO, A, F_RDLCK); // downgrade lets the readers in
        assertGranted(r1);
        assertGranted(r2);
        assertEquals(Map.of(A, F_RDLCK, B, F_RDLCK, C, F_RDLCK), locks.flocks(INO));
    }

    @Test
    void twoSharedHoldersUpgradingBothGetTheLockInTurn() throws Exception {
        locks.flock(INO, A, F_RDLCK);
        locks.flock(INO, B, F_RDLCK);
        CompletableFuture<Void> a = locks.flockWait(INO, A, F_WRLCK);
        assertWaiting(a);
        // B drops its shared lock and, like the running process on Linux, takes the lock before the
        // woken waiter A gets to retry.
        CompletableFuture<Void> b = locks.flockWait(INO, B, F_WRLCK);
        assertGranted(b);
        assertWaiting(a);
        locks.releaseFlock(INO, B);
        assertGranted(a);
        assertEquals(Map.of(A, F_WRLCK), locks.flocks(INO));
    }

    @Test
    void cancellingAFlockWaitLeavesNoTrace() throws Exception {
        locks.flock(INO, A, F_WRLCK);
        CompletableFuture<Void> f = locks.flockWait(INO, B, F_WRLCK);
        assertTrue(f.cancel(true));
        locks.releaseFlock(INO, A);
        assertEquals(Map.of(), locks.flocks(INO));
        assertEquals(0, locks.lockedInodes());
    }

    @Test
    void posixDeadlockDetectionIgnoresFlockWaits() throws Exception {
        locks.flock(INO, A, F_WRLCK);
        locks.lock(INO, wr(0, 0, B));
        CompletableFuture<Void> flockWait = locks.flockWait(INO, B, F_RDLCK); // B waits for A, in flock
        CompletableFuture<Void> posixWait = locks.lockWait(INO, wr(0, 0, A)); // A waits for B, in POSIX
        assertWaiting(flockWait);
        assertWaiting(posixWait);
        locks.releaseFlock(INO, A);
        assertGranted(flockWait);
        locks.releaseOwner(INO, B);
        assertGranted(posixWait);
        assertEquals(Map.of(B, F_RDLCK), locks.flocks(INO));
    }
}
