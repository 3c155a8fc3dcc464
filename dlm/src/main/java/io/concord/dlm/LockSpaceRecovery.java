package io.concord.dlm;

import io.concord.dlm.membership.EpochView;
import io.concord.dlm.membership.Member;
import io.concord.dlm.wire.Frame;
import io.concord.dlm.wire.Message;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Runs a lock space through membership changes: the DLM's part of recovery.
 *
 * <h2>The protocol</h2>
 * <ol>
 * <li><b>Epochs.</b> ZooKeeper holds the lock space's epoch: a number and the member list (each
 *     member a node name and an incarnation, the zxid of its member znode), bumped by the
 *     coordinator with a compare-and-set on every change, plus the list of departed members not yet
 *     marked recovered ({@code unrecovered}). Every frame carries its sender's epoch; a frame of an
 *     older epoch than the receiver's is dropped, a newer one is held until the receiver gets
 *     there. So nothing said under an old member list is acted on under a new one, and whatever
 *     was in flight at the change is settled by steps 3-4, never by the old frames.
 * <li><b>Freeze.</b> On seeing epoch E, a node stops granting on every resource it masters and
 *     stops sending new requests (both queue); locks already granted stay granted and usable.
 *     Releases and down-conversions still go through: they only weaken.
 * <li><b>Remaster.</b> Masters are recomputed by rendezvous hashing over E's members
 *     ({@link Rendezvous}), which moves about 1/N of the resources. A node drops the queues of
 *     every resource it no longer masters, sending its value block to the new master
 *     ({@link Message.MasterState}; marked invalid if a departed node held PW or EX on it).
 * <li><b>Resend.</b> Every node sends each lock it holds or wants, as it sees it
 *     ({@link ClusterLock#resendTo}), to the lock's master under E ({@link Message.Resend}) if that
 *     master moved, if the lock's last resend was never confirmed (step 6), or if an operation on
 *     it was out at the change (its answer may have been dropped as stale). The master replaces
 *     its entry for that lock with the holder's view: the holder is the one acting on the lock.
 *     Then it sends {@link Message.RecoveryDone} to every member. Frames to one node are ordered,
 *     so a node that has every member's RecoveryDone for E has everything resent to it for E.
 * <li><b>Rebuild.</b> With every RecoveryDone in, a master settles what was resent
 *     ({@link MasterRole#finishRemaster}): value blocks of resources whose master died are rebuilt
 *     from the holders' copies (invalid unless a survivor's mode shows none could be newer), values
 *     lost with an unlock are published, conversions granted just before the change are granted
 *     again. It then sends {@link Message.RecoveryReady} to every member.
 * <li><b>Barrier.</b> With every member's RecoveryReady for E, every master has every lock for E:
 *     the node marks its resent locks confirmed and sends the requests it held back; masters
 *     queue them. For each member of {@code unrecovered} not yet marked recovered it calls the
 *     owner's recovery hook ({@link LockSpaceListener#nodeFailed}).
 * <li><b>Recovered.</b> The dead node's locks have not been released: its entries are still in
 *     the queues of resources mastered by survivors, and nothing at all is granted while the
 *     freeze lasts, so whatever it held on resources it mastered itself cannot be granted to
 *     anyone else either. Only when every unrecovered member has a recovered marker in ZooKeeper
 *     (written by {@link ClusterLockSpace#recovered}, after fencing and journal replay) does a node
 *     purge those members' entries (invalidating value blocks they held PW or EX on), thaw its
 *     masters, and grant again. A joining node goes through the same steps with nothing to wait for.
 * <li><b>Second failures.</b> A newer epoch arriving at any step restarts at step 2 for it. Work
 *     of the abandoned epoch is harmless: masters replace entries by the holder's view, resends of
 *     locks not yet confirmed are sent again, value blocks that went to a node that then died are
 *     rebuilt as in step 5. {@code unrecovered} accumulates across epochs, so a node that died
 *     during recovery is waited for too.
 * <li><b>Out.</b> A suspended ZooKeeper connection freezes grants and sends as in step 2 until it
 *     reconnects; a lost session, or an epoch without this node, ends its membership: every lock
 *     fails with {@link ExpelledException} and the owner is told to stop writing.
 * </ol>
 *
 * <h2>Concurrency</h2>
 * {@code phaseLock} orders holder and master work (read side, many at once) against the steps
 * above (write side). Steps run on the membership thread (epochs, markers) or a transport thread
 * (RecoveryDone, RecoveryReady); hooks and owner notices run on {@code notices}, never under the lock.
 */
final class LockSpaceRecovery {
    private static final System.Logger LOG = System.getLogger(LockSpaceRecovery.class.getName());

    enum Phase { JOINING, REMASTERING, AWAITING_RECOVERY, RUNNING, CLOSED }

    private final ClusterLockSpace space;
    private final ReentrantReadWriteLock phaseLock = new ReentrantReadWriteLock();

    // Written under the write lock; volatile so the hot path can look without it.
    private volatile long epoch;
    private volatile Phase phase = Phase.JOINING;
    private volatile boolean suspended;
    private volatile boolean frozen = true;
    private volatile Map<Long, Member> members = Map.of();
    private volatile Rendezvous masters;

    // Guarded by the write lock.
    private final Set<Long> doneFrom = new HashSet<>();
    private final Set<Long> readyFrom = new HashSet<>();
    private boolean sentReady;
    private List<Member> unrecovered = List.of();
    private Set<Long> recoveredMarks = Set.of();
    private final Set<Long> reported = new HashSet<>();
    private final List<PeerFrame> early = new ArrayList<>();
    private boolean everMember;

    record PeerFrame(String peer, Frame frame) {}

    LockSpaceRecovery(ClusterLockSpace space) {
        this.space = space;
    }

    ReentrantReadWriteLock.ReadLock readLock() {
        return phaseLock.readLock();
    }

    long epoch() {
        return epoch;
    }

    Phase phase() {
        return phase;
    }

    /** Masters must not grant (steps 2 and 9). */
    boolean frozen() {
        return frozen;
    }

    /** Holders may send new operations: the barrier of the current epoch was passed. */
    boolean canSend() {
        Phase p = phase;
        return (p == Phase.AWAITING_RECOVERY || p == Phase.RUNNING) && !suspended;
    }

    Member member(long incarnation) {
        return members.get(incarnation);
    }

    long masterOf(ResourceName resource) {
        return masters.master(resource);
    }

    // ---- membership events (membership thread) ----

    void epochChanged(EpochView view) {
        phaseLock.writeLock().lock();
        try {
            if (phase == Phase.CLOSED || view.epoch() <= epoch) {
                return;
            }
            long self = space.self().incarnation();
            boolean includesSelf = view.members().stream().anyMatch(m -> m.incarnation() == self);
            if (!includesSelf) {
                if (everMember) {
                    expel("epoch " + view.epoch() + " no longer lists this node");
                }
                return;
            }
            everMember = true;
            enter(view);
        } finally {
            phaseLock.writeLock().unlock();
        }
        space.flushAll();
    }

    void recoveredChanged(Set<Long> incarnations) {
        phaseLock.writeLock().lock();
        try {
            recoveredMarks = Set.copyOf(incarnations);
            maybeRun();
        } finally {
            phaseLock.writeLock().unlock();
        }
        space.flushAll();
    }

    void suspended() {
        phaseLock.writeLock().lock();
        try {
            if (phase == Phase.CLOSED) {
                return;
            }
            suspended = true;
            frozen = true;
        } finally {
            phaseLock.writeLock().unlock();
        }
        space.notice(LockSpaceListener::suspended);
    }

    void reconnected() {
        phaseLock.writeLock().lock();
        try {
            if (phase == Phase.CLOSED) {
                return;
            }
            suspended = false;
            if (phase == Phase.RUNNING) {
                frozen = false;
                space.master().thaw();
            }
        } finally {
            phaseLock.writeLock().unlock();
        }
        space.notice(LockSpaceListener::resumed);
        space.flushAll();
    }

    void lost(String why) {
        phaseLock.writeLock().lock();
        try {
            expel(why);
        } finally {
            phaseLock.writeLock().unlock();
        }
    }

    /** The lock space closes (the node leaves cleanly). */
    void close() {
        phaseLock.writeLock().lock();
        try {
            phase = Phase.CLOSED;
            frozen = true;
        } finally {
            phaseLock.writeLock().unlock();
        }
    }

    // ---- frames (transport thread) ----

    /**
     * Whether a lock frame is of the current epoch and from a member, sent over a connection that
     * authenticated as that member's node; the caller holds the read lock.
     */
    boolean current(String peer, Frame frame) {
        return frame.epoch() == epoch && fromMember(peer, frame) && phase != Phase.CLOSED;
    }

    private void logDropped(String peer, Frame frame) {
        Member claimed = members.get(frame.sender());
        if (claimed != null && !claimed.name().equals(peer)) {
            LOG.log(System.Logger.Level.WARNING, "refused " + frame + ": node " + peer + " claims incarnation "
                    + frame.sender() + ", which is " + claimed.name() + "'s");
        } else {
            LOG.log(System.Logger.Level.DEBUG, () -> "refused " + frame + " from " + peer + " at epoch " + epoch
                    + (claimed == null ? " (not from a member)" : ""));
        }
    }

    // Every node holds the cluster key, so the transport proves only that the peer is some node of
    // the cluster and which name it gave: the incarnation it claims must be that name's.
    private boolean fromMember(String peer, Frame frame) {
        Member sender = members.get(frame.sender());
        return sender != null && sender.name().equals(peer);
    }

    /** A recovery frame: acted on now if it is of the current epoch and from a member, held if newer. */
    void recoveryFrame(String peer, Frame frame) {
        phaseLock.writeLock().lock();
        try {
            if (frame.epoch() > epoch) {
                early.add(new PeerFrame(peer, frame));
                return;
            }
            if (frame.epoch() < epoch || !fromMember(peer, frame) || phase == Phase.CLOSED) {
                logDropped(peer, frame);
                return;
            }
            long from = frame.sender();
            switch (frame.message()) {
                case Message.Resend resend -> {
                    if (phase == Phase.REMASTERING) {
                        space.master().install(from, resend);
                    } else {
                        LOG.log(System.Logger.Level.WARNING, "resend " + resend + " from " + peer + " after the barrier of epoch " + epoch + "; dropped");
                    }
                }
                case Message.MasterState state -> {
                    if (phase == Phase.REMASTERING) {
                        space.master().takeOver(state);
                    }
                }
                case Message.RecoveryDone done -> {
                    doneFrom.add(from);
                    maybeReady();
                }
                case Message.RecoveryReady ready -> {
                    readyFrom.add(from);
                    maybePassBarrier();
                }
                default -> throw new IllegalArgumentException("not a recovery message: " + frame.message());
            }
        } finally {
            phaseLock.writeLock().unlock();
        }
        space.flushAll();
    }

    /**
     * A lock frame {@link #current} refused; called without the read lock. A newer one is held: it
     * cannot arrive while the protocol holds (a node sends lock frames only after a barrier every
     * member took part in), but holding it costs nothing. An older one is dropped.
     */
    void notCurrent(String peer, Frame frame) {
        boolean now;
        phaseLock.writeLock().lock();
        try {
            now = frame.epoch() == epoch && fromMember(peer, frame) && phase != Phase.CLOSED;
            if (frame.epoch() > epoch) {
                early.add(new PeerFrame(peer, frame));
            } else if (!now) {
                logDropped(peer, frame);
            }
        } finally {
            phaseLock.writeLock().unlock();
        }
        if (now) {
            space.dispatch(peer, frame);
        }
    }

    // ---- steps; all under the write lock ----

    private void enter(EpochView view) {
        long self = space.self().incarnation();
        Map<Long, Member> byIncarnation = new LinkedHashMap<>();
        view.members().forEach(m -> byIncarnation.put(m.incarnation(), m));
        Map<Long, Member> before = members;
        epoch = view.epoch();
        members = Map.copyOf(byIncarnation);
        masters = new Rendezvous(byIncarnation.keySet());
        phase = Phase.REMASTERING;
        frozen = true;
        doneFrom.clear();
        readyFrom.clear();
        sentReady = false;
        unrecovered = view.unrecovered();
        LOG.log(System.Logger.Level.INFO, "lock space " + space.name() + ": epoch " + epoch + ", members "
                + view.members().stream().map(Member::name).toList()
                + (unrecovered.isEmpty() ? "" : ", awaiting recovery of " + unrecovered.stream().map(Member::name).toList()));
        Set<String> liveNames = new HashSet<>();
        view.members().forEach(m -> liveNames.add(m.name()));
        before.values().stream().filter(m -> !liveNames.contains(m.name())).forEach(m -> space.forgetPeer(m.name()));

        // Step 3: hand off what moved; step 4: resend, then say done.
        space.master().beginRemaster(masters::master, self, node -> !members.containsKey(node),
                (to, state) -> space.sendRecovery(to, state));
        space.resendAll(masters);
        for (long member : members.keySet()) {
            space.sendRecovery(member, new Message.RecoveryDone());
        }
        replayEarly();
    }

    private void replayEarly() {
        List<PeerFrame> due = new ArrayList<>();
        early.removeIf(f -> {
            if (f.frame().epoch() < epoch) {
                return true;
            }
            if (f.frame().epoch() == epoch) {
                due.add(f);
                return true;
            }
            return false;
        });
        due.forEach(f -> space.dispatch(f.peer(), f.frame()));
    }

    private void maybeReady() {
        if (phase != Phase.REMASTERING || sentReady || !doneFrom.containsAll(members.keySet())) {
            return;
        }
        space.master().finishRemaster();
        sentReady = true;
        for (long member : members.keySet()) {
            space.sendRecovery(member, new Message.RecoveryReady());
        }
        maybePassBarrier();
    }

    private void maybePassBarrier() {
        if (phase != Phase.REMASTERING || !sentReady || !readyFrom.containsAll(members.keySet())) {
            return;
        }
        space.confirmAll();
        phase = Phase.AWAITING_RECOVERY;
        for (Member gone : unrecovered) {
            if (!recoveredMarks.contains(gone.incarnation()) && reported.add(gone.incarnation())) {
                long at = epoch;
                space.notice(listener -> listener.nodeFailed(gone, at));
            }
        }
        maybeRun();
    }

    private void maybeRun() {
        if (phase != Phase.AWAITING_RECOVERY) {
            return;
        }
        Set<Long> waiting = new HashSet<>();
        unrecovered.forEach(m -> waiting.add(m.incarnation()));
        if (!recoveredMarks.containsAll(waiting)) {
            return;
        }
        // Every entry of a node that is not a member now goes: those in `unrecovered` are marked
        // recovered, and any other was marked before this epoch was written (its marker can land
        // while this node is still remastering an earlier epoch that listed it).
        Map<Long, Member> now = members;
        space.master().purge(node -> !now.containsKey(node));
        if (!waiting.isEmpty()) {
            LOG.log(System.Logger.Level.INFO, "lock space " + space.name() + ": recovery of "
                    + unrecovered.stream().map(Member::name).toList() + " done; their locks are released");
        }
        phase = Phase.RUNNING;
        if (!suspended) {
            frozen = false;
            space.master().thaw();
        }
    }

    private void expel(String why) {
        if (phase == Phase.CLOSED) {
            return;
        }
        phase = Phase.CLOSED;
        frozen = true;
        space.expelled(why);
    }
}
