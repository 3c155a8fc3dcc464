package io.concord.dlm.membership;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.WatcherRemoveCuratorFramework;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.curator.framework.imps.CuratorFrameworkState;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;

/**
 * One node's membership of one lock space, kept in ZooKeeper. The hot path never comes here: this
 * class only joins, leaves, agrees on epochs, hands out journal slots and records recoveries.
 *
 * <h2>The protocol</h2>
 * Znode layout and formats: {@link LockSpacePaths}, {@link MemberZnode}, {@link EpochZnode},
 * {@link SlotClaim}.
 * <ol>
 * <li><b>Join.</b> A node creates the EPHEMERAL {@code members/<node>}. Its creation zxid is the
 *     node's <em>incarnation</em>: unique, never reused, and increasing with time, so the oldest
 *     live member has the lowest one. A second live member of the same name is refused.
 * <li><b>Coordinator.</b> The live member with the lowest incarnation. It is a function of the
 *     member set, so no election is needed: when it dies its successor is the next oldest, which
 *     sees the death through its own watch on {@code members}.
 * <li><b>Epochs.</b> Whenever the coordinator sees {@code members} differ from the members of the
 *     {@code epoch} znode, it writes epoch+1 with a compare-and-set on the znode version (or a
 *     create, for epoch 1). Each epoch is therefore derived from exactly its predecessor and no
 *     epoch number is ever written twice. A would-be coordinator that read a stale member list
 *     either loses the CAS (and re-reads) or writes an epoch that its own watch on {@code members}
 *     corrects straight after: every reconcile reads {@code members} (arming the watch) before
 *     {@code epoch}, so any change after that read triggers another round. Intermediate epochs
 *     may thus name a member that is already gone; the next one moves it to unrecovered.
 * <li><b>Unrecovered.</b> Members that were in an epoch and are no longer live must have their
 *     journal replayed and their locks purged before anyone relies on what they held:
 *     {@code next.unrecovered = (prev.unrecovered ∪ (prev.members − live)) − recovered}. A node
 *     that joined and died before any epoch named it never appears: the DLM must not grant a node
 *     anything before it has seen itself in an epoch, so such a node cannot have dirtied anything.
 * <li><b>Recovery.</b> The survivor that replays a dead incarnation's journal calls
 *     {@link #markRecovered}, creating {@code recovered/<incarnation>}. That does not bump the
 *     epoch; every member learns it through {@link MembershipListener#recoveredChanged}, and the
 *     next epoch drops the incarnation from unrecovered. Markers are never pruned: they are a few
 *     bytes per death, and journal slot claims depend on them (below).
 * <li><b>Journal slots</b> ({@link JournalSlots}). {@code slots/<jid>} is PERSISTENT and names
 *     its owner's incarnation, so that a dead node's journal stays claimed, and findable by
 *     survivors, until it is replayed. A claim may replace an existing one only if its owner is not
 *     live <em>and</em> is marked recovered; the replacement is a CAS on the znode version.
 * <li><b>Clean leave.</b> {@link #close} marks this incarnation recovered (its journal is clean,
 *     by contract), then releases its slot, then deletes its member znode — in that order, so a
 *     crash half-way never leaves a dead incarnation whose journal nobody can find. A node that
 *     cannot promise a clean journal (withdrawn, I/O errors) must not call {@code close}: it should
 *     close its CuratorFramework instead, ending the session and leaving recovery to survivors.
 * <li><b>Access.</b> Every znode is created with the ACL given to the constructor (parents
 *     included): {@link #CREATOR_ONLY} when the cluster's clients authenticate with a shared digest
 *     identity, so other ZooKeeper users can neither read nor forge membership state. Only the
 *     shared {@code /concord} root is left world-readable and world-creatable, so clusters with
 *     different credentials can share an ensemble.
 * <li><b>Loss.</b> Curator reporting LOST, or our session id having changed, or our member znode
 *     having vanished, all mean this incarnation is over: we stop, report {@code lost} once, and
 *     never re-register. Rejoining is a new {@code ZkMembership}, hence a new incarnation.
 * </ol>
 *
 * <h2>Threads</h2>
 * Watches and connection events only queue work. All ZooKeeper reads and epoch writes after
 * {@link #join} run on one <em>reconcile</em> thread, one round at a time, so rounds never race
 * each other within a node; repeated triggers while a round is queued collapse into that round.
 * Every listener call runs on one <em>delivery</em> thread, in the order queued. {@link #lock}
 * guards {@link #state}, {@link #self} and {@link #slot}; a delivery is queued while holding it, so
 * once {@code lost} or {@code close} has changed the state nothing more is queued. Callers'
 * threads run {@link #join}, {@link #markRecovered}, the slot calls and {@link #close}.
 */
public final class ZkMembership implements Membership {
    private static final System.Logger LOG = System.getLogger(ZkMembership.class.getName());

    /** ACL for a client that authenticated with digest credentials: only that identity may touch. */
    public static final List<ACL> CREATOR_ONLY = ZooDefs.Ids.CREATOR_ALL_ACL;
    /** ACL for a cluster without ZooKeeper authentication. */
    public static final List<ACL> OPEN = ZooDefs.Ids.OPEN_ACL_UNSAFE;

    /** Bounds how long close() waits for our threads; a stuck listener must not hang unmount. */
    private static final Duration THREAD_STOP_WAIT = Duration.ofSeconds(5);
    /** After an unexpected failure a reconcile is retried after this long, not in a hot loop. */
    private static final Duration RETRY_DELAY = Duration.ofMillis(500);
    /** How long join waits for a connection to the process registered under its name. */
    private static final Duration HOLDER_PROBE_TIMEOUT = Duration.ofMillis(500);
    /** CAS losses in one round before yielding the thread; each loss means someone else progressed. */
    private static final int MAX_ROUNDS = 32;

    private enum State { NEW, JOINED, LOST, CLOSED }

    private final CuratorFramework client;
    private final WatcherRemoveCuratorFramework zk;
    private final LockSpacePaths paths;
    private final String name;
    private final InetSocketAddress address;
    private final MembershipListener listener;
    private final List<ACL> acl;
    private final JournalSlots slots;
    private final ScheduledExecutorService reconciler;
    private final ExecutorService delivery;
    private final AtomicBoolean reconcileQueued = new AtomicBoolean();
    private final AtomicLong epochsWritten = new AtomicLong();
    private final CuratorWatcher watcher = event -> queueReconcile();
    private final ConnectionStateListener connectionListener = (c, s) -> connectionStateChanged(s);

    private volatile Thread deliveryThread;

    private final Object lock = new Object();
    private State state = State.NEW;
    private Member self;
    private long sessionId;
    private int slot = -1;

    // Reconcile thread only.
    private long reportedEpoch;
    private SortedSet<Long> reportedRecovered = Collections.emptySortedSet();

    /** Membership without ZooKeeper ACLs ({@link #OPEN}). */
    public ZkMembership(CuratorFramework client, String cluster, String fs, String node,
                        InetSocketAddress address, MembershipListener listener) {
        this(client, cluster, fs, node, address, listener, OPEN);
    }

    /**
     * @param client   started, and owned by the caller (close does not close it)
     * @param acl      the ACL of every znode this creates, parents included: {@link #CREATOR_ONLY}
     *                 when the client was built with {@code .authorization("digest", ...)}
     */
    public ZkMembership(CuratorFramework client, String cluster, String fs, String node,
                        InetSocketAddress address, MembershipListener listener, List<ACL> acl) {
        this.client = Objects.requireNonNull(client, "client");
        this.zk = client.newWatcherRemoveCuratorFramework();
        this.paths = new LockSpacePaths(cluster, fs);
        this.name = LockSpacePaths.checkName("node", node);
        this.address = ZnodeText.address(ZnodeText.address(Objects.requireNonNull(address, "address")), "node address");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.acl = List.copyOf(acl);
        if (this.acl.isEmpty()) {
            throw new IllegalArgumentException("an empty ACL would make the znodes unusable");
        }
        this.slots = new JournalSlots(zk, paths, this.acl);
        String id = paths + "/" + node;
        this.reconciler = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("concord-membership-" + id).factory());
        ThreadFactory listenerThreads = Thread.ofPlatform().daemon().name("concord-membership-listener-" + id).factory();
        this.delivery = Executors.newSingleThreadExecutor(r -> deliveryThread = listenerThreads.newThread(r));
    }

    /**
     * Registers this node in the lock space and starts watching it.
     *
     * @return this node as the epochs will name it
     * @throws MembershipException if a live member of the same name exists, or ZooKeeper fails
     */
    public Member join() {
        return join(java.time.Duration.ZERO);
    }

    /**
     * {@link #join()}, but if a member of this name is still registered by another session (this
     * node's previous life, crashed and restarted before ZooKeeper expired its session), waits up
     * to {@code staleWait} for that registration to go, as it will when the old session expires.
     * The old incarnation then counts as departed and awaits recovery like any dead node. A
     * registration whose process still answers at its address is another live process, not a
     * previous life: that is refused at once, without the wait.
     */
    public Member join(java.time.Duration staleWait) {
        synchronized (lock) {
            if (state != State.NEW) {
                throw new MembershipException(this + ": join() is allowed once, state is " + state);
            }
        }
        // Registered before the create; events before the join completes are dropped, and a session
        // lost in between is caught by the first reconcile's session check.
        client.getConnectionStateListenable().addListener(connectionListener);
        Member me;
        long session;
        try {
            ensureSharedRoot();
            ensurePersistent(paths.recovered());
            ensurePersistent(paths.slots());
            session = client.getZookeeperClient().getZooKeeper().getSessionId();
            Stat stat = new Stat();
            long deadline = System.nanoTime() + staleWait.toNanos();
            while (true) {
                try {
                    zk.create().storingStatIn(stat).creatingParentsIfNeeded().withMode(CreateMode.EPHEMERAL)
                            .withACL(acl, true).forPath(paths.member(name), new MemberZnode(name, address).encode());
                    break;
                } catch (KeeperException.NodeExistsException e) {
                    Stat existing = zk.checkExists().forPath(paths.member(name));
                    // A create retried after a lost reply finds its own znode: that is ours, not a duplicate.
                    if (existing != null && existing.getEphemeralOwner() == session) {
                        stat = existing;
                        break;
                    }
                    String answering = existing == null ? null : answeringHolder();
                    if (answering != null) {
                        throw new MembershipException("node " + name + " is already a live member of lock space " + paths
                                + " (incarnation " + existing.getCzxid() + ", answering at " + answering
                                + "): another process holds this node name", e);
                    }
                    if (System.nanoTime() - deadline >= 0) {
                        throw new MembershipException("node " + name + " is already a live member of lock space "
                                + paths + (existing == null ? "" : " (incarnation " + existing.getCzxid() + ")"), e);
                    }
                    Thread.sleep(200); // the old session's expiry removes it; nothing to watch for cheaper
                }
            }
            me = new Member(name, stat.getCzxid(), address);
        } catch (MembershipException e) {
            client.getConnectionStateListenable().removeListener(connectionListener);
            throw e;
        } catch (Exception e) {
            client.getConnectionStateListenable().removeListener(connectionListener);
            throw new MembershipException(this + ": join failed", e);
        }
        synchronized (lock) {
            if (state != State.NEW) {
                // Closed while joining: leave behind nothing a survivor would have to recover.
                bestEffort("undo join", () -> zk.delete().guaranteed().forPath(paths.member(name)));
                throw new MembershipException(this + ": closed during join");
            }
            state = State.JOINED;
            self = me;
            sessionId = session;
        }
        LOG.log(System.Logger.Level.INFO, "{0}: joined as incarnation {1}", this, String.valueOf(me.incarnation()));
        queueReconcile();
        return me;
    }

    /**
     * The address of the process registered under our name, if it still accepts connections there
     * and is not where we ourselves listen; otherwise null. A node that restarted before ZooKeeper
     * expired its old session finds that registration pointing at a dead process (nothing listens,
     * or it is our own address, which we could bind only because the old process is gone), and
     * waits for the expiry; a live process under the same name answers, and waiting for it would
     * only delay the refusal by the whole stale wait.
     */
    private String answeringHolder() {
        InetSocketAddress held;
        try {
            held = MemberZnode.decode(zk.getData().forPath(paths.member(name))).address();
        } catch (Exception goneOrUnreadable) {
            return null;
        }
        if (held.equals(address) || held.isUnresolved()) {
            return null;
        }
        try (java.net.Socket probe = new java.net.Socket()) {
            probe.connect(held, (int) HOLDER_PROBE_TIMEOUT.toMillis());
            return ZnodeText.address(held);
        } catch (java.io.IOException nobodyThere) {
            return null;
        }
    }

    /**
     * Records that {@code incarnation}'s journal has been replayed and its locks purged. Idempotent.
     * Marking our own incarnation declares our journal clean; {@link #close} does that.
     *
     * @throws MembershipException if the incarnation belongs to another live member
     */
    public void markRecovered(long incarnation) {
        Member me = requireJoined();
        try {
            if (incarnation != me.incarnation()) {
                for (String child : zk.getChildren().forPath(paths.members())) {
                    Stat s = zk.checkExists().forPath(paths.member(child));
                    if (s != null && s.getCzxid() == incarnation) {
                        throw new MembershipException("incarnation " + incarnation + " is live member "
                                + child + " of " + paths + ": it cannot be marked recovered");
                    }
                }
            }
            ensurePersistent(paths.recovered(incarnation));
        } catch (MembershipException e) {
            throw e;
        } catch (Exception e) {
            throw new MembershipException(this + ": marking incarnation " + incarnation + " recovered failed", e);
        }
    }

    /**
     * Claims the lowest free journal slot in {@code [0, slotCount)}. A slot is free if unclaimed,
     * already ours, or claimed by an incarnation that is dead and marked recovered.
     *
     * @return the journal id
     * @throws MembershipException if every slot is taken (the message says by whom)
     */
    public int claimJournalSlot(int slotCount) {
        if (slotCount <= 0) {
            throw new IllegalArgumentException("slot count must be positive: " + slotCount);
        }
        Member me = requireJoined();
        synchronized (lock) {
            if (slot >= 0 && slot < slotCount) {
                return slot;
            }
        }
        List<String> holders = new ArrayList<>();
        for (int jid = 0; jid < slotCount; jid++) {
            String holder = claim(jid, me);
            if (holder == null) {
                return claimed(jid);
            }
            holders.add(jid + ": " + holder);
        }
        throw new MembershipException("no free journal slot among " + slotCount + " in " + paths + " for "
                + name + " (" + String.join("; ", holders) + ")");
    }

    /**
     * Claims journal slot {@code wanted}.
     *
     * @throws MembershipException if another live member, or a dead one not yet recovered, holds it
     */
    public int claimJournalSlot(int slotCount, int wanted) {
        if (wanted < 0 || wanted >= slotCount) {
            throw new IllegalArgumentException("journal slot " + wanted + " is outside [0, " + slotCount + ")");
        }
        Member me = requireJoined();
        synchronized (lock) {
            if (slot >= 0 && slot != wanted) {
                throw new MembershipException(name + " already holds journal slot " + slot
                        + "; release it before claiming " + wanted);
            }
        }
        String holder = claim(wanted, me);
        if (holder != null) {
            throw new MembershipException("journal slot " + wanted + " of " + paths + " is " + holder);
        }
        return claimed(wanted);
    }

    /**
     * The journal slot that {@code incarnation} claimed, if its claim still stands: for a survivor
     * about to replay a dead member's journal (epochs name members, not journals).
     */
    public OptionalInt journalSlotOf(long incarnation) {
        requireJoined();
        try {
            return slots.slotOf(incarnation);
        } catch (Exception e) {
            throw new MembershipException(this + ": reading the journal slot claims failed", e);
        }
    }

    /** The journal slot this node holds, or -1. */
    public int journalSlot() {
        synchronized (lock) {
            return slot;
        }
    }

    /** Gives up our journal slot; only on a clean leave, when our journal needs no replay. */
    public void releaseJournalSlot() {
        Member me;
        int jid;
        synchronized (lock) {
            me = self;
            jid = slot;
            slot = -1;
        }
        if (me == null || jid < 0) {
            return;
        }
        try {
            if (!slots.release(jid, me)) {
                LOG.log(System.Logger.Level.WARNING, "{0}: journal slot {1} was no longer ours to release", this, jid);
            }
        } catch (Exception e) {
            throw new MembershipException(this + ": releasing journal slot " + jid + " failed", e);
        }
    }

    /**
     * Leaves cleanly: marks this incarnation recovered, releases the journal slot, deletes the
     * member znode, stops the threads. Call only with a clean journal (see the class comment).
     * Idempotent; after a loss it only stops the threads. Does not close the CuratorFramework.
     */
    @Override
    public void close() {
        close(true);
    }

    /**
     * Leaves without declaring this node's journal clean: the member znode goes, so the others see
     * a departure, but no recovered marker is written and the journal slot stays claimed, so they
     * recover this incarnation as they would a dead one. For a node that could not release its
     * locks or cannot vouch for its journal.
     */
    @Override
    public void closeUnclean() {
        close(false);
    }

    private void close(boolean clean) {
        boolean leave;
        Member me;
        synchronized (lock) {
            if (state == State.CLOSED) {
                return;
            }
            leave = state == State.JOINED;
            me = self;
            state = State.CLOSED;
        }
        client.getConnectionStateListenable().removeListener(connectionListener);
        // The reconcile thread stops first, so it cannot write an epoch naming us after we left.
        reconciler.shutdownNow();
        awaitStop(reconciler, "reconcile");
        if (client.getState() == CuratorFrameworkState.STARTED) {
            zk.removeWatchers();
        }
        if (leave && !sameSession()) {
            // Curator replaced an expired session before its LOST reached us: we are already out,
            // and declaring our journal clean now would skip a recovery the survivors may need.
            LOG.log(System.Logger.Level.WARNING, "{0}: session was replaced; leaving without touching ZooKeeper", this);
            leave = false;
        }
        if (leave) {
            if (clean) {
                bestEffort("mark own incarnation recovered", () -> ensurePersistent(paths.recovered(me.incarnation())));
                bestEffort("release journal slot", this::releaseJournalSlot);
            }
            bestEffort("delete member znode", () -> zk.delete().forPath(paths.member(name)));
            LOG.log(System.Logger.Level.INFO, "{0}: left incarnation {1}{2}", this, String.valueOf(me.incarnation()),
                    clean ? "" : ", to be recovered by the others");
        }
        delivery.shutdown();
        if (Thread.currentThread() != deliveryThread) { // a listener may close us from lost()
            awaitStop(delivery, "listener");
        }
    }

    @Override
    public String toString() {
        return "membership " + paths + "/" + name;
    }

    /** How many epochs this node has written as coordinator. */
    long epochsWritten() {
        return epochsWritten.get();
    }

    // ---- reconcile: the only place epochs are read and written ----

    private void queueReconcile() {
        if (reconcileQueued.compareAndSet(false, true)) {
            try {
                reconciler.execute(this::reconcile);
            } catch (RejectedExecutionException stopped) {
                reconcileQueued.set(false);
            }
        }
    }

    private void reconcile() {
        reconcileQueued.set(false);
        long joinedSession;
        Member me;
        synchronized (lock) {
            if (state != State.JOINED) {
                return;
            }
            joinedSession = sessionId;
            me = self;
        }
        try {
            for (int round = 0; round < MAX_ROUNDS; round++) {
                if (reconcileRound(me, joinedSession)) {
                    return;
                }
            }
            queueReconcile();
        } catch (KeeperException.ConnectionLossException | KeeperException.SessionExpiredException e) {
            // RECONNECTED queues the next round; LOST ends us.
            LOG.log(System.Logger.Level.DEBUG, "{0}: reconcile interrupted by {1}", this, e.code());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            if (client.getState() == CuratorFrameworkState.STOPPED) {
                lose("the ZooKeeper client was closed");
            } else if (isJoined()) {
                LOG.log(System.Logger.Level.WARNING, this + ": reconcile failed; retrying", e);
                try {
                    reconciler.schedule(this::queueReconcile, RETRY_DELAY.toMillis(), TimeUnit.MILLISECONDS);
                } catch (RejectedExecutionException stopped) {
                    // closing
                }
            }
        }
    }

    /** One read-compare-write round; false if our epoch write lost its CAS and we must re-read. */
    private boolean reconcileRound(Member me, long joinedSession) throws Exception {
        if (client.getState() == CuratorFrameworkState.STOPPED) {
            // Curator posts no LOST when its owner closes it, yet the session is gone all the same.
            lose("the ZooKeeper client was closed");
            return true;
        }
        long session = client.getZookeeperClient().getZooKeeper().getSessionId();
        if (session != joinedSession) {
            lose("ZooKeeper session 0x" + Long.toHexString(joinedSession) + " was replaced by 0x"
                    + Long.toHexString(session));
            return true;
        }
        // Members first: the watch it arms covers every change after this read (see the class comment).
        SortedMap<Long, Member> live = readMembers();
        if (!live.containsKey(me.incarnation())) {
            lose("member znode " + paths.member(name) + " of incarnation " + me.incarnation() + " is gone");
            return true;
        }
        SortedSet<Long> recovered = readRecovered();
        StoredEpoch current = readEpoch();
        boolean coordinator = live.firstKey() == me.incarnation();
        if (coordinator && (current == null || !current.memberIncarnations().equals(live.keySet()))) {
            EpochView next = nextEpoch(current == null ? null : current.view(), live, recovered);
            if (!writeEpoch(current, next)) {
                return false;
            }
            epochsWritten.incrementAndGet();
            LOG.log(System.Logger.Level.INFO, "{0}: wrote epoch {1}: members {2}, unrecovered {3}", this,
                    String.valueOf(next.epoch()), names(next.members()), names(next.unrecovered()));
            current = new StoredEpoch(next, current == null ? 0 : current.version() + 1);
        }
        publish(current, recovered);
        return true;
    }

    /** Live members by incarnation, ascending; arms the watch on {@code members}. */
    private SortedMap<Long, Member> readMembers() throws Exception {
        TreeMap<Long, Member> live = new TreeMap<>();
        for (String child : zk.getChildren().usingWatcher(watcher).forPath(paths.members())) {
            Stat stat = new Stat();
            try {
                byte[] data = zk.getData().storingStatIn(stat).forPath(paths.member(child));
                MemberZnode znode = MemberZnode.decode(data);
                live.put(stat.getCzxid(), new Member(child, stat.getCzxid(), znode.address()));
            } catch (KeeperException.NoNodeException leftMeanwhile) {
                // The children watch has fired for it; the next round sees the new set.
            }
        }
        return live;
    }

    private SortedSet<Long> readRecovered() throws Exception {
        SortedSet<Long> recovered = new TreeSet<>();
        for (String child : zk.getChildren().usingWatcher(watcher).forPath(paths.recovered())) {
            try {
                recovered.add(Long.parseLong(child));
            } catch (NumberFormatException e) {
                LOG.log(System.Logger.Level.WARNING, "{0}: ignoring stray znode {1}/{2}", this, paths.recovered(), child);
            }
        }
        return recovered;
    }

    private record StoredEpoch(EpochView view, int version) {
        Set<Long> memberIncarnations() {
            return view.members().stream().map(Member::incarnation).collect(Collectors.toSet());
        }
    }

    /** The epoch znode, or null if there is none yet; arms a watch on it either way. */
    private StoredEpoch readEpoch() throws Exception {
        while (true) {
            Stat stat = new Stat();
            try {
                byte[] data = zk.getData().storingStatIn(stat).usingWatcher(watcher).forPath(paths.epoch());
                return new StoredEpoch(EpochZnode.decode(data), stat.getVersion());
            } catch (KeeperException.NoNodeException e) {
                // getData on a missing znode arms no watch; exists does.
                if (zk.checkExists().usingWatcher(watcher).forPath(paths.epoch()) == null) {
                    return null;
                }
            }
        }
    }

    static EpochView nextEpoch(EpochView previous, Map<Long, Member> live, Set<Long> recovered) {
        Map<Long, Member> unrecovered = new TreeMap<>();
        if (previous != null) {
            for (Member m : previous.unrecovered()) {
                unrecovered.put(m.incarnation(), m);
            }
            for (Member m : previous.members()) {
                if (!live.containsKey(m.incarnation())) {
                    unrecovered.put(m.incarnation(), m);
                }
            }
        }
        unrecovered.keySet().removeAll(recovered);
        unrecovered.keySet().removeAll(live.keySet());
        List<Member> members = live.values().stream().sorted(Comparator.comparingLong(Member::incarnation)).toList();
        return new EpochView(previous == null ? 1 : previous.epoch() + 1, members, List.copyOf(unrecovered.values()));
    }

    private boolean writeEpoch(StoredEpoch current, EpochView next) throws Exception {
        byte[] data = EpochZnode.encode(next);
        try {
            if (current == null) {
                zk.create().creatingParentsIfNeeded().withMode(CreateMode.PERSISTENT).withACL(acl, true)
                        .forPath(paths.epoch(), data);
            } else {
                zk.setData().withVersion(current.version()).forPath(paths.epoch(), data);
            }
            return true;
        } catch (KeeperException.NodeExistsException | KeeperException.BadVersionException
                 | KeeperException.NoNodeException lostRace) {
            return false;
        }
    }

    private void publish(StoredEpoch current, SortedSet<Long> recovered) {
        if (!recovered.equals(reportedRecovered)) {
            SortedSet<Long> copy = Collections.unmodifiableSortedSet(new TreeSet<>(recovered));
            reportedRecovered = copy;
            deliver(l -> l.recoveredChanged(copy));
        }
        if (current != null && current.view().epoch() > reportedEpoch) {
            EpochView view = current.view();
            reportedEpoch = view.epoch();
            deliver(l -> l.epochChanged(view));
        }
    }

    // ---- connection state and delivery ----

    private void connectionStateChanged(ConnectionState newState) {
        switch (newState) {
            case SUSPENDED -> deliver(MembershipListener::suspended);
            case RECONNECTED -> {
                deliver(MembershipListener::reconnected);
                // Watches may have fired while we were away, or our session may be a new one.
                queueReconcile();
            }
            case LOST -> lose("ZooKeeper session lost (expired, or unreachable past its timeout)");
            default -> { }
        }
    }

    private void deliver(Consumer<MembershipListener> call) {
        synchronized (lock) {
            if (state == State.JOINED) {
                delivery.execute(() -> invoke(call));
            }
        }
    }

    private void invoke(Consumer<MembershipListener> call) {
        try {
            call.accept(listener);
        } catch (RuntimeException e) {
            // A listener bug must not take the delivery thread, and every later event, with it.
            LOG.log(System.Logger.Level.ERROR, this + ": membership listener failed", e);
        }
    }

    private void lose(String why) {
        synchronized (lock) {
            if (state != State.JOINED) {
                return;
            }
            state = State.LOST;
            delivery.execute(() -> invoke(l -> l.lost(why)));
        }
        LOG.log(System.Logger.Level.WARNING, "{0}: out of the lock space: {1}", this, why);
        client.getConnectionStateListenable().removeListener(connectionListener);
        reconciler.shutdown();
        delivery.shutdown();
    }

    // ---- helpers ----

    private String claim(int jid, Member me) {
        try {
            return slots.tryClaim(jid, me);
        } catch (MembershipException e) {
            throw e;
        } catch (Exception e) {
            throw new MembershipException(this + ": claiming journal slot " + jid + " failed", e);
        }
    }

    private int claimed(int jid) {
        synchronized (lock) {
            slot = jid;
        }
        LOG.log(System.Logger.Level.INFO, "{0}: claimed journal slot {1}", this, jid);
        return jid;
    }

    private Member requireJoined() {
        synchronized (lock) {
            if (state != State.JOINED) {
                throw new MembershipException(this + " is not joined (state " + state + ")");
            }
            return self;
        }
    }

    private boolean sameSession() {
        long joined;
        synchronized (lock) {
            joined = sessionId;
        }
        try {
            return client.getZookeeperClient().getZooKeeper().getSessionId() == joined;
        } catch (Exception e) {
            return false;
        }
    }

    private boolean isJoined() {
        synchronized (lock) {
            return state == State.JOINED;
        }
    }

    /**
     * {@code /concord} is shared by every cluster on the ensemble, each perhaps with its own
     * credentials: whoever creates it first must not lock the others out, so under a restrictive
     * ACL it is world-readable and world-creatable, and the restriction starts one level down.
     */
    private void ensureSharedRoot() throws Exception {
        List<ACL> rootAcl = acl.equals(OPEN) ? OPEN
                : List.of(new ACL(ZooDefs.Perms.READ | ZooDefs.Perms.CREATE, ZooDefs.Ids.ANYONE_ID_UNSAFE));
        try {
            zk.create().withMode(CreateMode.PERSISTENT).withACL(rootAcl).forPath(LockSpacePaths.ROOT);
        } catch (KeeperException.NodeExistsException alreadyThere) {
            // Another cluster, or an earlier member of ours, made it.
        }
    }

    private void ensurePersistent(String path) throws Exception {
        try {
            zk.create().creatingParentsIfNeeded().withMode(CreateMode.PERSISTENT).withACL(acl, true).forPath(path);
        } catch (KeeperException.NodeExistsException alreadyThere) {
            // Idempotent by design.
        }
    }

    private interface ZkAction {
        void run() throws Exception;
    }

    private void bestEffort(String what, ZkAction action) {
        try {
            action.run();
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, this + ": could not " + what, e);
        }
    }

    private void awaitStop(ExecutorService executor, String which) {
        try {
            if (!executor.awaitTermination(THREAD_STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.log(System.Logger.Level.WARNING, "{0}: {1} thread did not stop within {2}", this, which,
                        THREAD_STOP_WAIT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String names(List<Member> members) {
        return members.stream().map(m -> m.name() + "@" + m.incarnation()).collect(Collectors.joining(",", "[", "]"));
    }

}
