package io.concord.fs;

import io.concord.device.BlockDevice;
import io.concord.errors.CorruptBlockException;
import io.concord.errors.DeviceException;
import io.concord.errors.FsException;
import io.concord.errors.FsException.Kind;
import io.concord.errors.WithdrawnException;
import io.concord.journal.Journal;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;

/**
 * Runs the filesystem's operations: takes their glocks in the lock order, then the node's
 * filesystem lock; runs them all-or-nothing; commits; withdraws the node when the device fails it.
 *
 * <h2>Lock order</h2>
 * Every operation takes its locks in this order, and never waits for one while holding a later one:
 * <ol>
 *   <li>iopen glocks held for open files (taken at open, outside any operation);
 *   <li>the rename glock (renames between directories), EX;
 *   <li>inode glocks in ascending inode number — directories, victims, new children alike: PR to
 *       look, EX to change;
 *   <li>iopen glocks inside an operation: only by try-lock (an unlink asking whether another node
 *       has the file open), which never waits;
 *   <li>resource group glocks, ascending: by try-lock while searching for space (a group another
 *       node holds is skipped); waited for only when every group with space was skipped, or to
 *       free blocks in a given group;
 *   <li>the filesystem lock (node-local; shared to look, exclusive to change and to commit).
 * </ol>
 * The journal glock of this node's slot is held for the whole mount.
 *
 * <h2>Nothing waits for the lock manager under the filesystem lock</h2>
 * A demote's sync needs the filesystem lock exclusively, and a blocking callback may arrive for a
 * lock a local operation is about to wait for; so an operation holding the filesystem lock takes
 * further glocks only from this node's cache ({@link OperationLocks#need}). What an operation
 * finds it needs as it runs — the inode a name points at, the victim of an unlink or rename, the
 * new inode's block, a parent on the rename loop check, a resource group — ends the attempt when
 * it is not cached: the attempt is rolled back ({@link MetadataStore#rollbackOperation}), the
 * filesystem lock and every hold are released, and the next attempt takes the whole set, grown by
 * the new lock, in lock order, waiting as needed; then it runs again from the start. The set only
 * grows, so an operation settles within a few attempts; after {@value #MAX_ATTEMPTS} it fails with
 * EIO. With the single-node lock manager nothing ever waits, and operations take what they need at
 * once (a single attempt).
 *
 * <h2>Withdraw</h2>
 * A corrupt metadata block or a failed device I/O stops this node from writing to the shared
 * device (GFS2's withdraw): the operation that met it fails naming the block, every later one
 * fails with {@link WithdrawnException}, and the glock engine is frozen: no lock is given up again,
 * because this node's journal may hold changes that a survivor must replay first.
 *
 * <h2>Membership in doubt</h2>
 * While the lock manager's ZooKeeper session is suspended this node may have been expelled
 * without knowing it: operations fail with EIO and nothing is committed until it is confirmed.
 */
final class OperationRunner {
    private static final System.Logger LOG = System.getLogger(OperationRunner.class.getName());
    static final int MAX_ATTEMPTS = 64;

    private final ReentrantReadWriteLock fsLock = new ReentrantReadWriteLock();
    private final BlockDevice device;
    private final MetadataStore store;
    private final Journal journal;
    private final boolean clustered;
    private final RgrpSkips skips;
    private Glocks glocks;
    private Allocator allocator;
    private volatile String withdrawnBecause;
    private volatile boolean inDoubt;
    private volatile boolean closed;

    OperationRunner(BlockDevice device, MetadataStore store, Journal journal, boolean clustered, RgrpSkips skips) {
        this.device = device;
        this.store = store;
        this.journal = journal;
        this.clustered = clustered;
        this.skips = skips;
    }

    /** Completes the runner once the engine and the allocator exist (they need the runner first). */
    void attach(Glocks glocks, Allocator allocator) {
        this.glocks = glocks;
        this.allocator = allocator;
    }

    boolean clustered() {
        return clustered;
    }

    /** A fresh lock set for one operation. */
    OperationLocks locks() {
        return new OperationLocks(glocks, !clustered, skips);
    }

    /** An operation that looks: {@code ino}'s glock PR plus what the body asks for. */
    <T> T inspect(long ino, Function<OperationLocks, T> body) {
        return inspect(locks().want(GlockType.INODE, ino, io.concord.dlm.LockMode.PR), body);
    }

    <T> T inspect(OperationLocks locks, Function<OperationLocks, T> body) {
        for (int attempt = 1; ; attempt++) {
            try {
                locks.acquireAll();
                fsLock.readLock().lock();
                try {
                    ensureUsable();
                    return body.apply(locks);
                } catch (DeviceException | CorruptBlockException e) {
                    throw withdraw(e);
                } finally {
                    fsLock.readLock().unlock();
                }
            } catch (NeedLock n) {
                giveUpAfter(attempt, n);
            } finally {
                locks.releaseAll();
            }
        }
    }

    /** An operation that changes: the glocks of {@code locks}, then the filesystem lock exclusively. */
    <T> T mutate(OperationLocks locks, Function<OperationLocks, T> body) {
        for (int attempt = 1; ; attempt++) {
            try {
                locks.acquireAll();
                fsLock.writeLock().lock();
                try {
                    ensureUsable();
                    T result;
                    try {
                        result = attempt(body, locks);
                    } catch (CommitAndRetry retry) {
                        // Space this transaction freed is needed: commit the whole operations
                        // before this one, then run it again from the start.
                        commitNow();
                        try {
                            result = attempt(body, locks);
                        } catch (CommitAndRetry again) {
                            // The operation needs the very space it frees itself: there is not enough.
                            throw new FsException(Kind.NO_SPACE, "no space left on the filesystem");
                        }
                    }
                    commitIfLarge();
                    return result;
                } finally {
                    fsLock.writeLock().unlock();
                }
            } catch (NeedLock n) {
                giveUpAfter(attempt, n);
            } finally {
                locks.releaseAll();
            }
        }
    }

    private static void giveUpAfter(int attempt, NeedLock n) {
        if (attempt >= MAX_ATTEMPTS) {
            throw new FsException(Kind.IO_ERROR, "an operation did not settle its locks in " + MAX_ATTEMPTS + " attempts (last: "
                    + n.getMessage() + ")");
        }
    }

    /** Runs one attempt all-or-nothing: on any failure the running transaction is put back. */
    private <T> T attempt(Function<OperationLocks, T> body, OperationLocks locks) {
        store.beginOperation();
        allocator.bind(locks);
        try {
            T result = body.apply(locks);
            store.endOperation();
            return result;
        } catch (DeviceException | CorruptBlockException e) {
            store.rollbackOperation();
            allocator.rolledBack();
            throw withdraw(e);
        } catch (RuntimeException e) {
            store.rollbackOperation();
            allocator.rolledBack();
            throw e;
        } finally {
            allocator.bind(RgrpAccess.NONE);
        }
    }

    /**
     * Runs {@code body} under the exclusive filesystem lock outside any operation's glocks (mount
     * and unmount work that takes its own).
     */
    void exclusive(Runnable body) {
        fsLock.writeLock().lock();
        try {
            body.run();
        } finally {
            fsLock.writeLock().unlock();
        }
    }

    /** Commits when the running transaction has used half of what one transaction may hold. */
    void commitIfLarge() {
        if (store.runningLogBlocks() > store.maxTransactionBlocks() / 2) {
            commitNow();
        }
    }

    void commitNow() {
        try {
            store.commit();
        } catch (DeviceException | CorruptBlockException e) {
            throw withdraw(e);
        }
    }

    /** fsync and sync(2): commits the running transaction and flushes the device. */
    void sync() {
        fsLock.writeLock().lock();
        try {
            ensureUsable();
            try {
                if (store.commit() == 0) {
                    device.flush();
                }
            } catch (DeviceException | CorruptBlockException e) {
                throw withdraw(e);
            }
        } finally {
            fsLock.writeLock().unlock();
        }
    }

    /**
     * A glock leaves this node from EX: commit, and write everything the journal holds in place,
     * so the next holder reads the device and finds the latest state. Throws if the node has
     * withdrawn or the device failed (the lock must then be kept).
     */
    void writeBackForDemote() {
        if (journal == null) {
            return;
        }
        // Membership in doubt: wait (off the filesystem lock) until it is confirmed or lost,
        // rather than write to a device that may already belong to a recovery.
        while (inDoubt && withdrawnBecause == null && !closed) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new FsException(Kind.IO_ERROR, "interrupted while membership was in doubt");
            }
        }
        fsLock.writeLock().lock();
        try {
            if (closed) {
                return; // unmount wrote everything back
            }
            String why = withdrawnBecause;
            if (why != null) {
                throw new WithdrawnException(why);
            }
            try {
                store.commit();
                if (journal.hasUnwrittenImages()) {
                    journal.checkpoint();
                }
            } catch (DeviceException | CorruptBlockException e) {
                throw withdraw(e);
            }
        } finally {
            fsLock.writeLock().unlock();
        }
    }

    /** The commit interval's work. */
    void periodicCommit() {
        fsLock.writeLock().lock();
        try {
            if (!closed && withdrawnBecause == null && !inDoubt && store.hasUncommitted()) {
                store.commit();
            }
        } catch (RuntimeException e) {
            withdraw(e);
        } finally {
            fsLock.writeLock().unlock();
        }
    }

    /** Unmount: commits and writes back under the exclusive lock; no operation runs after. */
    void close(Runnable finalWriteBack) {
        fsLock.writeLock().lock();
        try {
            closed = true;
            if (withdrawnBecause == null && journal != null) {
                try {
                    finalWriteBack.run();
                } catch (DeviceException | CorruptBlockException e) {
                    withdraw(e);
                }
            }
        } finally {
            fsLock.writeLock().unlock();
        }
    }

    void ensureUsable() {
        if (closed) {
            throw new FsException(Kind.IO_ERROR, "filesystem is unmounted");
        }
        String why = withdrawnBecause;
        if (why != null) {
            throw new WithdrawnException(why);
        }
        if (inDoubt) {
            throw new FsException(Kind.IO_ERROR, "cluster membership in doubt: waiting for ZooKeeper");
        }
    }

    boolean withdrawn() {
        return withdrawnBecause != null;
    }

    void inDoubt(boolean doubt) {
        inDoubt = doubt;
    }

    /** Stops all writes from this node; returns the exception to throw to the operation's caller. */
    RuntimeException withdraw(RuntimeException cause) {
        if (withdrawnBecause == null) {
            withdrawnBecause = cause.getMessage() == null ? cause.toString() : cause.getMessage();
            LOG.log(System.Logger.Level.ERROR, "withdrawing from " + device.name() + ": " + withdrawnBecause
                    + " — no further writes from this node, and its locks are kept for recovery; unmount and run fsck.concord");
            if (glocks != null) {
                glocks.freeze(withdrawnBecause);
            }
        }
        return cause;
    }
}
