package io.concord.fs;

import io.concord.dlm.ConversionDeadlockException;
import io.concord.dlm.Lock;
import io.concord.dlm.LockException;
import io.concord.dlm.LockFlag;
import io.concord.dlm.LockMode;
import io.concord.dlm.ResourceName;
import io.concord.dlm.WouldBlockException;
import io.concord.errors.FsException;
import io.concord.errors.WithdrawnException;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One cluster lock as this node holds it: the mode granted by the lock manager, the local
 * operations using it, and whether another node wants it. The state machine of {@link Glocks}.
 *
 * <p>State, guarded by this object's monitor, which is never held across a lock manager call,
 * a {@link GlockOps} call or a wait for I/O:
 * <ul>
 *   <li>{@code granted}: the mode held from the lock manager, null when none;
 *   <li>{@code holders}: local uses in progress (a holder's mode is always covered by {@code granted});
 *   <li>{@code changing}: a request, refresh or demote is under way; no new holder meanwhile;
 *   <li>{@code wanted}: the mode another node waits for (from a blocking callback), until demoted;
 *   <li>{@code demoteAt}: until when new local holders are still admitted although {@code wanted} is set;
 *   <li>{@code stuck}: the node withdrew: the lock is never given up, and nobody uses it.
 * </ul>
 *
 * <p>Demotion (GFS2's, with its adaptive minimum hold time):
 * <ol>
 *   <li>The blocking callback (a lock manager thread; it never blocks) records {@code wanted}. An
 *       idle lock is handed to the demote thread at once. A lock in use "bounced while in use":
 *       its hold time grows by a step (up to the maximum) and local holders are still admitted
 *       until {@code grantedAt + hold}, so each node gets work done on each visit. A callback that
 *       finds the lock idle shrinks the hold time again.
 *   <li>The demote waits until no holder is left and the window has passed, and the type allows it
 *       ({@link GlockOps#mayDemote}). It then has the kernel write back and drop its caches
 *       ({@link GlockOps#flushKernel}) with holders still admitted ({@code flushing}: the kernel's
 *       write-back of dirty mapped pages comes as requests that need this lock). If holders came
 *       in meanwhile, that step is repeated (at most {@value #FLUSH_ROUNDS} times). Then the glock
 *       is marked {@code changing}.
 *   <li>From EX or PW: {@link GlockOps#sync} and the value block to publish. If sync fails the node
 *       has withdrawn: the glock becomes stuck, still granted, and the lock manager keeps it for
 *       the recovery that replays this node's journal.
 *   <li>If the lock is given up rather than converted to PR: {@link GlockOps#invalidate}.
 *   <li>Convert down or unlock, then clear {@code changing} and {@code wanted}.
 * </ol>
 *
 * <p>A grant: with no holder and nothing changing, the asker marks the glock changing, asks the
 * lock manager (a conversion if a weaker mode is held), runs {@link GlockOps#granted} to refresh
 * what the lock protects, and becomes the first holder.
 */
final class Glock {
    private static final System.Logger LOG = System.getLogger(Glock.class.getName());
    static final int FLUSH_ROUNDS = 3;

    private final Glocks engine;
    private final GlockType type;
    private final long number;
    private final GlockOps ops;
    private final Lock lock;

    private LockMode granted;
    private int holders;
    private boolean changing;
    private LockMode wanted;
    private long grantedAt;
    private long demoteAt;
    private long hold;
    private boolean demoteQueued;
    private boolean flushing;
    /** Holders admitted while {@code flushing}, and how many flush rounds this demote has had. */
    private int admittedWhileFlushing;
    private int flushRounds;
    private String stuck;
    private boolean retired;

    Glock(Glocks engine, GlockType type, long number, GlockOps ops) {
        this.engine = engine;
        this.type = type;
        this.number = number;
        this.ops = ops;
        this.hold = engine.holdStep();
        this.lock = engine.space().newLock(type.resource(number), (l, w) -> blocked(w));
    }

    ResourceName name() {
        return lock.resource();
    }

    GlockType type() {
        return type;
    }

    long number() {
        return number;
    }

    /** How the glock now stands, for tests and diagnostics. */
    synchronized String describe() {
        return name() + " granted=" + granted + " holders=" + holders + (changing ? " changing" : "") + (wanted != null ? " wanted=" + wanted : "")
                + (stuck != null ? " stuck" : "");
    }

    synchronized LockMode granted() {
        return granted;
    }

    /**
     * Becomes a holder in {@code mode} if that needs no lock manager call: the mode is granted
     * and no demote is due. Never waits.
     */
    synchronized boolean tryCached(LockMode mode) {
        if (admits(mode)) {
            admit();
            return true;
        }
        return false;
    }

    private void admit() {
        holders++;
        if (flushing) {
            admittedWhileFlushing++;
        }
    }

    /** What {@link #acquire} came to. */
    enum Outcome {
        HELD,
        /** The glock was retired meanwhile: the caller takes a fresh one. */
        RETIRED,
        /** A try-lock found the lock held elsewhere. */
        BUSY
    }

    /**
     * Becomes a holder in {@code mode}, asking the lock manager if needed (waiting up to the grant
     * timeout). With {@code tryOnly} the request is a try-lock.
     *
     * @throws FsException IO_ERROR if the lock manager did not grant it
     */
    Outcome acquire(LockMode mode, boolean tryOnly) {
        LockMode from;
        synchronized (this) {
            while (true) {
                if (retired) {
                    return Outcome.RETIRED;
                }
                if (stuck != null || engine.frozen()) {
                    throw new WithdrawnException(stuck != null ? stuck : engine.frozenBecause());
                }
                if (admits(mode)) {
                    admit();
                    return Outcome.HELD;
                }
                if (tryOnly && (holders > 0 || changing)) {
                    return Outcome.BUSY; // used here in a weaker mode, or on its way: a try never waits
                }
                if (!changing && holders == 0 && wanted == null) {
                    changing = true;
                    from = granted;
                    break;
                }
                if (!changing && holders == 0 && wanted != null) {
                    queueDemote(0); // ours to give first; then we ask again
                }
                waitQuietly();
            }
        }
        LockMode got = null;
        try {
            got = request(from, mode, tryOnly);
            if (got != null) {
                ops.granted(number, got, lock.valueBlock());
            }
        } finally {
            LockMode held = got != null ? got : lock.grantedMode();
            synchronized (this) {
                changing = false;
                granted = held;
                if (got != null) {
                    grantedAt = engine.now();
                    holders++;
                }
                if (wanted != null && holders == 0) {
                    queueDemote(0);
                }
                notifyAll();
            }
        }
        return got != null ? Outcome.HELD : Outcome.BUSY;
    }

    private LockMode request(LockMode from, LockMode mode, boolean tryOnly) {
        Set<LockFlag> flags = tryOnly ? Set.of(LockFlag.NOQUEUE) : Set.of();
        try {
            return await(lock.request(mode, flags));
        } catch (WouldBlockException e) {
            return null;
        } catch (ConversionDeadlockException e) {
            // Both nodes held it weaker and both wanted it stronger: give ours up and queue afresh.
            LOG.log(System.Logger.Level.DEBUG, name() + ": conversion deadlock from " + from + ", requesting anew");
            ops.invalidate(number);
            await(lock.unlock());
            return await(lock.request(mode, flags));
        }
    }

    /** Ends one use. */
    void release() {
        synchronized (this) {
            holders--;
            notifyAll();
            if (holders > 0) {
                return;
            }
            if (wanted != null) {
                queueDemote(Math.max(0, demoteAt - engine.now()));
                return;
            }
            if (ops.cachedWhenIdle() || granted == null) {
                return;
            }
        }
        engine.retireSoon(this);
    }

    /** The blocking callback: never blocks beyond this monitor, which nobody holds for long. */
    private void blocked(LockMode other) {
        LockMode held = lock.grantedMode();
        synchronized (this) {
            if (held == null || held.compatibleWith(other) || stuck != null) {
                return;
            }
            long now = engine.now();
            if (wanted == null) {
                if (holders > 0 || changing) {
                    hold = Math.min(engine.maxHold(), hold + engine.holdStep());
                    demoteAt = grantedAt + hold;
                } else {
                    hold = Math.max(engine.holdStep(), hold / 2);
                    demoteAt = now;
                }
            }
            wanted = wanted == null || other.covers(wanted) ? other : wanted;
            if (holders == 0 && !changing) {
                queueDemote(Math.max(0, demoteAt - now));
            }
        }
    }

    private void queueDemote(long delayMillis) {
        if (!demoteQueued) {
            demoteQueued = true;
            engine.schedule(this::demote, delayMillis);
        }
    }

    /** Runs on the demote thread. */
    private void demote() {
        LockMode from;
        LockMode to;
        synchronized (this) {
            demoteQueued = false;
            if (!demoteDue()) {
                return;
            }
            flushing = true;
            admittedWhileFlushing = 0;
        }
        try {
            ops.flushKernel(number);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, name() + ": flushing the kernel's caches failed: " + e.getMessage());
        }
        synchronized (this) {
            flushing = false;
            if (admittedWhileFlushing > 0 && ++flushRounds < FLUSH_ROUNDS) {
                notifyAll();
                if (holders == 0) {
                    queueDemote(0);
                }
                return; // release() queues it again when the last holder goes
            }
            if (!demoteDue()) {
                notifyAll();
                return;
            }
            flushRounds = 0;
            changing = true;
            from = granted;
            to = LockMode.PR.compatibleWith(wanted) && from != LockMode.PR ? LockMode.PR : null;
        }
        LockMode now = from;
        try {
            giveUp(from, to);
            now = to;
        } catch (RuntimeException e) {
            synchronized (this) {
                stuck = "glock " + name() + " could not be written back: " + e.getMessage();
                notifyAll();
            }
            engine.failed(this, e);
            return;
        }
        synchronized (this) {
            granted = now;
            changing = false;
            // A callback that came during the demote may want more than it gave (EX after PR):
            // it is not sent again, so it stays wanted and the lock goes on down.
            if (now == null || wanted == null || now.compatibleWith(wanted)) {
                wanted = null;
            } else {
                demoteAt = engine.now();
                queueDemote(0);
            }
            notifyAll();
        }
    }

    /** Whether a demote may start now (monitor held); queues a later try when only the window is in the way. */
    private boolean demoteDue() {
        if (retired || stuck != null || changing || flushing || holders > 0 || wanted == null || engine.frozen()) {
            return false;
        }
        if (granted == null) {
            wanted = null; // already gone (a failed request); nothing to give
            notifyAll();
            return false;
        }
        long wait = demoteAt - engine.now();
        if (wait > 0) {
            queueDemote(wait);
            return false;
        }
        return ops.mayDemote(number); // else the type's own event (a last close) releases it
    }

    /** Sync, publish, invalidate, convert or unlock: the demote's steps 3-5. */
    private void giveUp(LockMode from, LockMode to) {
        if (from == LockMode.EX || from == LockMode.PW) {
            ops.sync(number);
            byte[] value = ops.valueOut(number);
            if (value != null) {
                lock.setValueBlock(value);
            }
        }
        if (to == null) {
            ops.invalidate(number);
            await(lock.unlock());
        } else {
            await(lock.request(to, Set.of()));
        }
    }

    /**
     * Gives the lock back because the table is too big or the type does not cache it: like a
     * demote with nobody waiting. Returns true if it is gone (the caller forgets the glock).
     */
    boolean retire() {
        LockMode from;
        synchronized (this) {
            if (retired) {
                return true;
            }
            if (holders > 0 || changing || flushing || stuck != null || engine.frozen() || !ops.mayDemote(number)) {
                return false;
            }
            flushing = true;
            admittedWhileFlushing = 0;
        }
        if (granted() != null) {
            try {
                ops.flushKernel(number);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, name() + ": flushing the kernel's caches failed: " + e.getMessage());
            }
        }
        synchronized (this) {
            flushing = false;
            if (holders > 0 || admittedWhileFlushing > 0 || changing || stuck != null || engine.frozen()) {
                notifyAll();
                return false; // in use again: it stays
            }
            changing = true;
            retired = true;
            from = granted;
        }
        try {
            if (from != null) {
                giveUp(from, null);
            }
        } catch (RuntimeException e) {
            synchronized (this) {
                stuck = "glock " + name() + " could not be written back: " + e.getMessage();
                retired = false;
                notifyAll();
            }
            engine.failed(this, e);
            return false;
        }
        synchronized (this) {
            granted = null;
            changing = false;
            notifyAll();
        }
        return true;
    }

    /**
     * Unmount: drops the lock without sync or invalidate (the caller has written everything back
     * and drops every cache at once). Waits for nothing but the lock manager.
     */
    void dropAtUnmount() {
        synchronized (this) {
            retired = true;
            notifyAll();
        }
        try {
            lock.unlock().get(5, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            LOG.log(System.Logger.Level.WARNING, "unlocking " + name() + " at unmount: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The node withdrew: nobody uses this lock again and it is never given up. */
    synchronized void freeze(String why) {
        if (stuck == null) {
            stuck = why;
        }
        notifyAll();
    }

    private boolean admits(LockMode mode) {
        return stuck == null && !changing && granted != null && granted.covers(mode)
                && (wanted == null || flushing || engine.now() < demoteAt);
    }

    private <T> T await(CompletableFuture<T> f) {
        try {
            return f.get(engine.grantTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof WouldBlockException w) {
                throw w;
            }
            if (c instanceof ConversionDeadlockException d) {
                throw d;
            }
            throw new FsException(FsException.Kind.IO_ERROR, "lock " + name() + ": " + c.getMessage());
        } catch (TimeoutException e) {
            if (lock.cancel()) {
                throw new FsException(FsException.Kind.IO_ERROR, "lock " + name() + " was not granted within " + engine.grantTimeout());
            }
            return f.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            lock.cancel();
            throw new FsException(FsException.Kind.IO_ERROR, "interrupted waiting for lock " + name());
        } catch (LockException e) {
            throw new FsException(FsException.Kind.IO_ERROR, "lock " + name() + ": " + e.getMessage());
        }
    }

    private void waitQuietly() {
        try {
            wait(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FsException(FsException.Kind.IO_ERROR, "interrupted waiting for lock " + name());
        }
    }
}
