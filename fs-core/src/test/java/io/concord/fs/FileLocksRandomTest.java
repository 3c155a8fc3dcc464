package io.concord.fs;

import static io.concord.fs.FileLocks.F_RDLCK;
import static io.concord.fs.FileLocks.F_UNLCK;
import static io.concord.fs.FileLocks.F_WRLCK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.concord.errors.FsException;
import io.concord.errors.FsException.Kind;
import io.concord.fs.FileLocks.Lock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Seeded random workloads against a model. Byte ranges live in a small window of {@code CELLS - 1}
 * bytes plus one last cell standing for everything from there to EOF; requests either end inside the
 * window or at EOF, so the cells describe every lock exactly.
 */
class FileLocksRandomTest {
    private static final long EOF = Long.MAX_VALUE;
    private static final int NONE = -1;

    /** Every owner's locks as one type (or NONE) per cell. */
    private static final class Model {
        final int cells;
        final Map<Long, int[]> byOwner = new HashMap<>();

        Model(int cells) {
            this.cells = cells;
        }

        int[] of(long owner) {
            return byOwner.computeIfAbsent(owner, o -> {
                int[] c = new int[cells];
                Arrays.fill(c, NONE);
                return c;
            });
        }

        int first(Lock l) {
            return (int) l.start();
        }

        int last(Lock l) {
            return l.end() == EOF ? cells - 1 : (int) l.end();
        }

        boolean conflicts(Lock wanted) {
            for (Map.Entry<Long, int[]> e : byOwner.entrySet()) {
                if (e.getKey() == wanted.owner()) {
                    continue;
                }
                for (int i = first(wanted); i <= last(wanted); i++) {
                    int t = e.getValue()[i];
                    if (t != NONE && (t == F_WRLCK || wanted.type() == F_WRLCK)) {
                        return true;
                    }
                }
            }
            return false;
        }

        void apply(Lock l) {
            Arrays.fill(of(l.owner()), first(l), last(l) + 1, l.type() == F_UNLCK ? NONE : l.type());
        }

        /** The canonical (maximally merged) locks of one owner, pids zeroed. */
        List<Lock> locks(long owner) {
            int[] c = of(owner);
            List<Lock> out = new ArrayList<>();
            int i = 0;
            while (i < cells) {
                if (c[i] == NONE) {
                    i++;
                    continue;
                }
                int j = i;
                while (j + 1 < cells && c[j + 1] == c[i]) {
                    j++;
                }
                out.add(new Lock(i, j == cells - 1 ? EOF : j, c[i], owner, 0));
                i = j + 1;
            }
            return out;
        }
    }

    private static Lock randomLock(Random rnd, int cells, long owner, boolean allowUnlock) {
        int start = rnd.nextInt(cells - 1);
        long end = rnd.nextInt(5) == 0 ? EOF : start + rnd.nextInt(Math.min(8, cells - 1 - start));
        int type = allowUnlock ? rnd.nextInt(3) : rnd.nextInt(2);
        return new Lock(start, end, type, owner, (int) owner);
    }

    private static List<Lock> withoutPids(List<Lock> locks) {
        return locks.stream().map(l -> new Lock(l.start(), l.end(), l.type(), l.owner(), 0)).toList();
    }

    private static List<Lock> ownedBy(List<Lock> locks, long owner) {
        return withoutPids(locks.stream().filter(l -> l.owner() == owner).toList());
    }

    /** No two owners hold conflicting overlapping locks; each owner's locks are canonical. */
    private static void assertConsistent(List<Lock> snapshot) {
        for (int i = 0; i < snapshot.size(); i++) {
            Lock a = snapshot.get(i);
            for (int j = i + 1; j < snapshot.size(); j++) {
                Lock b = snapshot.get(j);
                if (a.owner() != b.owner()) {
                    assertTrue(!a.overlaps(b) || (a.type() == F_RDLCK && b.type() == F_RDLCK), () -> "conflicting holders: " + a + " and " + b);
                } else {
                    assertTrue(!a.overlaps(b), () -> "one owner's locks overlap: " + a + " and " + b);
                    boolean touch = a.end() != EOF && a.end() + 1 == b.start() || b.end() != EOF && b.end() + 1 == a.start();
                    assertTrue(!touch || a.type() != b.type(), () -> "unmerged neighbours: " + a + " and " + b);
                }
            }
        }
    }

    private static void assertFlocksConsistent(Map<Long, Integer> holders) {
        long exclusive = holders.values().stream().filter(t -> t == F_WRLCK).count();
        assertTrue(exclusive == 0 || holders.size() == 1, () -> "flock holders conflict: " + holders);
    }

    @Test
    @Timeout(60)
    void singleThreadedRequestsMatchAByteModel() {
        int cells = 41;
        Random rnd = new Random(20240601L);
        FileLocks locks = new FileLocks();
        Model model = new Model(cells);
        long ino = 9;
        int granted = 0;
        int refused = 0;
        for (int step = 0; step < 20_000; step++) {
            long owner = 1 + rnd.nextInt(4);
            int op = rnd.nextInt(20);
            if (op == 0) {
                locks.releaseOwner(ino, owner);
                Arrays.fill(model.of(owner), NONE);
            } else if (op < 5) {
                Lock wanted = randomLock(rnd, cells, owner, false);
                Lock seen = locks.test(ino, wanted);
                if (model.conflicts(wanted)) {
                    assertTrue(seen != null && seen.conflictsWith(wanted), "step " + step + ": F_GETLK missed a conflict with " + wanted);
                    assertTrue(locks.posixLocks(ino).contains(seen), "step " + step + ": reported lock is not held: " + seen);
                } else {
                    assertNull(seen, "step " + step + ": F_GETLK invented a conflict with " + wanted);
                }
            } else {
                Lock l = randomLock(rnd, cells, owner, true);
                boolean conflict = l.type() != F_UNLCK && model.conflicts(l);
                try {
                    locks.lock(ino, l);
                    assertTrue(!conflict, "step " + step + ": granted despite a conflict: " + l);
                    model.apply(l);
                    granted++;
                } catch (FsException e) {
                    assertEquals(Kind.WOULD_BLOCK, e.kind());
                    assertTrue(conflict, "step " + step + ": refused without a conflict: " + l);
                    refused++;
                }
            }
            List<Lock> all = locks.posixLocks(ino);
            for (long o = 1; o <= 4; o++) {
                assertEquals(model.locks(o), ownedBy(all, o), "step " + step + ": locks of owner " + o);
            }
        }
        assertTrue(granted > 1000 && refused > 1000, "workload too one-sided: " + granted + " granted, " + refused + " refused");
        for (long o = 1; o <= 4; o++) {
            locks.releaseOwner(ino, o);
        }
        assertEquals(0, locks.lockedInodes());
    }

    @Test
    @Timeout(120)
    void concurrentOwnersNeverHoldConflictingLocksAndEveryWaitEnds() throws Exception {
        int cells = 25;
        int owners = 6;
        long[] inodes = {100, 200, 300};
        int steps = 1500;
        FileLocks locks = new FileLocks();
        AtomicInteger grantedAfterWaiting = new AtomicInteger();
        AtomicInteger cancelled = new AtomicInteger();
        AtomicInteger deadlocks = new AtomicInteger();
        AtomicInteger wouldBlock = new AtomicInteger();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        AtomicBoolean running = new AtomicBoolean(true);

        Thread checker = Thread.ofPlatform().start(() -> {
            try {
                while (running.get()) {
                    for (long ino : inodes) {
                        assertConsistent(locks.posixLocks(ino));
                        assertFlocksConsistent(locks.flocks(ino));
                    }
                }
            } catch (Throwable t) {
                failures.add(t);
            }
        });

        List<Thread> workers = new ArrayList<>();
        for (int w = 0; w < owners; w++) {
            long owner = 10 + w;
            Random rnd = new Random(777L * 31 + w);
            workers.add(Thread.ofPlatform().start(() -> {
                // Only this thread acts for this owner, so the owner's own locks are fully predictable.
                Map<Long, Model> mine = new HashMap<>();
                for (long ino : inodes) {
                    mine.put(ino, new Model(cells));
                }
                try {
                    for (int step = 0; step < steps; step++) {
                        long ino = inodes[rnd.nextInt(inodes.length)];
                        Model model = mine.get(ino);
                        int op = rnd.nextInt(100);
                        if (op < 35) {
                            Lock l = randomLock(rnd, cells, owner, true);
                            try {
                                locks.lock(ino, l);
                                model.apply(l);
                            } catch (FsException e) {
                                assertEquals(Kind.WOULD_BLOCK, e.kind());
                                wouldBlock.incrementAndGet();
                            }
                        } else if (op < 75) {
                            Lock l = randomLock(rnd, cells, owner, false);
                            if (settle(locks.lockWait(ino, l), rnd, grantedAfterWaiting, cancelled, deadlocks)) {
                                model.apply(l);
                            }
                        } else if (op < 85) {
                            locks.lock(ino, new Lock(0, EOF, F_UNLCK, owner, 0));
                            Arrays.fill(model.of(owner), NONE);
                        } else if (op < 88) {
                            locks.releaseOwner(ino, owner);
                            Arrays.fill(model.of(owner), NONE);
                        } else if (op < 92) {
                            Lock seen = locks.test(ino, randomLock(rnd, cells, owner, false));
                            assertTrue(seen == null || seen.owner() != owner, "F_GETLK reported the asker's own lock");
                        } else if (op < 96) {
                            try {
                                locks.flock(ino, owner, rnd.nextInt(3));
                            } catch (FsException e) {
                                assertEquals(Kind.WOULD_BLOCK, e.kind());
                            }
                        } else {
                            settle(locks.flockWait(ino, owner, rnd.nextInt(2)), rnd, grantedAfterWaiting, cancelled, new AtomicInteger());
                        }
                        List<Lock> snapshot = locks.posixLocks(ino);
                        assertConsistent(snapshot);
                        assertEquals(model.locks(owner), ownedBy(snapshot, owner), "owner " + owner + " step " + step);
                    }
                } catch (Throwable t) {
                    failures.add(t);
                }
            }));
        }
        for (Thread t : workers) {
            t.join();
        }
        running.set(false);
        checker.join();
        if (!failures.isEmpty()) {
            Throwable first = failures.peek();
            failures.stream().skip(1).forEach(first::addSuppressed);
            fail(first);
        }
        assertEquals(0, locks.blockedPosixRequests(), "every wait ended, so no request is left in the graph");
        assertTrue(grantedAfterWaiting.get() > 0, "no wait was ever granted after blocking");
        assertTrue(cancelled.get() > 0, "no wait was ever cancelled");
        assertTrue(deadlocks.get() > 0, "no deadlock was ever detected");
        assertTrue(wouldBlock.get() > 0, "no F_SETLK ever conflicted");
        for (long ino : inodes) {
            for (int w = 0; w < owners; w++) {
                locks.releaseOwner(ino, 10 + w);
                locks.releaseFlock(ino, 10 + w);
            }
        }
        assertEquals(0, locks.lockedInodes());
    }

    /**
     * Waits a little for {@code f}, cancels it if still pending, and returns whether the lock was
     * granted. A wait must end granted, cancelled or refused for deadlock, and nothing else.
     */
    private static boolean settle(CompletableFuture<Void> f, Random rnd, AtomicInteger grantedAfterWaiting,
            AtomicInteger cancelled, AtomicInteger deadlocks) throws InterruptedException {
        boolean wasDone = f.isDone();
        try {
            f.get(rnd.nextInt(4), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            if (f.cancel(true)) {
                cancelled.incrementAndGet();
                return false;
            }
            // Granted or refused between the timeout and the cancel: the future says which.
        } catch (ExecutionException e) {
            // Examined below.
        }
        try {
            f.get(0, TimeUnit.MILLISECONDS);
            if (!wasDone) {
                grantedAfterWaiting.incrementAndGet();
            }
            return true;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof FsException fe && fe.kind() == Kind.DEADLOCK) {
                deadlocks.incrementAndGet();
                return false;
            }
            throw new AssertionError("a wait ended with " + e.getCause(), e.getCause());
        } catch (CancellationException | TimeoutException e) {
            throw new AssertionError("a wait that could not be cancelled is still not settled", e);
        }
    }

    @Test
    @Timeout(30)
    void aCancelRacingAGrantEitherWithdrawsOrReportsTheGrant() throws Exception {
        FileLocks locks = new FileLocks();
        long ino = 5;
        for (int i = 0; i < 2000; i++) {
            locks.lock(ino, new Lock(0, 0, F_WRLCK, 1, 1));
            CompletableFuture<Void> f = locks.lockWait(ino, new Lock(0, 0, F_WRLCK, 2, 2));
            Thread releaser = Thread.ofPlatform().start(() -> locks.releaseOwner(ino, 1));
            boolean cancelledIt = f.cancel(true);
            assertTrue(f.isDone(), "once cancel returns, the future tells the outcome");
            releaser.join();
            List<Lock> held = locks.posixLocks(ino);
            if (cancelledIt) {
                assertTrue(f.isCancelled());
                assertEquals(List.of(), held, "a cancelled wait must not hold the lock");
            } else {
                assertNull(f.getNow(null));
                assertEquals(List.of(new Lock(0, 0, F_WRLCK, 2, 2)), held);
            }
            locks.releaseOwner(ino, 2);
            assertEquals(0, locks.lockedInodes());
        }
    }
}
