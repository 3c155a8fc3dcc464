package io.concord.fs;

import io.concord.errors.FsException;
import io.concord.errors.FsException.Kind;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * This node's engine for advisory file locks: POSIX byte-range locks (fcntl F_GETLK, F_SETLK,
 * F_SETLKW) and flock(2) locks, with Linux's semantics. The FUSE layer calls it with the kernel's
 * lock owner ids; it knows nothing of files or processes beyond an inode number and an owner.
 *
 * <h2>Semantics</h2>
 * <ol>
 * <li>POSIX locks: a read lock conflicts only with another owner's overlapping write lock, a write
 *     lock with any other owner's overlapping lock. An owner's own locks never conflict with it: a
 *     new lock replaces them in its range (splitting them), same-type locks that touch or overlap
 *     merge, F_UNLCK cuts them away. A request either applies completely or not at all.
 * <li>flock locks are a separate namespace: one lock per owner per inode, shared (F_RDLCK) or
 *     exclusive (F_WRLCK). Conversion is not atomic, exactly as Linux's {@code flock_lock_inode}:
 *     the owner's old lock is dropped first (waking waiters), then the new mode is tried; if that
 *     fails with WOULD_BLOCK, or the wait is cancelled, the owner holds no flock at all. This is what
 *     lets two shared holders that both upgrade make progress instead of deadlocking.
 * <li>Waiting requests (F_SETLKW, blocking flock) do not hold back new requests: a request that fits
 *     the held locks is granted even if others wait (Linux does the same; fairness is not POSIX's).
 *     Whenever an inode's locks of one namespace change, its waiters of that namespace are retried in
 *     arrival order, each granted if it now fits, and the pass is repeated while grants happen
 *     (a grant can downgrade or cut its owner's other locks and so unblock an earlier waiter).
 * <li>Deadlock detection (POSIX only, as on Linux): {@link FileLockGraph} keeps the wait-for graph
 *     between owners across all inodes. A request that would wait, or a waiter that after a retry
 *     still waits but for a different set of owners, is refused with DEADLOCK if its waiting would
 *     close a cycle. flock waits are not checked (Linux does not either).
 * <li>Closing a file: {@link #releaseOwner} drops the owner's POSIX locks on the inode. It does not
 *     withdraw that owner's pending waits; a wait granted after the close is the kernel's to undo.
 * </ol>
 *
 * <h2>Waits</h2>
 * {@link #lockWait} and {@link #flockWait} return a future that completes normally once the lock is
 * held, or exceptionally with DEADLOCK. {@code cancel(…)} on it withdraws the wait (the FUSE layer's
 * INTERRUPT) and returns true, or returns false if the lock was granted or refused first — then the
 * future is already complete and says which. Completing the future from outside ({@code complete},
 * {@code completeExceptionally}, {@code orTimeout}, {@code completeOnTimeout}) withdraws the wait the
 * same way. A withdrawn wait leaves no trace: the locks are as if it had never been asked for. Futures are
 * completed outside every lock of this class, on the thread whose action granted them, so dependent
 * stages may call back into it.
 *
 * <h2>Concurrency</h2>
 * Each inode's state ({@link FileLockInode}) is guarded by its own monitor; the table holds only
 * inodes with locks or waiters. An inode that becomes empty is marked retired and removed under its
 * monitor, and a thread that finds a retired inode looks it up again, so nothing is ever added to
 * an inode that has left the table.
 *
 * <p>The wait-for graph spans inodes and is guarded by {@code graphLock}. Lock order: an inode's
 * monitor, then {@code graphLock}; never two inode monitors at once. The edges of a waiter on inode
 * J name the holders of J's locks, so a cycle check is only sound if no inode is caught between
 * changing its locks and updating its waiters' edges. Hence every change to an inode that has POSIX
 * waiters, together with the retry of those waiters, runs under {@code graphLock}, as does every
 * check-and-enqueue of a new waiter. Changes to an inode with no POSIX waiters touch no edge and
 * take only the inode's monitor, so uncontended locking on different inodes runs in parallel.
 *
 * <p>A later step backs this with DLM locks to make it cluster-wide; the per-inode state and this
 * small API are the seam for that.
 */
public final class FileLocks {
    public static final int F_RDLCK = 0;
    public static final int F_WRLCK = 1;
    public static final int F_UNLCK = 2;

    /**
     * A POSIX lock or lock request: bytes {@code start..end} inclusive ({@code end ==
     * Long.MAX_VALUE} means to the end of any file), {@code type} one of F_RDLCK, F_WRLCK, F_UNLCK,
     * {@code owner} the FUSE lock owner, {@code pid} only reported back by F_GETLK.
     *
     * @throws FsException INVALID_ARGUMENT for an unknown type, a negative start or start > end
     */
    public record Lock(long start, long end, int type, long owner, int pid) {
        public Lock {
            if (type < F_RDLCK || type > F_UNLCK) {
                throw new FsException(Kind.INVALID_ARGUMENT, "lock type " + type + " is not F_RDLCK, F_WRLCK or F_UNLCK");
            }
            if (start < 0 || start > end) {
                throw new FsException(Kind.INVALID_ARGUMENT, "lock range [" + start + ", " + end + "] is empty or negative");
            }
        }

        boolean overlaps(Lock other) {
            return start <= other.end && other.start <= end;
        }

        /** Whether this held lock stops {@code wanted}: another owner, overlapping, and not read/read. */
        boolean conflictsWith(Lock wanted) {
            return owner != wanted.owner && overlaps(wanted) && (type == F_WRLCK || wanted.type == F_WRLCK);
        }

        Lock withRange(long newStart, long newEnd) {
            return new Lock(newStart, newEnd, type, owner, pid);
        }

        @Override
        public String toString() {
            String t = switch (type) {
                case F_RDLCK -> "read";
                case F_WRLCK -> "write";
                default -> "unlock";
            };
            return t + " [" + start + ", " + (end == Long.MAX_VALUE ? "EOF" : end) + "] of owner " + owner + " (pid " + pid + ")";
        }
    }

    private final ConcurrentHashMap<Long, FileLockInode> table = new ConcurrentHashMap<>();
    private final ReentrantLock graphLock = new ReentrantLock();
    /** Guarded by graphLock. */
    private final FileLockGraph graph = new FileLockGraph();

    // ---- POSIX byte-range locks ----

    /** F_GETLK: a lock of another owner that stops {@code wanted} (the lowest-starting one), or null. */
    public Lock test(long ino, Lock wanted) {
        if (wanted.type() == F_UNLCK) {
            throw new FsException(Kind.INVALID_ARGUMENT, "F_GETLK needs F_RDLCK or F_WRLCK");
        }
        return onInode(ino, false, null, node -> node.firstConflict(wanted));
    }

    /** F_SETLK: applies {@code l} (F_UNLCK included) or throws WOULD_BLOCK, changing nothing. */
    public void lock(long ino, Lock l) {
        Wakeups wakeups = new Wakeups();
        try {
            onInode(ino, l.type() != F_UNLCK, null, node -> {
                Lock conflict = l.type() == F_UNLCK ? null : node.firstConflict(l);
                if (conflict != null) {
                    throw new FsException(Kind.WOULD_BLOCK, "inode " + ino + ": " + l + " conflicts with " + conflict);
                }
                changePosix(node, () -> node.apply(l), wakeups);
                return null;
            });
        } finally {
            wakeups.fire();
        }
    }

    /**
     * F_SETLKW: a future that completes once {@code l} is applied, or exceptionally with DEADLOCK.
     * See the class comment for cancelling it.
     */
    public CompletableFuture<Void> lockWait(long ino, Lock l) {
        if (l.type() == F_UNLCK) {
            lock(ino, l);
            return CompletableFuture.completedFuture(null);
        }
        Wakeups wakeups = new Wakeups();
        try {
            return onInode(ino, true, null, node -> {
                if (node.firstConflict(l) == null) {
                    changePosix(node, () -> node.apply(l), wakeups);
                    return CompletableFuture.completedFuture(null);
                }
                graphLock.lock();
                try {
                    Waiter w = new Waiter(node, l.owner(), l.type(), l);
                    if (!graph.waitFor(w, l.owner(), node.blockers(l))) {
                        return CompletableFuture.failedFuture(deadlock(ino, l));
                    }
                    node.posixWaiters.add(w);
                    return w;
                } finally {
                    graphLock.unlock();
                }
            });
        } finally {
            wakeups.fire();
        }
    }

    /** Drops every POSIX lock {@code owner} holds on the inode (close of any of its descriptors). */
    public void releaseOwner(long ino, long owner) {
        Wakeups wakeups = new Wakeups();
        try {
            onInode(ino, false, null, node -> {
                changePosix(node, () -> node.dropPosix(owner), wakeups);
                return null;
            });
        } finally {
            wakeups.fire();
        }
    }

    // ---- flock ----

    /** flock(2) with LOCK_NB: F_RDLCK shared, F_WRLCK exclusive, F_UNLCK unlock; WOULD_BLOCK on conflict. */
    public void flock(long ino, long owner, int type) {
        checkFlockType(type);
        Wakeups wakeups = new Wakeups();
        try {
            onInode(ino, type != F_UNLCK, null, node -> {
                if (!tryFlock(node, owner, type, wakeups)) {
                    throw new FsException(Kind.WOULD_BLOCK, "inode " + ino + ": flock " + type + " of owner " + owner + " conflicts");
                }
                return null;
            });
        } finally {
            wakeups.fire();
        }
    }

    /** Blocking flock: a future that completes once the lock is held. Never refused for deadlock. */
    public CompletableFuture<Void> flockWait(long ino, long owner, int type) {
        checkFlockType(type);
        Wakeups wakeups = new Wakeups();
        try {
            return onInode(ino, type != F_UNLCK, CompletableFuture.completedFuture(null), node -> {
                if (tryFlock(node, owner, type, wakeups)) {
                    return CompletableFuture.completedFuture(null);
                }
                Waiter w = new Waiter(node, owner, type, null);
                node.flockWaiters.add(w);
                return w;
            });
        } finally {
            wakeups.fire();
        }
    }

    /** Drops the owner's flock on the inode. */
    public void releaseFlock(long ino, long owner) {
        Wakeups wakeups = new Wakeups();
        try {
            onInode(ino, false, null, node -> {
                if (node.dropFlock(owner)) {
                    retryFlock(node, wakeups);
                }
                return null;
            });
        } finally {
            wakeups.fire();
        }
    }

    // ---- diagnostics ----

    /** The number of inodes with any lock or waiter. */
    public int lockedInodes() {
        return table.size();
    }

    /** The inode's POSIX locks, sorted by start then owner; for tests. */
    List<Lock> posixLocks(long ino) {
        return onInode(ino, false, List.of(), FileLockInode::posixLocks);
    }

    /** The inode's flock holders, owner to type; for tests. */
    Map<Long, Integer> flocks(long ino) {
        return onInode(ino, false, Map.of(), FileLockInode::flocks);
    }

    /** The number of POSIX requests in the wait-for graph; for tests. */
    int blockedPosixRequests() {
        graphLock.lock();
        try {
            return graph.size();
        } finally {
            graphLock.unlock();
        }
    }

    // ---- engine ----

    /**
     * Runs {@code action} under the inode's monitor, creating the inode if {@code create}, else
     * answering {@code absent} for an inode without state; retires the inode if it is left empty.
     */
    private <T> T onInode(long ino, boolean create, T absent, Function<FileLockInode, T> action) {
        while (true) {
            FileLockInode node = create ? table.computeIfAbsent(ino, FileLockInode::new) : table.get(ino);
            if (node == null) {
                return absent;
            }
            synchronized (node) {
                if (node.retired) {
                    continue;
                }
                try {
                    return action.apply(node);
                } finally {
                    retireIfEmpty(node);
                }
            }
        }
    }

    /** Caller holds the inode's monitor. */
    private void retireIfEmpty(FileLockInode node) {
        if (node.isEmpty()) {
            node.retired = true;
            table.remove(node.ino, node);
        }
    }

    /** Runs a change to the inode's POSIX locks, then retries its waiters. Caller holds the monitor. */
    private void changePosix(FileLockInode node, Runnable change, Wakeups wakeups) {
        if (node.posixWaiters.isEmpty()) {
            change.run();
            return;
        }
        graphLock.lock();
        try {
            change.run();
            retryPosix(node, wakeups);
        } finally {
            graphLock.unlock();
        }
    }

    /** Caller holds the inode's monitor and graphLock. */
    private void retryPosix(FileLockInode node, Wakeups wakeups) {
        boolean granted = true;
        while (granted) {
            granted = false;
            for (Iterator<Waiter> it = node.posixWaiters.iterator(); it.hasNext(); ) {
                Waiter w = it.next();
                if (node.firstConflict(w.range) == null) {
                    it.remove();
                    graph.remove(w, w.owner);
                    node.apply(w.range);
                    wakeups.grant(w);
                    granted = true;
                } else if (!graph.waitFor(w, w.owner, node.blockers(w.range))) {
                    it.remove();
                    wakeups.refuse(w, deadlock(node.ino, w.range));
                }
            }
        }
    }

    /**
     * Gives {@code owner} the flock {@code type}, Linux-style: a held lock of another type is dropped
     * first, whether or not the new one can then be had. Returns false, holding nothing, on conflict.
     * Caller holds the inode's monitor.
     */
    private boolean tryFlock(FileLockInode node, long owner, int type, Wakeups wakeups) {
        Integer held = node.flockOf(owner);
        if (held != null && held == type) {
            return true;
        }
        boolean dropped = held != null && node.dropFlock(owner);
        boolean granted = type == F_UNLCK || !node.flockConflicts(owner, type);
        if (granted && type != F_UNLCK) {
            node.setFlock(owner, type);
        }
        if (dropped) {
            retryFlock(node, wakeups);
        }
        return granted;
    }

    /** Caller holds the inode's monitor. */
    private void retryFlock(FileLockInode node, Wakeups wakeups) {
        boolean granted = true;
        while (granted) {
            granted = false;
            for (Iterator<Waiter> it = node.flockWaiters.iterator(); it.hasNext(); ) {
                Waiter w = it.next();
                if (!node.flockConflicts(w.owner, w.type)) {
                    it.remove();
                    node.setFlock(w.owner, w.type);
                    wakeups.grant(w);
                    granted = true;
                }
            }
        }
    }

    private static void checkFlockType(int type) {
        if (type < F_RDLCK || type > F_UNLCK) {
            throw new FsException(Kind.INVALID_ARGUMENT, "flock type " + type + " is not F_RDLCK, F_WRLCK or F_UNLCK");
        }
    }

    private static FsException deadlock(long ino, Lock l) {
        return new FsException(Kind.DEADLOCK, "inode " + ino + ": waiting for " + l + " would deadlock");
    }

    /**
     * A blocked request, and the future its caller waits on. It stops waiting exactly once, under
     * its inode's monitor: granted or refused by the engine, or withdrawn by its caller; the future
     * is completed afterwards, outside every lock.
     */
    final class Waiter extends CompletableFuture<Void> {
        private final FileLockInode node;
        final long owner;
        final int type;
        /** The POSIX request; null for a flock request. */
        final Lock range;
        /** Guarded by node's monitor. */
        private boolean waiting = true;
        /** Why the engine refused the request; guarded by node's monitor, meaningful once not waiting. */
        private FsException refusal;

        private Waiter(FileLockInode node, long owner, int type, Lock range) {
            this.node = node;
            this.owner = owner;
            this.type = type;
            this.range = range;
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            return withdraw() ? super.cancel(mayInterruptIfRunning) : isCancelled();
        }

        @Override
        public boolean completeExceptionally(Throwable ex) {
            return withdraw() && super.completeExceptionally(ex);
        }

        @Override
        public boolean complete(Void value) {
            return withdraw() && super.complete(value);
        }

        /** Completes the future for the engine's decision, made earlier under the monitor. Idempotent. */
        private void finish(FsException refused) {
            if (refused == null) {
                super.complete(null);
            } else {
                super.completeExceptionally(refused);
            }
        }

        /**
         * Takes the request out of its queue and the graph. If the engine decided first, returns false
         * after completing the future with that decision itself, so that a caller whose cancel failed
         * finds the future already done rather than racing the deciding thread's completion.
         */
        private boolean withdraw() {
            FsException decided;
            synchronized (node) {
                if (waiting) {
                    waiting = false;
                    if (range == null) {
                        node.flockWaiters.remove(this);
                    } else {
                        graphLock.lock();
                        try {
                            node.posixWaiters.remove(this);
                            graph.remove(this, owner);
                        } finally {
                            graphLock.unlock();
                        }
                    }
                    retireIfEmpty(node);
                    return true;
                }
                decided = refusal;
            }
            finish(decided);
            return false;
        }
    }

    /** Outcomes decided under an inode's monitor, delivered to the futures after leaving it. */
    private static final class Wakeups {
        private record Decision(Waiter waiter, FsException refusal) {}

        private final List<Decision> decided = new ArrayList<>();

        /** Caller holds w's inode monitor and has taken w out of its queue and the graph. */
        void grant(Waiter w) {
            w.waiting = false;
            decided.add(new Decision(w, null));
        }

        void refuse(Waiter w, FsException reason) {
            w.waiting = false;
            w.refusal = reason;
            decided.add(new Decision(w, reason));
        }

        void fire() {
            for (Decision d : decided) {
                d.waiter.finish(d.refusal);
            }
        }
    }
}
