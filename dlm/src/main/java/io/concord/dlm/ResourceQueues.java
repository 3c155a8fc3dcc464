package io.concord.dlm;

import static java.util.Objects.requireNonNull;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The lock queues and value block of one resource: the grant engine of the DLM, free of any
 * transport. {@link NoLockManager} runs it in-process; the distributed lock manager will run one
 * per resource on that resource's master node, with {@link HolderId}s naming remote locks.
 *
 * <h2>Rules (after fs/dlm/lock.c: _can_be_granted, grant_pending_locks, send_blocking_asts)</h2>
 * <ol>
 * <li>Each lock is on exactly one queue. A <em>granted</em> lock holds a mode; a <em>converting</em>
 *     lock holds a mode and wants another; a <em>waiting</em> lock holds nothing yet. The
 *     <em>holders</em> are the granted and converting locks: every held mode counts against every
 *     request. Invariant: all held modes are pairwise compatible.
 * <li>A new request is granted at once only if it is compatible with every holder and both the
 *     convert and wait queues are empty; otherwise it joins the tail of the wait queue. That FIFO
 *     is what keeps a stream of readers from starving a writer.
 * <li>A conversion is granted at once if it is compatible with every other holder; so a
 *     down-conversion always is (see {@link LockMode#covers}). Otherwise it joins the tail of the
 *     convert queue, unless a conversion already queued wants a mode incompatible with this lock's
 *     held mode: the two would wait for each other, so this one fails with
 *     {@link ConversionDeadlockException} and keeps its grant.
 * <li>After every change the queues are re-examined: the convert queue first, then, only if it is
 *     empty, the wait queue; each from its head, stopping at the first lock that still cannot be
 *     granted. Invariant: between operations, the head of each queue is not grantable.
 * <li>Blocking ASTs: every granted lock whose mode is incompatible with some queued request is
 *     told the strongest such mode, once per grant, and again only if a stronger mode is queued
 *     later; every grant (conversions included) starts a new episode. A converting lock is told
 *     when its conversion is granted, as in the kernel, not while it waits.
 * <li>Value block: every grant reads the resource's value block. A PW or EX holder may stage a
 *     value; it is published, sequence + 1, when that holder converts below PW or unlocks (before
 *     the holder reads, so it reads its own value). {@link #invalidateValueBlock()} marks it stale
 *     until the next publication.
 * </ol>
 *
 * <h2>Concurrency</h2>
 * All queue state is guarded by {@code mutex}, which is a leaf: nothing else is locked while it is
 * held, and no caller code runs under it. Each operation, under the mutex, appends the grants,
 * failures and BASTs it causes to {@code outbox} in the order they happen; then, with the mutex
 * released, {@link #deliver()} runs them. One thread at a time delivers for a resource, so a
 * holder always sees its grant before a BAST aimed at that grant. A callback that calls back into
 * this engine (a BAST handler that unlocks) appends more work, which the same delivering loop runs
 * after the callback returns. So callers must hold no lock a callback might need, and callbacks
 * and future stages must not block on another grant of this resource: its delivery may be queued
 * behind them. Lock order, outermost first: caller's locks, then {@code mutex}; the outbox and the
 * {@code delivering} flag are lock-free.
 *
 * <h2>Retirement</h2>
 * An owner that keeps one engine per resource in a map may drop an engine that is
 * {@linkplain #retireIfUnused() unused}: no locks and the initial value block. Retirement is
 * atomic with that check; afterwards {@link #request} and {@link #invalidateValueBlock()} throw
 * {@link Retired}, telling the caller to look the resource up again (see {@link ResourceTable}); so do
 * {@link #install} and {@link #takeValueBlock}.
 * The other operations need an existing lock, which a retired engine does not have.
 */
final class ResourceQueues {
    private static final System.Logger LOG = System.getLogger(ResourceQueues.class.getName());

    private final ResourceName resource;
    // While it answers true, nothing is granted that another holder could notice: new requests and
    // conversions to modes not covered by the held one queue, and no BASTs are sent. Releases and
    // down-conversions still go through (they only weaken). The distributed manager freezes its
    // masters during recovery; the single-node manager never does.
    private final java.util.function.BooleanSupplier frozen;
    private final ReentrantLock mutex = new ReentrantLock();
    // Guarded by mutex.
    private final Map<HolderId, Entry> entries = new HashMap<>();
    private final List<Entry> granted = new ArrayList<>();
    private final Deque<Entry> converting = new ArrayDeque<>();
    private final Deque<Entry> waiting = new ArrayDeque<>();
    private LockValueBlock valueBlock = LockValueBlock.EMPTY;
    private boolean retired;
    // Appended under mutex, run outside it.
    private final Queue<Runnable> outbox = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean delivering = new AtomicBoolean();

    ResourceQueues(ResourceName resource) {
        this(resource, () -> false);
    }

    ResourceQueues(ResourceName resource, java.util.function.BooleanSupplier frozen) {
        this.resource = requireNonNull(resource, "resource");
        this.frozen = requireNonNull(frozen, "frozen");
    }

    ResourceName resource() {
        return resource;
    }

    /**
     * A first request by {@code holder}, which must have no lock here.
     *
     * @param onBlocking receives this lock's BASTs (the wanted mode)
     * @throws Retired if this engine was retired
     */
    CompletableFuture<LockMode> request(HolderId holder, LockMode mode, boolean noQueue, Consumer<LockMode> onBlocking) {
        return request(holder, mode, noQueue, onBlocking, null);
    }

    /**
     * {@link #request(HolderId, LockMode, boolean, Consumer)} with {@code onAnswer} attached to the
     * future before anything can complete it: so the answer is delivered in order with the BASTs
     * that follow it (a callback attached after the call returned could run after a BAST aimed at
     * the grant it reports).
     */
    CompletableFuture<LockMode> request(HolderId holder, LockMode mode, boolean noQueue, Consumer<LockMode> onBlocking,
                                        java.util.function.BiConsumer<LockMode, Throwable> onAnswer) {
        requireNonNull(mode, "mode");
        Entry entry = new Entry(requireNonNull(holder, "holder"), requireNonNull(onBlocking, "onBlocking"));
        CompletableFuture<LockMode> future = answered(entry.awaiting(mode), onAnswer);
        mutex.lock();
        try {
            if (retired) {
                throw new Retired(resource);
            }
            if (entries.containsKey(holder)) {
                throw new IllegalStateException(holder + " already has a lock on " + resource + ": convert it");
            }
            if (!frozen.getAsBoolean() && converting.isEmpty() && waiting.isEmpty() && compatibleWithHolders(entry, mode)) {
                entries.put(holder, entry);
                granted.add(entry);
                grant(entry);
            } else if (noQueue) {
                refuse(entry, new WouldBlockException(resource, mode));
            } else {
                entries.put(holder, entry);
                waiting.addLast(entry);
            }
            reschedule();
        } finally {
            mutex.unlock();
        }
        deliver();
        return future;
    }

    /** A conversion of {@code holder}'s granted lock to {@code mode}. */
    CompletableFuture<LockMode> convert(HolderId holder, LockMode mode, boolean noQueue) {
        return convert(holder, mode, noQueue, null);
    }

    /** {@link #convert(HolderId, LockMode, boolean)} with {@code onAnswer} attached first (see {@link #request}). */
    CompletableFuture<LockMode> convert(HolderId holder, LockMode mode, boolean noQueue,
                                        java.util.function.BiConsumer<LockMode, Throwable> onAnswer) {
        requireNonNull(mode, "mode");
        CompletableFuture<LockMode> future;
        mutex.lock();
        try {
            Entry entry = grantedEntry(holder);
            if (entry.requested != null) {
                throw new IllegalStateException(holder + " already has a request for " + entry.requested + " in flight on " + resource);
            }
            future = answered(entry.awaiting(mode), onAnswer);
            if (entry.granted.covers(mode) || !frozen.getAsBoolean() && compatibleWithHolders(entry, mode)) {
                grant(entry);
            } else if (noQueue) {
                refuse(entry, new WouldBlockException(resource, mode));
            } else if (deadlocksWithQueuedConversion(entry)) {
                refuse(entry, new ConversionDeadlockException(resource, entry.granted, mode));
            } else {
                granted.remove(entry);
                converting.addLast(entry);
            }
            reschedule();
        } finally {
            mutex.unlock();
        }
        deliver();
        return future;
    }

    /**
     * Withdraws {@code holder}'s queued request or conversion; its future fails with
     * {@link LockCancelledException}.
     *
     * @return false if it had none (it may have just been granted)
     */
    boolean cancel(HolderId holder) {
        boolean cancelled;
        mutex.lock();
        try {
            Entry entry = entries.get(holder);
            cancelled = entry != null && entry.requested != null;
            if (cancelled) {
                if (entry.granted == null) {
                    waiting.remove(entry);
                    entries.remove(holder);
                } else {
                    converting.remove(entry);
                    granted.add(entry);
                }
                refuse(entry, new LockCancelledException(resource, entry.requested));
                reschedule();
            }
        } finally {
            mutex.unlock();
        }
        deliver();
        return cancelled;
    }

    /**
     * Releases {@code holder}'s lock, cancelling a request in flight and publishing a staged value
     * if it held PW or EX.
     *
     * @return false if it had no lock here
     */
    boolean unlock(HolderId holder) {
        boolean found;
        mutex.lock();
        try {
            Entry entry = entries.get(holder);
            found = entry != null;
            if (found) {
                if (entry.granted != null && entry.granted.writesValueBlock()) {
                    publishStaged(entry);
                }
                remove(entry, () -> new LockCancelledException(resource, entry.requested));
                reschedule();
            }
        } finally {
            mutex.unlock();
        }
        deliver();
        return found;
    }

    /**
     * Drops every lock of {@code node} without publishing anything: for a node that died or a lock
     * space that closed. Requests in flight fail with what {@code reason} supplies. Deciding whether
     * the value block is still trustworthy is the caller's business ({@link #invalidateValueBlock()}).
     */
    void purgeNode(long node, Supplier<? extends LockException> reason) {
        purgeNodes(n -> n == node, reason);
    }

    /** {@link #purgeNode} for every node {@code node} matches. */
    void purgeNodes(java.util.function.LongPredicate node, Supplier<? extends LockException> reason) {
        mutex.lock();
        try {
            List<Entry> doomed = entries.values().stream().filter(e -> node.test(e.holder.node())).toList();
            doomed.forEach(e -> remove(e, reason));
            if (!doomed.isEmpty()) {
                reschedule();
            }
        } finally {
            mutex.unlock();
        }
        deliver();
    }

    /**
     * Stages the value {@code holder} will publish on its next conversion below PW or unlock.
     *
     * @throws IllegalStateException unless {@code holder} holds PW or EX
     */
    void stageValue(HolderId holder, byte[] value) {
        byte[] copy = LockValueBlock.checkedCopy(value);
        mutex.lock();
        try {
            Entry entry = grantedEntry(holder);
            if (!entry.granted.writesValueBlock()) {
                throw new IllegalStateException(holder + " holds " + entry.granted + " on " + resource + ": only PW or EX may write the value block");
            }
            entry.staged = copy;
        } finally {
            mutex.unlock();
        }
    }

    /**
     * Marks the value block stale: a holder that may have been changing it is gone. Stays invalid
     * until the next publication.
     *
     * @throws Retired if this engine was retired
     */
    void invalidateValueBlock() {
        mutex.lock();
        try {
            if (retired) {
                throw new Retired(resource);
            }
            valueBlock = valueBlock.invalidated();
        } finally {
            mutex.unlock();
        }
    }

    /** The mode {@code holder} holds, {@code null} if none (including while its first request waits). */
    LockMode grantedMode(HolderId holder) {
        mutex.lock();
        try {
            Entry entry = entries.get(holder);
            return entry == null ? null : entry.granted;
        } finally {
            mutex.unlock();
        }
    }

    /** The value block {@code holder} read at its last grant, {@code null} if it holds nothing. */
    LockValueBlock valueBlock(HolderId holder) {
        mutex.lock();
        try {
            Entry entry = entries.get(holder);
            return entry == null ? null : entry.read;
        } finally {
            mutex.unlock();
        }
    }

    /**
     * Retires this engine if it has no locks and its value block was never touched, so that
     * dropping it loses nothing.
     *
     * @return whether it is retired (now or before)
     */
    boolean retireIfUnused() {
        mutex.lock();
        try {
            if (!retired && entries.isEmpty() && valueBlock.equals(LockValueBlock.EMPTY)) {
                retired = true;
            }
            return retired;
        } finally {
            mutex.unlock();
        }
    }

    // ---- for the distributed manager's recovery ----

    /**
     * Puts a lock resent by its holder after a membership change into the queues, replacing any
     * entry {@code holder} had. The holder's view wins over this engine's: it is the one that acts
     * on the lock. {@code granted} null and {@code requested} null removes the entry (an unlock
     * whose answer was lost); a {@code requested} mode the granted one covers (a down-conversion
     * that may have been lost) is granted by {@link #settleConflicts()}, once the value block is
     * settled.
     *
     * @return the future of the request in flight, or null if none
     */
    CompletableFuture<LockMode> install(HolderId holder, LockMode granted, LockMode requested, Consumer<LockMode> onBlocking,
                                       java.util.function.BiConsumer<LockMode, Throwable> onAnswer) {
        CompletableFuture<LockMode> future = null;
        mutex.lock();
        try {
            if (retired) {
                throw new Retired(resource);
            }
            Entry old = entries.get(holder);
            if (old != null) {
                // Replaced, not refused: the holder's view includes whatever it still wants, and an
                // answer to the old entry would tell it otherwise.
                entries.remove(holder);
                this.granted.remove(old);
                converting.remove(old);
                waiting.remove(old);
            }
            if (granted != null || requested != null) {
                Entry entry = new Entry(holder, onBlocking);
                entry.granted = granted;
                entry.read = valueBlock;
                entries.put(holder, entry);
                if (requested == null) {
                    this.granted.add(entry);
                } else {
                    future = answered(entry.awaiting(requested), onAnswer);
                    if (granted == null) {
                        waiting.addLast(entry);
                    } else {
                        // Even a down-conversion waits for settleConflicts(): its grant must carry
                        // the value block the new master has not settled yet.
                        converting.addLast(entry);
                    }
                }
            }
        } finally {
            mutex.unlock();
        }
        deliver();
        return future;
    }

    /**
     * Grants the resent down-conversions, then settles held modes that resent views left
     * incompatible. The latter happens only when a conversion
     * was granted here but its answer was lost: the holder still reports the old mode, while locks
     * granted after it were compatible only with the new one. So a converting lock whose held mode
     * clashes with another holder's is given the mode it asked for.
     *
     * @return how many conversions it granted so
     */
    int settleConflicts() {
        int settled = 0;
        mutex.lock();
        try {
            for (Entry entry : List.copyOf(converting)) {
                if (entry.granted.covers(entry.requested)) {
                    converting.remove(entry);
                    granted.add(entry);
                    grant(entry);
                }
            }
            // A clash between held modes means one side's conversion was granted before the
            // change: the side whose wanted mode fits beside everyone's held modes. Promoting a
            // side just because its held mode clashes could grant a mode that clashes in turn.
            for (boolean changed = true; changed; ) {
                changed = false;
                for (Entry entry : List.copyOf(converting)) {
                    if (!compatibleWithOthers(entry, entry.granted) && compatibleWithOthers(entry, entry.requested)) {
                        converting.remove(entry);
                        granted.add(entry);
                        grant(entry);
                        settled++;
                        changed = true;
                    }
                }
            }
            for (Entry entry : entries.values()) {
                if (entry.granted != null && !compatibleWithOthers(entry, entry.granted)) {
                    LOG.log(System.Logger.Level.ERROR, "resent locks on " + resource + " clash and no granted conversion explains it: " + this);
                    break;
                }
            }
        } finally {
            mutex.unlock();
        }
        deliver();
        return settled;
    }

    /**
     * Publishes {@code value} if the value block is still at {@code sequence}: a value a holder
     * sent with an unlock or down-conversion that may or may not have arrived before a membership
     * change. Only a PW or EX holder publishes, and nothing else can publish while it holds, so an
     * unchanged sequence means the value did not arrive.
     */
    void publishIfAt(long sequence, byte[] value) {
        byte[] copy = LockValueBlock.checkedCopy(value);
        mutex.lock();
        try {
            if (retired) {
                throw new Retired(resource);
            }
            if (valueBlock.sequence() == sequence) {
                valueBlock = valueBlock.withValue(copy);
            }
        } finally {
            mutex.unlock();
        }
    }

    /** Replaces the value block: a new master taking over a resource's state. */
    void takeValueBlock(LockValueBlock block) {
        mutex.lock();
        try {
            if (retired) {
                throw new Retired(resource);
            }
            valueBlock = requireNonNull(block, "block");
        } finally {
            mutex.unlock();
        }
    }

    LockValueBlock valueBlock() {
        mutex.lock();
        try {
            return valueBlock;
        } finally {
            mutex.unlock();
        }
    }

    /** Whether some lock of a node {@code node} matches holds PW or EX (it may have been changing the value block). */
    boolean writerAmong(java.util.function.LongPredicate node) {
        mutex.lock();
        try {
            return entries.values().stream().anyMatch(e -> node.test(e.holder.node()) && e.granted != null && e.granted.writesValueBlock());
        } finally {
            mutex.unlock();
        }
    }

    /** The modes held by holders of nodes {@code node} matches. */
    List<LockMode> heldModes(java.util.function.LongPredicate node) {
        mutex.lock();
        try {
            return entries.values().stream().filter(e -> node.test(e.holder.node()) && e.granted != null).map(e -> e.granted).toList();
        } finally {
            mutex.unlock();
        }
    }

    /**
     * Grants what can be granted and sends BASTs afresh, forgetting which were sent: after a thaw,
     * BASTs sent before it may have been lost with the epoch they travelled in.
     */
    void thaw() {
        mutex.lock();
        try {
            entries.values().forEach(e -> e.toldFor = null);
            reschedule();
        } finally {
            mutex.unlock();
        }
        deliver();
    }

    /** Checks the invariants in the class comment; for tests. */
    void checkInvariants() {
        mutex.lock();
        try {
            List<Entry> holders = new ArrayList<>(granted);
            holders.addAll(converting);
            for (int i = 0; i < holders.size(); i++) {
                for (int j = i + 1; j < holders.size(); j++) {
                    LockMode a = holders.get(i).granted;
                    LockMode b = holders.get(j).granted;
                    check(a.compatibleWith(b), "incompatible holders " + a + " and " + b);
                }
            }
            check(entries.size() == granted.size() + converting.size() + waiting.size(), "a lock is on no queue or on two");
            granted.forEach(e -> check(e.granted != null && e.requested == null, "bad granted entry " + e));
            converting.forEach(e -> check(e.granted != null && e.requested != null, "bad converting entry " + e));
            waiting.forEach(e -> check(e.granted == null && e.requested != null, "bad waiting entry " + e));
            Entry head = converting.isEmpty() ? waiting.peekFirst() : converting.peekFirst();
            check(frozen.getAsBoolean() || head == null || !compatibleWithHolders(head, head.requested), "grantable head left queued: " + head);
        } finally {
            mutex.unlock();
        }
    }

    @Override
    public String toString() {
        mutex.lock();
        try {
            return resource + "{granted=" + granted + ", converting=" + converting + ", waiting=" + waiting + ", " + valueBlock + "}";
        } finally {
            mutex.unlock();
        }
    }

    // ---- queue work; all below run under mutex ----

    private Entry grantedEntry(HolderId holder) {
        Entry entry = entries.get(holder);
        if (entry == null || entry.granted == null) {
            throw new IllegalStateException(holder + " holds no lock on " + resource);
        }
        return entry;
    }

    private boolean compatibleWithOthers(Entry entry, LockMode mode) {
        for (Entry other : entries.values()) {
            if (other != entry && other.granted != null && !other.granted.compatibleWith(mode)) {
                return false;
            }
        }
        return true;
    }

    private boolean compatibleWithHolders(Entry entry, LockMode mode) {
        for (Entry other : granted) {
            if (other != entry && !other.granted.compatibleWith(mode)) {
                return false;
            }
        }
        for (Entry other : converting) {
            if (other != entry && !other.granted.compatibleWith(mode)) {
                return false;
            }
        }
        return true;
    }

    // Every queued conversion is ahead of the newcomer; one that wants what the newcomer holds
    // would wait for it forever (conversion_deadlock_detect()).
    private boolean deadlocksWithQueuedConversion(Entry entry) {
        for (Entry ahead : converting) {
            if (!entry.granted.compatibleWith(ahead.requested)) {
                return true;
            }
        }
        return false;
    }

    // The caller has put the entry on the granted queue (or left it there).
    private void grant(Entry entry) {
        if (entry.granted != null && entry.granted.writesValueBlock() && !entry.requested.writesValueBlock()) {
            publishStaged(entry);
        }
        LockMode mode = entry.requested;
        CompletableFuture<LockMode> future = entry.pending;
        entry.granted = mode;
        entry.requested = null;
        entry.pending = null;
        entry.toldFor = null;
        entry.read = valueBlock;
        outbox.add(() -> future.complete(mode));
    }

    private void refuse(Entry entry, LockException why) {
        CompletableFuture<LockMode> future = entry.pending;
        entry.requested = null;
        entry.pending = null;
        outbox.add(() -> future.completeExceptionally(why));
    }

    private void publishStaged(Entry entry) {
        if (entry.staged != null) {
            valueBlock = valueBlock.withValue(entry.staged);
            entry.staged = null;
        }
    }

    private void remove(Entry entry, Supplier<? extends LockException> whyPendingFails) {
        entries.remove(entry.holder);
        if (entry.requested != null) {
            (entry.granted == null ? waiting : converting).remove(entry);
            refuse(entry, whyPendingFails.get());
        } else {
            granted.remove(entry);
        }
    }

    private void reschedule() {
        if (frozen.getAsBoolean()) {
            return;
        }
        grantPending();
        sendBlockingAsts();
    }

    private void grantPending() {
        for (Entry head; (head = converting.peekFirst()) != null && compatibleWithHolders(head, head.requested); ) {
            converting.removeFirst();
            granted.add(head);
            grant(head);
        }
        if (!converting.isEmpty()) {
            return;
        }
        for (Entry head; (head = waiting.peekFirst()) != null && compatibleWithHolders(head, head.requested); ) {
            waiting.removeFirst();
            granted.add(head);
            grant(head);
        }
    }

    private void sendBlockingAsts() {
        if (converting.isEmpty() && waiting.isEmpty()) {
            return;
        }
        for (Entry holder : granted) {
            LockMode strongest = null;
            for (Entry queued : converting) {
                strongest = strongerBlocked(holder, queued, strongest);
            }
            for (Entry queued : waiting) {
                strongest = strongerBlocked(holder, queued, strongest);
            }
            if (strongest != null && (holder.toldFor == null || strongest.compareTo(holder.toldFor) > 0)) {
                holder.toldFor = strongest;
                Consumer<LockMode> callback = holder.onBlocking;
                LockMode wanted = strongest;
                outbox.add(() -> callback.accept(wanted));
            }
        }
    }

    private static LockMode strongerBlocked(Entry holder, Entry queued, LockMode strongest) {
        LockMode wanted = queued.requested;
        boolean blocks = !holder.granted.compatibleWith(wanted);
        return blocks && (strongest == null || wanted.compareTo(strongest) > 0) ? wanted : strongest;
    }

    private static void check(boolean condition, String what) {
        if (!condition) {
            throw new IllegalStateException(what);
        }
    }

    // ---- delivery, outside mutex ----

    private void deliver() {
        // Whoever holds `delivering` drains everything appended before it lets go; the re-check of
        // the loop condition after letting go catches work appended while another thread held it.
        while (!outbox.isEmpty()) {
            if (!delivering.compareAndSet(false, true)) {
                return;
            }
            try {
                for (Runnable work; (work = outbox.poll()) != null; ) {
                    try {
                        work.run();
                    } catch (RuntimeException e) {
                        LOG.log(System.Logger.Level.WARNING, "lock callback on " + resource + " failed", e);
                    }
                }
            } finally {
                delivering.set(false);
            }
        }
    }

    private static CompletableFuture<LockMode> answered(CompletableFuture<LockMode> future,
                                                        java.util.function.BiConsumer<LockMode, Throwable> onAnswer) {
        if (onAnswer != null) {
            future.whenComplete(onAnswer);
        }
        return future;
    }

    /** Thrown by operations on a retired engine: look the resource up again. */
    static final class Retired extends IllegalStateException {
        Retired(ResourceName resource) {
            super("the queues of " + resource + " were retired");
        }
    }

    private static final class Entry {
        final HolderId holder;
        final Consumer<LockMode> onBlocking;
        LockMode granted;                       // null until first granted
        LockMode requested;                     // non-null exactly while a request or conversion is undecided or queued
        CompletableFuture<LockMode> pending;    // with requested
        LockMode toldFor;                       // strongest mode a BAST named since `granted` was last set
        LockValueBlock read;                    // read at the last grant
        byte[] staged;                          // to publish on dropping below PW

        Entry(HolderId holder, Consumer<LockMode> onBlocking) {
            this.holder = holder;
            this.onBlocking = onBlocking;
        }

        CompletableFuture<LockMode> awaiting(LockMode mode) {
            requested = mode;
            pending = new CompletableFuture<>();
            return pending;
        }

        @Override
        public String toString() {
            return holder + ":" + granted + (requested == null ? "" : "->" + requested);
        }
    }
}
