package io.concord.dlm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Eight threads hammer six resources with random requests, conversions, unlocks, cancels, NOQUEUE
 * tries and value-block writes, yielding to BASTs now and then. Then each thread takes EX on
 * every resource in a fixed order, with no cancel, which succeeds only if nothing was left stuck.
 *
 * <p>Every change of what a worker holds goes into one log, so that the logged holdings always lie
 * within the real ones and any conflict in the log is a real one: a release is logged before the
 * call; a conversion logs, before the call, the strongest mode covered by both the held and the
 * wanted mode (the lock holds one or the other throughout), then the new mode once its future
 * completed, or the held mode again if it was refused; a first grant is logged once completed. The checker replays the log and fails on two
 * incompatible modes held at once. The engines' own invariants are checked during the run too.
 * Rerun a failure with {@code -Dconcord.dlm.seed=<seed>} (thread timing still varies).
 */
class RandomizedWorkloadTest {
    private static final int THREADS = 8;
    private static final int RESOURCES = 6;
    private static final Duration CHAOS = Duration.ofMillis(1500);
    private static final int MAX_STEPS = 20_000;
    private static final long RESOLVE_TIMEOUT_MS = 10_000;

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    @Timeout(120)
    void fixedSeedWorkloadNeverGrantsIncompatibleModesAndResolvesEveryRequest(long seed) throws Exception {
        runReportingSeed(seed);
    }

    @Test
    @Timeout(120)
    void freshSeedWorkloadNeverGrantsIncompatibleModesAndResolvesEveryRequest() throws Exception {
        runReportingSeed(Long.getLong("concord.dlm.seed", System.nanoTime()));
    }

    private static void runReportingSeed(long seed) throws Exception {
        try {
            new Workload(seed).run();
        } catch (AssertionError | Exception e) {
            throw new AssertionError("randomized DLM workload failed; seed " + seed + " (-Dconcord.dlm.seed=" + seed + ")", e);
        }
    }

    /** One holding change: {@code mode == null} is a release. */
    private record Event(int resource, int worker, LockMode mode, String how) {
    }

    private static final class Workload {
        final long seed;
        final NoLockSpace space = (NoLockSpace) new NoLockManager().openLockSpace("random");
        final ResourceName[] names = new ResourceName[RESOURCES];
        final List<Event> log = new ArrayList<>(); // guarded by itself
        final Set<Long> stagedTokens = ConcurrentHashMap.newKeySet();
        final AtomicLong grants = new AtomicLong(), refusals = new AtomicLong(), basts = new AtomicLong();
        final CyclicBarrier chaosDone = new CyclicBarrier(THREADS);

        Workload(long seed) {
            this.seed = seed;
            for (int r = 0; r < RESOURCES; r++) {
                names[r] = new ResourceName(r % 2 == 0 ? ResourceName.INODE : ResourceName.RESOURCE_GROUP, r);
            }
        }

        void run() throws Exception {
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                CompletionService<Void> finished = new ExecutorCompletionService<>(pool);
                long deadline = System.nanoTime() + CHAOS.toNanos();
                for (int w = 0; w < THREADS; w++) {
                    Worker worker = new Worker(w, new Random(seed * 31 + w), deadline);
                    finished.submit(() -> {
                        worker.run();
                        return null;
                    });
                }
                for (int w = 0; w < THREADS; w++) { // the first failure ends the run; the others are interrupted
                    Future<Void> worker = finished.poll(60, TimeUnit.SECONDS);
                    if (worker == null) {
                        fail("workers still running after 60 s: something is stuck");
                    }
                    try {
                        worker.get();
                    } catch (ExecutionException e) {
                        throw e.getCause() instanceof AssertionError a ? a : new AssertionError(e.getCause());
                    }
                }
            } finally {
                pool.shutdownNow();
            }
            space.resources().checkInvariants();
            checkLog();
            for (ResourceName name : names) {
                Lock probe = space.newLock(name, null);
                assertEquals(LockMode.EX, probe.request(LockMode.EX, Set.of(LockFlag.NOQUEUE)).getNow(null),
                        name + " still has something held or queued after every worker released it");
                probe.unlock();
            }
            assertTrue(grants.get() > THREADS * RESOURCES, "the workload hardly ran: " + grants + " grants");
            System.out.printf("seed %d: %d grants, %d refusals, %d BASTs, %d log events%n", seed, grants.get(), refusals.get(), basts.get(), log.size());
            space.close();
        }

        void record(int resource, int worker, LockMode mode) {
            record(resource, worker, mode, "");
        }

        void record(int resource, int worker, LockMode mode, String how) {
            synchronized (log) {
                log.add(new Event(resource, worker, mode, how));
            }
        }

        void checkLog() {
            LockMode[][] held = new LockMode[RESOURCES][THREADS];
            synchronized (log) {
                for (int i = 0; i < log.size(); i++) {
                    Event e = log.get(i);
                    held[e.resource()][e.worker()] = e.mode();
                    for (int other = 0; other < THREADS; other++) {
                        LockMode theirs = held[e.resource()][other];
                        if (other != e.worker() && e.mode() != null && theirs != null && !e.mode().compatibleWith(theirs)) {
                            fail("event #" + i + ": worker " + e.worker() + " was granted " + e.mode() + " on " + names[e.resource()]
                                    + " while worker " + other + " held " + theirs + "; that resource's history before it:\n"
                                    + historyOf(e.resource(), i));
                        }
                    }
                }
            }
        }

        private String historyOf(int resource, int upTo) {
            StringBuilder history = new StringBuilder();
            for (int i = Math.max(0, upTo - 400); i <= upTo; i++) {
                if (log.get(i).resource() == resource) {
                    history.append("  #").append(i).append(" worker ").append(log.get(i).worker()).append(" -> ").append(log.get(i).mode()).append(' ').append(log.get(i).how()).append('\n');
                }
            }
            return history.toString();
        }

        private final class Worker {
            final int index;
            final Random random;
            final long deadline;
            final Lock[] locks = new Lock[RESOURCES];
            final AtomicBoolean[] asked = new AtomicBoolean[RESOURCES];
            final long[] lastSequence = new long[RESOURCES];

            Worker(int index, Random random, long deadline) {
                this.index = index;
                this.random = random;
                this.deadline = deadline;
                for (int r = 0; r < RESOURCES; r++) {
                    AtomicBoolean flag = asked[r] = new AtomicBoolean();
                    locks[r] = space.newLock(names[r], (lock, wanted) -> {
                        basts.incrementAndGet();
                        flag.set(true); // yielding happens on this worker's own thread, never concurrently with it
                    });
                }
            }

            void run() throws Exception {
                for (int step = 0; step < MAX_STEPS && System.nanoTime() < deadline; step++) {
                    yieldWhereAsked();
                    step(random.nextInt(RESOURCES));
                    if (random.nextInt(64) == 0) {
                        space.resources().checkInvariants();
                    }
                }
                for (int r = 0; r < RESOURCES; r++) {
                    release(r);
                }
                chaosDone.await(60, TimeUnit.SECONDS);
                orderedExclusivePass();
            }

            void yieldWhereAsked() throws Exception {
                for (int r = 0; r < RESOURCES; r++) {
                    if (asked[r].getAndSet(false) && locks[r].grantedMode() != null && random.nextBoolean()) {
                        if (random.nextBoolean()) {
                            release(r);
                        } else {
                            record(r, index, LockMode.NL);
                            // Granted at once, though another thread may be the one delivering the completion.
                            assertEquals(LockMode.NL, locks[r].request(LockMode.NL).get(RESOLVE_TIMEOUT_MS, TimeUnit.MILLISECONDS));
                        }
                    }
                }
            }

            void step(int r) throws Exception {
                Lock lock = locks[r];
                LockMode held = lock.grantedMode();
                if (held != null && random.nextInt(4) == 0) {
                    release(r);
                    return;
                }
                if (held != null && held.writesValueBlock() && random.nextInt(3) == 0) {
                    long token = random.nextLong();
                    stagedTokens.add(token);
                    lock.setValueBlock(ByteBuffer.allocate(LockValueBlock.SIZE).putLong(0, token).array());
                }
                LockMode target = LockMode.values()[random.nextInt(LockMode.values().length)];
                boolean down = held != null && held.covers(target);
                if (held != null) { // during a conversion the lock holds `held` or `target`: log what both give
                    record(r, index, meet(held, target), "converting " + held + "->" + target);
                }
                Outcome outcome = random.nextInt(8) == 0 ? viaFacade(lock, target) : viaFuture(lock, target, random.nextInt(5) == 0);
                switch (outcome) {
                    case Outcome.Granted g -> {
                        assertEquals(target, g.mode(), "granted a different mode than requested");
                        grants.incrementAndGet();
                        record(r, index, target, "granted, held " + held + " " + g.how());
                        checkValueBlock(r, lock.valueBlock());
                    }
                    case Outcome.Refused f -> {
                        assertTrue(!down, "a down-conversion was refused: " + f.why());
                        refusals.incrementAndGet();
                        assertEquals(held, lock.grantedMode(), "a refused request must leave the held mode alone");
                        if (held != null) {
                            record(r, index, held, "refused " + f.why().getClass().getSimpleName());
                        }
                        if (f.why() instanceof ConversionDeadlockException) {
                            assertTrue(held != null, "deadlock reported for a first request");
                            release(r); // what a holder does on -EDEADLK
                        }
                    }
                }
            }

            Outcome viaFuture(Lock lock, LockMode target, boolean noQueue) throws Exception {
                CompletableFuture<LockMode> future = lock.request(target, noQueue ? Set.of(LockFlag.NOQUEUE) : Set.of());
                boolean cancelled = false;
                try {
                    return new Outcome.Granted(future.get(random.nextInt(4), TimeUnit.MILLISECONDS), "quick noQueue=" + noQueue);
                } catch (TimeoutException e) {
                    cancelled = lock.cancel();
                } catch (ExecutionException e) {
                    return refused(e.getCause(), noQueue, false);
                }
                try { // cancelled or not, the request is no longer queued: it must resolve now
                    return new Outcome.Granted(future.get(RESOLVE_TIMEOUT_MS, TimeUnit.MILLISECONDS), "after cancel=" + cancelled);
                } catch (ExecutionException e) {
                    return refused(e.getCause(), noQueue, cancelled);
                } catch (TimeoutException e) {
                    throw new AssertionError(lock + ": request for " + target + " neither granted nor cancelled");
                }
            }

            Outcome viaFacade(Lock lock, LockMode target) {
                try {
                    return new Outcome.Granted(lock.lock(target, Duration.ofMillis(random.nextInt(4))), "facade");
                } catch (LockTimeoutException e) {
                    return new Outcome.Refused(e);
                } catch (LockException e) {
                    return refused(e, false, false);
                }
            }

            Outcome refused(Throwable why, boolean noQueue, boolean cancelled) {
                boolean expected = why instanceof WouldBlockException && noQueue
                        || why instanceof LockCancelledException && cancelled
                        || why instanceof ConversionDeadlockException;
                if (!expected) {
                    throw new AssertionError("unexpected failure (noQueue=" + noQueue + ", cancelled=" + cancelled + ")", why);
                }
                return new Outcome.Refused((LockException) why);
            }

            /** The strongest mode both {@code a} and {@code b} cover (CR for PW and CW, which cover neither each other). */
            static LockMode meet(LockMode a, LockMode b) {
                for (int m = LockMode.values().length - 1; ; m--) {
                    LockMode candidate = LockMode.values()[m];
                    if (a.covers(candidate) && b.covers(candidate)) {
                        return candidate;
                    }
                }
            }

            void checkValueBlock(int r, LockValueBlock read) {
                assertTrue(read != null, "a granted lock must have read the value block");
                assertTrue(read.sequence() >= lastSequence[r], "value block went back from " + lastSequence[r] + " to " + read.sequence());
                lastSequence[r] = read.sequence();
                if (read.sequence() > 0) {
                    assertTrue(stagedTokens.contains(read.buffer().getLong(0)), "value block holds something nobody wrote: " + read);
                }
            }

            void release(int r) {
                if (locks[r].grantedMode() != null) {
                    record(r, index, null);
                    locks[r].unlock();
                }
            }

            // Liveness: with everything released and no one cancelling, every request is granted.
            void orderedExclusivePass() {
                for (int r = 0; r < RESOURCES; r++) {
                    assertEquals(LockMode.EX, locks[r].lock(LockMode.EX, Duration.ofSeconds(20)));
                    record(r, index, LockMode.EX);
                    checkValueBlock(r, locks[r].valueBlock());
                    grants.incrementAndGet();
                }
                for (int r = RESOURCES - 1; r >= 0; r--) {
                    release(r);
                }
            }
        }
    }

    private sealed interface Outcome {
        record Granted(LockMode mode, String how) implements Outcome {
        }

        record Refused(LockException why) implements Outcome {
        }
    }
}
