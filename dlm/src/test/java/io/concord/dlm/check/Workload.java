package io.concord.dlm.check;

import io.concord.dlm.ConversionDeadlockException;
import io.concord.dlm.Lock;
import io.concord.dlm.LockException;
import io.concord.dlm.LockFlag;
import io.concord.dlm.LockMode;
import io.concord.dlm.LockSpace;
import io.concord.dlm.LockSpaceClosedException;
import io.concord.dlm.ResourceName;
import io.concord.dlm.check.LockHistory.Bast;
import io.concord.dlm.check.LockHistory.CancelAsked;
import io.concord.dlm.check.LockHistory.DownconvertStarted;
import io.concord.dlm.check.LockHistory.Granted;
import io.concord.dlm.check.LockHistory.Kind;
import io.concord.dlm.check.LockHistory.Reason;
import io.concord.dlm.check.LockHistory.Refused;
import io.concord.dlm.check.LockHistory.ReleaseStarted;
import io.concord.dlm.check.LockHistory.Released;
import io.concord.dlm.check.LockHistory.Requested;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import java.util.stream.IntStream;

/**
 * A randomized lock workload over several nodes' lock spaces, recording everything to a
 * {@link LockHistory} for {@link LockChecker}.
 *
 * <p>Each node runs {@link #workersPerNode} virtual threads; each worker owns one handle per
 * resource and is the only thread that issues requests on it, so a handle never has two requests
 * in flight. A worker picks a resource and releases it, down-converts it, or asks for a random
 * mode (a first request or a conversion, sometimes NOQUEUE, sometimes through
 * {@link Lock#lock(LockMode, Duration)}), waits a bounded time, then cancels. Values are staged
 * only just before a release or a conversion below PW, so what the history says was published is
 * exactly what the lock manager published. A BAST only flags the handle; the worker yields it
 * (release, or down-convert to a mode the waiter can live with) after a short random hold, also
 * while it waits for a grant of another handle, which keeps workers from waiting on each other
 * until their timeouts.
 *
 * <p>Every wait is bounded; a request that neither resolves nor can be cancelled in time is left
 * unrecorded and its handle abandoned, which the checker then reports. At the end each worker
 * releases what it holds. The seed fixes each worker's sequence of random choices, not the thread
 * timing, so a run is reproducible only in what was attempted.
 */
public final class Workload {
    private static final LockMode[] MODES = LockMode.values();

    /** One node's view: the name it records under, its lock space and its current epoch. */
    public record Node(String name, LockSpace space, LongSupplier epoch) {
        public Node {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(space, "space");
            Objects.requireNonNull(epoch, "epoch");
        }

        public Node(String name, LockSpace space) {
            this(name, space, () -> 0);
        }
    }

    /** What the workers did, counted on their side. */
    public record Stats(long operations, long grants, long refusals, long timeouts, long basts,
                        long publications, long abandonedHandles) {
    }

    private final List<Node> nodes;
    private final LockHistory history;
    private final long seed;
    private List<ResourceName> resources = IntStream.range(0, 8)
            .mapToObj(i -> new ResourceName(i % 2 == 0 ? ResourceName.INODE : ResourceName.RESOURCE_GROUP, i)).toList();
    private int workersPerNode = 3;
    private Duration duration = Duration.ofSeconds(2);
    private long maxOpsPerWorker = Long.MAX_VALUE;
    private Duration maxWait = Duration.ofMillis(20);
    private Duration resolveTimeout = Duration.ofSeconds(10);
    private long handleBase = 0;

    private volatile boolean stopping;
    private final AtomicLong operations = new AtomicLong(), grants = new AtomicLong(), refusals = new AtomicLong(),
            timeouts = new AtomicLong(), basts = new AtomicLong(), publications = new AtomicLong(), abandoned = new AtomicLong();
    private final Map<String, AtomicLong> handleIds = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();

    public Workload(List<Node> nodes, LockHistory history, long seed) {
        if (nodes.isEmpty()) {
            throw new IllegalArgumentException("a workload needs a node");
        }
        this.nodes = List.copyOf(nodes);
        this.history = Objects.requireNonNull(history, "history");
        this.seed = seed;
    }

    public Workload resources(List<ResourceName> names) {
        if (names.isEmpty()) {
            throw new IllegalArgumentException("a workload needs a resource");
        }
        this.resources = List.copyOf(names);
        return this;
    }

    public Workload workersPerNode(int count) {
        this.workersPerNode = count;
        return this;
    }

    /** How long workers keep starting operations; then they release and stop. */
    public Workload duration(Duration d) {
        this.duration = d;
        return this;
    }

    public Workload maxOpsPerWorker(long ops) {
        this.maxOpsPerWorker = ops;
        return this;
    }

    /** The longest a worker waits for a grant before cancelling; each wait is random up to this. */
    public Workload maxWait(Duration d) {
        this.maxWait = d;
        return this;
    }

    /** How long a cancelled request, an unlock or a down-conversion may take to resolve. */
    public Workload resolveTimeout(Duration d) {
        this.resolveTimeout = d;
        return this;
    }

    /** Handle ids of each node start above this: give a restarted process a fresh range. */
    public Workload handleBase(long base) {
        this.handleBase = base;
        return this;
    }

    /** Asks the workers to finish early: they release what they hold and stop. */
    public void stop() {
        stopping = true;
    }

    /**
     * Runs the workload to the end.
     *
     * @throws IllegalStateException if workers are still running long after their deadline (they
     *                               are interrupted first)
     * @throws AssertionError        if a worker met an exception the lock API does not allow
     */
    public Stats run() throws InterruptedException {
        long deadline = System.nanoTime() + duration.toNanos();
        List<Thread> threads = new ArrayList<>();
        for (int n = 0; n < nodes.size(); n++) {
            Node node = nodes.get(n);
            for (int w = 0; w < workersPerNode; w++) {
                Worker worker = new Worker(node, new Random(seed * 1_000_003L + n * 1_009L + w), deadline);
                threads.add(Thread.ofVirtual().name("workload-" + node.name() + "-" + w).start(worker::run));
            }
        }
        // A worker may be in one wait of maxWait plus one resolve per handle while draining.
        long bound = deadline + resolveTimeout.toNanos() * (resources.size() + 2) + maxWait.toNanos() + TimeUnit.SECONDS.toNanos(5);
        for (Thread t : threads) {
            long left = bound - System.nanoTime();
            if (left <= 0 || !t.join(Duration.ofNanos(left))) {
                stopping = true;
                threads.forEach(Thread::interrupt);
                for (Thread u : threads) {
                    u.join(Duration.ofSeconds(5));
                }
                throw new IllegalStateException("workload workers still running well past their deadline");
            }
        }
        if (!failures.isEmpty()) {
            AssertionError error = new AssertionError("workload worker failed (seed " + seed + ")", failures.peek());
            failures.stream().skip(1).forEach(error::addSuppressed);
            throw error;
        }
        return new Stats(operations.get(), grants.get(), refusals.get(), timeouts.get(), basts.get(), publications.get(), abandoned.get());
    }

    private record Outcome(LockMode granted, Throwable failure, boolean resolved) {
        static final Outcome UNRESOLVED = new Outcome(null, null, false);
    }

    private final class Handle {
        final ResourceName resource;
        final long id;
        final Lock lock;
        final AtomicReference<LockMode> bast = new AtomicReference<>();
        long yieldAt = -1; // nanoTime at which to act on a noticed BAST
        boolean abandoned;
        boolean inFlight; // a request, unlock or conversion of it is being waited for further up the stack

        Handle(Node node, ResourceName resource) {
            this.resource = resource;
            this.id = handleIds.computeIfAbsent(node.name(), k -> new AtomicLong(handleBase)).incrementAndGet();
            this.lock = node.space().newLock(resource, (lock, wanted) -> {
                basts.incrementAndGet();
                history.record(node.name(), node.epoch().getAsLong(), id, resource, new Bast(wanted));
                bast.set(wanted);
            });
        }
    }

    private final class Worker {
        final Node node;
        final Random random;
        final long deadline;
        final List<Handle> handles = new ArrayList<>();

        Worker(Node node, Random random, long deadline) {
            this.node = node;
            this.random = random;
            this.deadline = deadline;
        }

        void run() {
            try {
                for (ResourceName r : resources) {
                    handles.add(new Handle(node, r));
                }
                for (long ops = 0; ops < maxOpsPerWorker && !stopping && System.nanoTime() < deadline; ops++) {
                    yieldWhereAsked();
                    Handle h = handles.get(random.nextInt(handles.size()));
                    if (!h.abandoned) {
                        step(h);
                        operations.incrementAndGet();
                    }
                    if (random.nextInt(4) == 0) {
                        Thread.sleep(random.nextInt(2)); // hold what we have for a moment
                    }
                }
                for (Handle h : handles) {
                    if (!h.abandoned && h.lock.grantedMode() != null) {
                        release(h);
                    }
                }
            } catch (LockSpaceClosedException e) {
                // The node was closed or expelled under us: nothing left to release.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Throwable t) {
                failures.add(t);
            }
        }

        void record(Handle h, Kind kind) {
            history.record(node.name(), node.epoch().getAsLong(), h.id, h.resource, kind);
        }

        void step(Handle h) throws InterruptedException {
            LockMode held = h.lock.grantedMode();
            int dice = random.nextInt(10);
            if (held != null && dice < 3) {
                release(h);
            } else if (held != null && held != LockMode.NL && dice < 5) {
                downconvert(h, held, coveredBy(held, null));
            } else {
                LockMode target = MODES[random.nextInt(MODES.length)];
                if (held != null && held.covers(target)) {
                    downconvert(h, held, target);
                } else {
                    request(h, target);
                }
            }
        }

        /** A random mode {@code held} covers, weaker than it, compatible with {@code wanted} if given. */
        LockMode coveredBy(LockMode held, LockMode wanted) {
            List<LockMode> choices = new ArrayList<>();
            for (LockMode m : MODES) {
                if (m != held && held.covers(m) && (wanted == null || m.compatibleWith(wanted))) {
                    choices.add(m);
                }
            }
            return choices.get(random.nextInt(choices.size()));
        }

        byte[] maybeValue(boolean publishes) {
            if (!publishes || random.nextBoolean()) {
                return null;
            }
            byte[] value = new byte[32];
            random.nextBytes(value);
            return value;
        }

        void release(Handle h) throws InterruptedException {
            LockMode held = h.lock.grantedMode();
            byte[] value = maybeValue(writes(held));
            if (value != null) {
                h.lock.setValueBlock(value);
                publications.incrementAndGet();
            }
            record(h, new ReleaseStarted(held, value));
            CompletableFuture<Void> unlocked = h.lock.unlock();
            try {
                unlocked.get(resolveTimeout.toNanos(), TimeUnit.NANOSECONDS);
                record(h, new Released());
            } catch (TimeoutException e) {
                h.abandoned = true;
                abandoned.incrementAndGet();
            } catch (ExecutionException e) {
                if (Reason.of(e) == Reason.CLOSED) {
                    throw new LockSpaceClosedException(node.space().name());
                }
                throw new AssertionError(h.resource + ": unlock failed", e.getCause());
            }
        }

        void downconvert(Handle h, LockMode from, LockMode to) throws InterruptedException {
            byte[] value = maybeValue(writes(from) && !writes(to));
            if (value != null) {
                h.lock.setValueBlock(value);
                publications.incrementAndGet();
            }
            record(h, new DownconvertStarted(from, to, value));
            settle(h, to, await(h, h.lock.request(to), resolveTimeout.toNanos()));
        }

        void request(Handle h, LockMode target) throws InterruptedException {
            boolean noQueue = random.nextInt(5) == 0;
            Set<LockFlag> flags = noQueue ? EnumSet.of(LockFlag.NOQUEUE) : Set.of();
            long wait = (long) (random.nextDouble() * maxWait.toNanos());
            record(h, new Requested(target, flags));
            if (!noQueue && random.nextInt(8) == 0) {
                // Lock.lock cancels on timeout by itself; it does not serve other handles' BASTs meanwhile.
                try {
                    settle(h, target, new Outcome(h.lock.lock(target, Duration.ofNanos(wait)), null, true));
                } catch (LockException e) {
                    settle(h, target, new Outcome(null, e, true));
                }
                return;
            }
            CompletableFuture<LockMode> future = h.lock.request(target, flags);
            Outcome outcome = await(h, future, wait);
            if (!outcome.resolved()) {
                record(h, new CancelAsked());
                h.lock.cancel();
                outcome = await(h, future, resolveTimeout.toNanos());
            }
            settle(h, target, outcome);
        }

        void settle(Handle h, LockMode target, Outcome outcome) throws InterruptedException {
            if (!outcome.resolved()) {
                h.abandoned = true; // unrecorded on purpose: the checker reports the request as never resolved
                abandoned.incrementAndGet();
                return;
            }
            if (outcome.failure() == null) {
                grants.incrementAndGet();
                record(h, new Granted(outcome.granted(), h.lock.valueBlock()));
                return;
            }
            Reason reason = Reason.of(outcome.failure());
            if (reason == Reason.OTHER) {
                throw new AssertionError(h.resource + ": unexpected failure of a request for " + target, outcome.failure());
            }
            refusals.incrementAndGet();
            if (reason == Reason.TIMEOUT) {
                timeouts.incrementAndGet();
            }
            record(h, new Refused(target, reason));
            if (reason == Reason.CLOSED) {
                throw new LockSpaceClosedException(node.space().name());
            }
            if (outcome.failure() instanceof ConversionDeadlockException) {
                release(h); // what a holder does on -EDEADLK: lets the earlier conversion through
            }
        }

        /** Waits up to {@code nanos} for {@code future}, yielding other handles asked for by BASTs meanwhile. */
        Outcome await(Handle busy, CompletableFuture<LockMode> future, long nanos) throws InterruptedException {
            boolean outer = !busy.inFlight;
            busy.inFlight = true;
            try {
                return awaitYielding(future, nanos);
            } finally {
                busy.inFlight = !outer;
            }
        }

        private Outcome awaitYielding(CompletableFuture<LockMode> future, long nanos) throws InterruptedException {
            long until = System.nanoTime() + nanos;
            while (true) {
                long slice = Math.min(until - System.nanoTime(), TimeUnit.MILLISECONDS.toNanos(1));
                try {
                    return new Outcome(future.get(Math.max(slice, 0), TimeUnit.NANOSECONDS), null, true);
                } catch (ExecutionException e) {
                    return new Outcome(null, e.getCause(), true);
                } catch (TimeoutException e) {
                    if (System.nanoTime() - until >= 0) {
                        return Outcome.UNRESOLVED;
                    }
                    yieldWhereAsked();
                }
            }
        }

        /** Acts on BASTs whose holding time is up, leaving alone handles with something in flight. */
        void yieldWhereAsked() throws InterruptedException {
            for (Handle h : handles) {
                if (h.inFlight || h.abandoned) {
                    continue;
                }
                LockMode wanted = h.bast.get();
                if (wanted == null) {
                    continue;
                }
                long now = System.nanoTime();
                if (h.yieldAt < 0) {
                    h.yieldAt = now + random.nextInt(3) * 1_000_000L;
                }
                if (now - h.yieldAt < 0) {
                    continue;
                }
                h.bast.compareAndSet(wanted, null);
                h.yieldAt = -1;
                LockMode held = h.lock.grantedMode();
                if (held == null || held.compatibleWith(wanted)) {
                    continue; // already yielded, or a stale BAST
                }
                if (random.nextBoolean()) {
                    release(h);
                } else {
                    downconvert(h, held, coveredBy(held, wanted));
                }
            }
        }
    }

    private static boolean writes(LockMode mode) {
        return mode == LockMode.PW || mode == LockMode.EX;
    }
}
