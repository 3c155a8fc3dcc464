package io.concord.dlm;

import static java.util.Objects.requireNonNull;

import io.concord.dlm.wire.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link Lock} of {@link ClusterLockSpace}: the holder's side of one lock, whose queues live on
 * the resource's master (this node or another).
 *
 * <p>The handle keeps its own view of the lock: what is granted, what is asked for, what it read
 * and staged. That view is the truth the master's queues are rebuilt from after a membership
 * change (see {@link LockSpaceRecovery}), so it changes only on answers from the master, never on
 * a guess.
 *
 * <p>At most one operation is with the master at a time, plus a cancel of it: a request or
 * conversion waits for {@link Message.Granted} or {@link Message.Refused}, an unlock for
 * {@link Message.Unlocked}, and a request made while an unlock is unanswered waits here until the
 * answer. Frames to one master arrive in order, so every answer matches the one operation out.
 *
 * <p>Concurrency: the view is guarded by {@code this}. Messages are built under it and sent after
 * it is released; futures complete and BASTs run with no lock of this class held.
 */
final class ClusterLock implements Lock {
    private final ClusterLockSpace space;
    private final ResourceName resource;
    private final long lockId;
    private final BlockingCallback onBlocking;

    // Guarded by this.
    private LockMode granted;
    private LockMode requested;                  // request or conversion not yet answered
    private boolean noQueue;
    private CompletableFuture<LockMode> pending;
    private boolean sent;                        // requested has gone to the master
    private boolean cancelWanted;
    private boolean cancelSent;
    private CompletableFuture<Void> unlocking;   // unlock asked for and not yet answered
    private boolean unlockSent;
    private boolean tombstoned;                  // the unlock was resent as "I hold nothing"
    private byte[] publishing;                   // value sent with the unanswered unlock or down-conversion
    private LockValueBlock read;
    private byte[] staged;
    private long master;                         // incarnation whose queues hold this lock
    private boolean confirmed = true;            // master's queues known to match this view

    /** Messages taken by {@link #takeOutgoing} and not yet handed to the master, oldest first. */
    final java.util.Queue<Message> outbox = new java.util.concurrent.ConcurrentLinkedQueue<>();
    /** Held by the one thread handing {@link #outbox} to the master. */
    final java.util.concurrent.atomic.AtomicBoolean sending = new java.util.concurrent.atomic.AtomicBoolean();

    ClusterLock(ClusterLockSpace space, ResourceName resource, long lockId, BlockingCallback onBlocking) {
        this.space = space;
        this.resource = resource;
        this.lockId = lockId;
        this.onBlocking = onBlocking;
    }

    long lockId() {
        return lockId;
    }

    @Override
    public ResourceName resource() {
        return resource;
    }

    @Override
    public synchronized LockMode grantedMode() {
        return granted;
    }

    @Override
    public CompletableFuture<LockMode> request(LockMode mode, Set<LockFlag> flags) {
        requireNonNull(mode, "mode");
        CompletableFuture<LockMode> future;
        synchronized (this) {
            if (requested != null) {
                throw new IllegalStateException(this + " already has a request for " + requested + " in flight");
            }
            try {
                space.requireOpen();
            } catch (LockSpaceClosedException e) {
                return CompletableFuture.failedFuture(e);
            }
            requested = mode;
            noQueue = flags.contains(LockFlag.NOQUEUE);
            pending = future = new CompletableFuture<>();
            sent = false;
            cancelWanted = false;
            cancelSent = false;
            if (granted != null && granted.writesValueBlock() && !mode.writesValueBlock()) {
                publishing = staged;
                staged = null;
            }
        }
        space.activate(this);
        return future;
    }

    @Override
    public boolean cancel() {
        CompletableFuture<LockMode> waitFor;
        Runnable withdrawn = null;
        synchronized (this) {
            if (requested == null) {
                return false;
            }
            waitFor = pending;
            if (!sent) {
                // Never left this node: withdraw it here.
                withdrawn = failPending(new LockCancelledException(resource, requested));
            } else {
                cancelWanted = true;
            }
        }
        if (withdrawn != null) {
            withdrawn.run();
        }
        space.activate(this);
        // The master answers the cancel with a refusal, or with the grant that beat it; the
        // caller of cancel() must know which, or a grant could go unnoticed and never be released.
        try {
            waitFor.join();
            return false;
        } catch (RuntimeException e) {
            return e.getCause() instanceof LockCancelledException || e instanceof java.util.concurrent.CancellationException;
        }
    }

    @Override
    public CompletableFuture<Void> unlock() {
        CompletableFuture<Void> done;
        CompletableFuture<LockMode> abandoned = null;
        LockMode abandonedMode = null;
        boolean sendUnlock = true;
        synchronized (this) {
            if (unlocking != null) {
                return unlocking;
            }
            if (requested != null) {
                abandoned = pending;
                abandonedMode = requested;
                boolean wasSent = sent;
                requested = null;
                pending = null;
                sent = false;
                // Nothing reached a master and nothing is held: withdrawn here.
                sendUnlock = wasSent || granted != null;
            } else if (granted == null) {
                return CompletableFuture.completedFuture(null);
            }
            if (sendUnlock) {
                if (granted != null && granted.writesValueBlock() && staged != null) {
                    publishing = staged; // else a down-conversion not yet sent may already carry one
                }
                staged = null;
                granted = null;
                // `read` stays: a resent unlock names the sequence its value was staged over.
                unlocking = done = new CompletableFuture<>();
                unlockSent = false;
            } else {
                done = CompletableFuture.completedFuture(null);
            }
        }
        // Completed off the monitor: its dependants may call into other locks.
        if (abandoned != null) {
            abandoned.completeExceptionally(new LockCancelledException(resource, abandonedMode));
        }
        if (sendUnlock) {
            space.activate(this);
        }
        return done;
    }

    @Override
    public synchronized LockValueBlock valueBlock() {
        return granted == null ? null : read;
    }

    @Override
    public synchronized void setValueBlock(byte[] value) {
        byte[] copy = LockValueBlock.checkedCopy(requireNonNull(value, "value"));
        space.requireOpen();
        if (granted == null || !granted.writesValueBlock()) {
            throw new IllegalStateException(this + " holds " + granted + ": only PW or EX may write the value block");
        }
        staged = copy;
    }

    // ---- driven by the lock space ----

    /**
     * Queues on {@link #outbox} what to send to the master now, marking it sent. Called only while
     * the lock space may send.
     */
    synchronized void takeOutgoing() {
        // Queued in the order taken, under this monitor: two threads sending for one lock (a
        // request and an unlock, or a request and a cancel) must not reach the master reversed.
        outbox.addAll(outgoing());
    }

    private List<Message> outgoing() {
        List<Message> out = new ArrayList<>(1);
        if (unlocking != null) {
            if (!unlockSent) {
                unlockSent = true;
                out.add(new Message.Unlock(lockId, resource, publishing));
            }
            return out;
        }
        if (requested != null) {
            if (!sent) {
                sent = true;
                out.add(granted == null
                        ? new Message.Request(lockId, resource, requested, noQueue)
                        : new Message.Convert(lockId, resource, requested, noQueue, publishing));
            }
            if (cancelWanted && !cancelSent) {
                cancelSent = true;
                out.add(new Message.Cancel(lockId, resource));
            }
        }
        return out;
    }

    synchronized void sentTo(long masterIncarnation) {
        master = masterIncarnation;
    }

    /** Whether this handle holds, wants or is releasing anything; an idle one is forgotten by the space. */
    synchronized boolean idle() {
        return granted == null && requested == null && unlocking == null;
    }

    void granted(LockMode mode, LockValueBlock valueBlock) {
        CompletableFuture<LockMode> future;
        synchronized (this) {
            if (requested == null || unlocking != null) {
                return; // answer to a request the unlock abandoned; the unlock releases it
            }
            granted = mode;
            read = valueBlock;
            publishing = null;
            future = pending;
            requested = null;
            pending = null;
            sent = false;
            cancelWanted = false;
        }
        future.complete(mode);
    }

    void refused(LockMode mode, Message.Reason reason) {
        Runnable failed;
        synchronized (this) {
            if (requested == null || unlocking != null) {
                return;
            }
            failed = failPending(switch (reason) {
                case WOULD_BLOCK -> new WouldBlockException(resource, mode);
                case CANCELLED -> new LockCancelledException(resource, mode);
                case CONVERSION_DEADLOCK -> new ConversionDeadlockException(resource, granted, mode);
            });
        }
        failed.run();
        space.retireIfIdle(this);
    }

    void unlocked() {
        CompletableFuture<Void> done;
        synchronized (this) {
            if (unlocking == null) {
                return;
            }
            done = unlocking;
            unlocking = null;
            unlockSent = false;
            tombstoned = false;
            publishing = null;
        }
        done.complete(null);
        // A request made while the unlock was out can go now.
        space.activate(this);
    }

    void blocking(LockMode wanted) {
        synchronized (this) {
            if (granted == null || unlocking != null) {
                return;
            }
        }
        if (onBlocking != null) {
            onBlocking.blocking(this, wanted);
        }
    }

    /** Fails the request in flight (the lock space closed or this node left); forgets everything. */
    void abandon(LockException why) {
        CompletableFuture<LockMode> future;
        CompletableFuture<Void> done;
        synchronized (this) {
            future = pending;
            done = unlocking;
            requested = null;
            pending = null;
            unlocking = null;
            granted = null;
            read = null;
            staged = null;
        }
        if (future != null) {
            future.completeExceptionally(why);
        }
        if (done != null) {
            done.complete(null);
        }
    }

    // ---- recovery (see LockSpaceRecovery) ----

    /**
     * The view to resend to {@code newMaster} on entering a new epoch, or null if its queues
     * already match it: this lock's master did not move, its last view was confirmed, and nothing
     * was sent since whose answer may have been lost with the old epoch.
     *
     * <p>An operation out is folded into the view as the master may or may not have done it: an
     * unlock as "nothing held", a down-conversion as already granted, a request or up-conversion as
     * still wanted. A try-lock out fails here instead: it must not wait through a recovery.
     */
    Message.Resend resendTo(long newMaster) {
        CompletableFuture<LockMode> failed = null;
        LockMode failedMode = null;
        Message.Resend resend;
        synchronized (this) {
            // Anything taken but not handed over (a sender failed) is covered by the view resent now.
            outbox.clear();
            boolean out = unlockSent || sent;
            if (!out && confirmed && master == newMaster) {
                return null;
            }
            if (granted == null && requested == null && unlocking == null) {
                return null;
            }
            if (unlocking != null) {
                // Sent or not, the holder has stopped using the lock: the resent view does the unlock.
                tombstoned = true;
                unlockSent = true;
                resend = new Message.Resend(lockId, resource, null, null, false, read, publishing);
            } else if (requested != null && sent && noQueue) {
                failed = pending;
                failedMode = requested;
                requested = null;
                pending = null;
                sent = false;
                // The master may have granted or queued it before the change: the resent view
                // (what is held, or nothing) replaces whatever it has.
                resend = new Message.Resend(lockId, resource, granted, null, false, read, null);
            } else if (requested != null && sent) {
                cancelSent = false;
                boolean down = granted != null && granted.covers(requested);
                resend = new Message.Resend(lockId, resource, down ? requested : granted, requested, false, read, down ? publishing : null);
            } else if (granted != null) {
                resend = new Message.Resend(lockId, resource, granted, null, false, read, null);
            } else {
                resend = null; // only a request not yet sent: it goes after the recovery
            }
            master = newMaster;
            confirmed = false;
        }
        if (failed != null) {
            failed.completeExceptionally(new WouldBlockException(resource, failedMode));
        }
        return resend;
    }

    /** Every master has this lock's resent view: the recovery of the epoch completed. */
    void confirm() {
        CompletableFuture<Void> done = null;
        synchronized (this) {
            confirmed = true;
            if (tombstoned) {
                done = unlocking;
                unlocking = null;
                unlockSent = false;
                tombstoned = false;
                publishing = null;
            }
        }
        if (done != null) {
            done.complete(null);
        }
    }

    /**
     * Forgets the request in flight; returns the completion of its future, to run once the
     * monitor is released: the future's dependants may call into other locks, which could wait for
     * the phase lock while a recovery holding it waits for this monitor.
     */
    private Runnable failPending(LockException why) {
        CompletableFuture<LockMode> future = pending;
        requested = null;
        pending = null;
        sent = false;
        cancelWanted = false;
        cancelSent = false;
        return () -> future.completeExceptionally(why);
    }

    synchronized String describe() {
        return toString() + (sent ? " sent" : "") + (cancelWanted ? " cancel" + (cancelSent ? "-sent" : "") : "")
                + (unlocking != null ? " unlocking" + (unlockSent ? "-sent" : "") : "") + " master=" + master + (confirmed ? "" : " unconfirmed");
    }

    @Override
    public synchronized String toString() {
        return "Lock{" + resource + " #" + lockId + " " + granted + (requested == null ? "" : "->" + requested) + "}";
    }
}
