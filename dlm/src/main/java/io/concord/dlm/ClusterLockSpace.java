package io.concord.dlm;

import static java.util.Objects.requireNonNull;

import io.concord.dlm.membership.EpochView;
import io.concord.dlm.membership.Member;
import io.concord.dlm.membership.Membership;
import io.concord.dlm.membership.MembershipListener;
import io.concord.dlm.net.FrameHandler;
import io.concord.dlm.net.Transport;
import io.concord.dlm.wire.Frame;
import io.concord.dlm.wire.Message;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A lock space of the distributed lock manager: this node's holders ({@link ClusterLock}), the
 * queues of the resources it masters ({@link MasterRole}), and the recovery that carries both
 * through membership changes ({@link LockSpaceRecovery}).
 *
 * <p>A lock whose resource is mastered here talks to the master role directly, on the caller's
 * thread, with no frame and no network; every other lock's traffic is one frame to the master and
 * one answer back. ZooKeeper is used only through {@link Membership}: joins, epochs, markers.
 */
public final class ClusterLockSpace implements LockSpace {
    private static final System.Logger LOG = System.getLogger(ClusterLockSpace.class.getName());

    private final String name;
    private final int wireId;
    private final Transport transport;
    private final Membership membership;
    private final LockSpaceListener listener;
    private final LockSpaceRecovery recovery = new LockSpaceRecovery(this);
    private final MasterRole master = new MasterRole(recovery::frozen, this::toHolder);
    private final ConcurrentMap<Long, ClusterLock> active = new ConcurrentHashMap<>();
    private final AtomicLong lockIds = new AtomicLong();
    // Hooks may block (journal replay): one at a time, off every lock-space thread.
    private final ExecutorService notices = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("dlm-notices").factory());
    private final CompletableFuture<Void> running = new CompletableFuture<>();
    private final Consumer<ClusterLockSpace> onClose;
    private volatile Member self;
    private volatile boolean closed;

    /**
     * @param joinMembership builds this space's membership around the listener it must report to
     */
    ClusterLockSpace(String name, Transport transport, Function<MembershipListener, Membership> joinMembership,
                     LockSpaceListener listener, Consumer<ClusterLockSpace> onClose) {
        this.onClose = onClose;
        this.name = requireNonNull(name, "name");
        this.wireId = Frame.lockSpaceId(name);
        this.transport = transport;
        this.listener = requireNonNull(listener, "listener");
        this.membership = joinMembership.apply(new Events());
    }

    /** Joins the cluster and waits until this node may take locks (its first epoch's barrier). */
    void join(Duration timeout) {
        transport.register(wireId, new Frames());
        self = membership.join(timeout); // a restart can find its crashed life still registered
        try {
            running.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            close();
            throw new LockException("lock space " + name + ": not admitted within " + timeout + " (epoch " + recovery.epoch() + ", " + recovery.phase() + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new LockException("interrupted while joining lock space " + name, e);
        } catch (java.util.concurrent.ExecutionException e) {
            close();
            throw new LockException("lock space " + name + " could not be joined", e.getCause());
        }
    }

    @Override
    public String name() {
        return name;
    }

    /** This node's membership. */
    public Member self() {
        return self;
    }

    /** The current epoch (0 before the first). */
    public long epoch() {
        return recovery.epoch();
    }

    /** Whether grants are frozen here: recovering, awaiting a dead node's recovery, or suspended. */
    public boolean frozen() {
        return recovery.frozen();
    }

    /** The member that masters {@code resource} in the current epoch: for diagnostics and benchmarks. */
    public Member masterOf(ResourceName resource) {
        return recovery.member(recovery.masterOf(resource));
    }

    @Override
    public Lock newLock(ResourceName resource, BlockingCallback onBlocking) {
        requireNonNull(resource, "resource");
        requireOpen();
        return new ClusterLock(this, resource, lockIds.incrementAndGet(), onBlocking);
    }

    /**
     * Claims this node's journal: the lowest slot below {@code journals} that no live member and
     * no unrecovered dead one holds (one ZooKeeper round trip per slot tried).
     */
    public int claimJournalSlot(int journals) {
        return membership.claimJournalSlot(journals);
    }

    /** Claims journal slot {@code wanted} (a mount's {@code journal=N}). */
    public int claimJournalSlot(int journals, int wanted) {
        return membership.claimJournalSlot(journals, wanted);
    }

    /** The journal a dead member wrote, for the survivor that replays it. */
    public java.util.OptionalInt journalSlotOf(Member member) {
        return membership.journalSlotOf(member.incarnation());
    }

    /**
     * Tells the cluster that {@code member} is recovered (fenced, its journal replayed): its locks
     * are released and grants resume everywhere. Blocks for one ZooKeeper write.
     */
    public void recovered(Member member) {
        membership.markRecovered(member.incarnation());
    }

    /**
     * Leaves cleanly: releases this node's locks (waiting up to a few seconds for the masters),
     * records that this node needs no recovery, and leaves the membership.
     */
    @Override
    public void close() {
        leave(true);
    }

    /** Leaves without releasing anything: the others recover this node as a dead one. */
    @Override
    public void abandon() {
        leave(false);
    }

    private void leave(boolean release) {
        if (closed) {
            return;
        }
        closed = true;
        boolean clean = false;
        if (release) {
            List<CompletableFuture<Void>> releases = active.values().stream().map(ClusterLock::unlock).toList();
            try {
                CompletableFuture.allOf(releases.toArray(CompletableFuture[]::new)).get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "lock space " + name + ": leaving with locks not released (" + e + "); the others will wait for its recovery");
            }
            clean = recovery.phase() != LockSpaceRecovery.Phase.CLOSED
                    && releases.stream().allMatch(f -> f.isDone() && !f.isCompletedExceptionally());
        } else {
            LOG.log(System.Logger.Level.WARNING, "lock space " + name + ": leaving without releasing any lock; the others will recover this node");
        }
        recovery.close();
        if (clean) {
            membership.close(); // marks this incarnation recovered: nothing of it is left to release
        } else {
            membership.closeUnclean();
        }
        transport.unregister(wireId);
        abandonAll(new LockSpaceClosedException(name));
        master.clear();
        notices.shutdown();
        running.completeExceptionally(new LockSpaceClosedException(name));
        onClose.accept(this);
    }

    void requireOpen() {
        if (closed) {
            throw new LockSpaceClosedException(name);
        }
        if (recovery.phase() == LockSpaceRecovery.Phase.CLOSED) {
            throw new ExpelledException(name, "this node is no longer a member");
        }
    }

    // ---- holder side ----

    /** A lock has something to send (or was answered): send it if the space may, else it waits for {@link #flushAll}. */
    void activate(ClusterLock lock) {
        active.put(lock.lockId(), lock);
        if (recovery.phase() == LockSpaceRecovery.Phase.CLOSED) {
            // Raced with close() or an expulsion that already abandoned every lock it could see.
            active.remove(lock.lockId(), lock);
            lock.abandon(closed ? new LockSpaceClosedException(name) : new ExpelledException(name, "this node is no longer a member"));
            return;
        }
        if (recovery.canSend()) {
            var read = recovery.readLock();
            read.lock();
            try {
                if (recovery.canSend()) {
                    send(lock);
                }
            } finally {
                read.unlock();
            }
        }
        retireIfIdle(lock);
    }

    void retireIfIdle(ClusterLock lock) {
        if (lock.idle()) {
            active.remove(lock.lockId(), lock);
            if (!lock.idle()) {
                active.put(lock.lockId(), lock); // raced with a new request
            }
        }
    }

    /** Sends what every lock has waiting, if the space may send now. */
    void flushAll() {
        if (!recovery.canSend()) {
            return;
        }
        var read = recovery.readLock();
        read.lock();
        try {
            if (recovery.canSend()) {
                active.values().forEach(this::send);
            }
        } finally {
            read.unlock();
        }
    }

    // Read lock held.
    private void send(ClusterLock lock) {
        lock.takeOutgoing();
        // One thread at a time hands a lock's messages over, in the order they were taken; a
        // thread that finds another doing it leaves its messages to it (the re-check after letting
        // go catches what was queued meanwhile). The read lock, held by every thread here, keeps
        // the epoch from changing between taking and handing over.
        while (!lock.outbox.isEmpty()) {
            if (!lock.sending.compareAndSet(false, true)) {
                return;
            }
            try {
                for (Message message; (message = lock.outbox.poll()) != null; ) {
                    long to = recovery.masterOf(lock.resource());
                    lock.sentTo(to);
                    if (to == self.incarnation()) {
                        fromHolder(to, message);
                    } else {
                        sendTo(to, message);
                    }
                }
            } finally {
                lock.sending.set(false);
            }
        }
    }

    // Read lock held: an answer from a master (this node's or another's).
    private void toHolder(long holder, Message message) {
        if (holder != self.incarnation()) {
            sendTo(holder, message);
            return;
        }
        switch (message) {
            case Message.Granted g -> withLock(g.lockId(), l -> l.granted(g.mode(), g.valueBlock()));
            case Message.Refused r -> withLock(r.lockId(), l -> l.refused(r.mode(), r.reason()));
            case Message.Unlocked u -> withLock(u.lockId(), l -> {
                l.unlocked();
                retireIfIdle(l);
            });
            case Message.Blocking b -> withLock(b.lockId(), l -> l.blocking(b.wanted()));
            default -> throw new IllegalArgumentException("not an answer to a holder: " + message);
        }
    }

    private void withLock(long lockId, Consumer<ClusterLock> action) {
        ClusterLock lock = active.get(lockId);
        if (lock != null) {
            action.accept(lock);
        }
    }

    // Read lock held: a holder's operation reaching this node's master role.
    private void fromHolder(long holder, Message message) {
        switch (message) {
            case Message.Request m -> master.request(holder, m);
            case Message.Convert m -> master.convert(holder, m);
            case Message.Cancel m -> master.cancel(holder, m);
            case Message.Unlock m -> master.unlock(holder, m);
            default -> throw new IllegalArgumentException("not a holder's operation: " + message);
        }
    }

    private void sendTo(long incarnation, Message message) {
        Member to = recovery.member(incarnation);
        if (to == null) {
            LOG.log(System.Logger.Level.DEBUG, () -> "no member " + incarnation + " to send " + message + " to");
            return;
        }
        transport.send(to.name(), to.address(), new Frame(wireId, recovery.epoch(), self.incarnation(), message));
    }

    // ---- for LockSpaceRecovery (write lock held) ----

    MasterRole master() {
        return master;
    }

    void sendRecovery(long to, Message message) {
        if (to == self.incarnation()) {
            dispatch(transport.nodeName(), new Frame(wireId, recovery.epoch(), to, message));
        } else {
            sendTo(to, message);
        }
    }

    void resendAll(Rendezvous masters) {
        for (ClusterLock lock : active.values()) {
            long to = masters.master(lock.resource());
            Message.Resend resend = lock.resendTo(to);
            if (resend != null) {
                sendRecovery(to, resend);
            }
            retireIfIdle(lock);
        }
    }

    void confirmAll() {
        active.values().forEach(lock -> {
            lock.confirm();
            retireIfIdle(lock);
        });
        running.complete(null);
    }

    void forgetPeer(String peer) {
        transport.forget(peer);
    }

    void notice(Consumer<LockSpaceListener> notice) {
        try {
            notices.execute(() -> {
                try {
                    notice.accept(listener);
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.ERROR, "lock space " + name + ": the owner's listener failed", e);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closed: nobody to tell
        }
    }

    void expelled(String why) {
        LOG.log(System.Logger.Level.ERROR, "lock space " + name + ": this node is out of the cluster: " + why);
        abandonAll(new ExpelledException(name, why));
        master.clear();
        running.completeExceptionally(new ExpelledException(name, why));
        notice(l -> l.expelled(why));
    }

    private void abandonAll(LockException why) {
        active.values().forEach(lock -> lock.abandon(why));
        active.clear();
    }

    /** A frame for this space, from the transport or held since an earlier epoch. */
    void dispatch(String peer, Frame frame) {
        Message message = frame.message();
        if (message instanceof Message.Resend || message instanceof Message.MasterState
                || message instanceof Message.RecoveryDone || message instanceof Message.RecoveryReady) {
            recovery.recoveryFrame(peer, frame);
            return;
        }
        var read = recovery.readLock();
        read.lock();
        try {
            if (recovery.current(peer, frame)) {
                switch (message) {
                    case Message.Request m -> fromHolder(frame.sender(), m);
                    case Message.Convert m -> fromHolder(frame.sender(), m);
                    case Message.Cancel m -> fromHolder(frame.sender(), m);
                    case Message.Unlock m -> fromHolder(frame.sender(), m);
                    default -> toHolder(self.incarnation(), message);
                }
                return;
            }
        } finally {
            read.unlock();
        }
        recovery.notCurrent(peer, frame);
    }

    /** For diagnostics: this node's locks and the queues it masters. */
    public String describe() {
        StringBuilder out = new StringBuilder(toString()).append('\n');
        active.values().forEach(lock -> out.append("  holds ").append(lock.describe()).append('\n'));
        master.describe(out);
        return out.toString();
    }

    @Override
    public String toString() {
        return "ClusterLockSpace{" + name + ", epoch " + recovery.epoch() + ", " + recovery.phase() + "}";
    }

    private final class Frames implements FrameHandler {
        @Override
        public void received(String peer, Frame frame) {
            try {
                dispatch(peer, frame);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "lock space " + name + ": failed on " + frame + " from " + peer, e);
            }
        }
    }

    private final class Events implements MembershipListener {
        @Override
        public void epochChanged(EpochView view) {
            recovery.epochChanged(view);
        }

        @Override
        public void recoveredChanged(Set<Long> incarnations) {
            recovery.recoveredChanged(incarnations);
        }

        @Override
        public void suspended() {
            recovery.suspended();
        }

        @Override
        public void reconnected() {
            recovery.reconnected();
        }

        @Override
        public void lost(String why) {
            recovery.lost(why);
        }
    }
}
