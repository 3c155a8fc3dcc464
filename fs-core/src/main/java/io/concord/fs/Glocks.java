package io.concord.fs;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.concord.dlm.LockMode;
import io.concord.dlm.LockSpace;
import io.concord.dlm.ResourceName;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Glocks: this node's cached hold on cluster locks, as GFS2's glock.c. The first use of a
 * resource asks the lock manager for it; after that the lock stays with the node, in use or not,
 * until another node wants it (its blocking callback) or the table outgrows its bound. Lock
 * ownership is cache ownership: what a glock protects may be served from this node's caches only
 * while the glock is held in a mode that covers the access. Each {@link Glock} runs the state
 * machine described there; the per-type behaviour is the {@link GlockOps} table.
 *
 * <p>Threads. Blocking callbacks arrive on lock manager threads and only record and queue.
 * Demotes and retirements run on virtual threads of this engine, which may wait for the
 * filesystem lock (sync) and for the lock manager; a holder never waits for them while holding
 * the filesystem lock (see {@link OperationRunner}, which states the lock order).
 *
 * <p>Withdraw. When a sync fails, or the filesystem withdraws for any reason ({@link #freeze}),
 * no glock is demoted, retired or released again: blocks this node changed may sit in its journal,
 * and no other node may have them until a survivor has replayed it. Unmounting a frozen engine
 * leaves its locks to the lock manager's recovery ({@link LockSpace#abandon()}).
 */
final class Glocks implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Glocks.class.getName());

    private final LockSpace space;
    private volatile Map<GlockType, GlockOps> ops;
    private final long maxHoldMillis;
    private final Duration grantTimeout;
    private final Clock clock;
    private final ExecutorService demoter = Executors.newVirtualThreadPerTaskExecutor();
    private final ScheduledExecutorService timer;
    private final ConcurrentHashMap<ResourceName, Glock> table = new ConcurrentHashMap<>();
    private final Cache<ResourceName, Boolean> recent;
    private final Consumer<RuntimeException> onSyncFailure;
    private volatile String frozenBecause;

    /**
     * @param maxHold       the longest a lock that bounces while in use is kept before it is
     *                      demoted (GFS2's hold time, about 200 ms); it grows in quarters of this
     * @param onSyncFailure told when a demote's sync failed (the filesystem withdraws)
     */
    Glocks(LockSpace space, Map<GlockType, GlockOps> ops, Duration maxHold, Duration grantTimeout, Clock clock, int maxIdle,
           Consumer<RuntimeException> onSyncFailure) {
        this.space = space;
        this.ops = ops.isEmpty() ? Map.of() : new EnumMap<>(ops);
        this.maxHoldMillis = Math.max(1, maxHold.toMillis());
        this.grantTimeout = grantTimeout;
        this.clock = clock;
        this.onSyncFailure = onSyncFailure;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "concord-glock-timer");
            t.setDaemon(true);
            return t;
        });
        // The cache's upkeep runs after each new glock. Far below the bound it can evict nothing,
        // so it is done on the spot rather than paying a thread hand-off per new inode; near the
        // bound it goes to the demoter, as retiring may have to sync.
        this.recent = Caffeine.newBuilder().maximumSize(maxIdle)
                .executor(task -> {
                    if (recentSize() < maxIdle / 2) {
                        task.run();
                    } else {
                        demoter.execute(task);
                    }
                })
                .removalListener((ResourceName name, Boolean v, RemovalCause cause) -> {
                    if (name != null && cause.wasEvicted()) {
                        Glock g = table.get(name);
                        if (g != null) {
                            retire(g);
                        }
                    }
                }).build();
    }

    /** Sets the operations table (once, before the first glock: the table needs the filesystem, which needs the engine). */
    void useOps(Map<GlockType, GlockOps> table) {
        this.ops = new EnumMap<>(table);
    }

    private long recentSize() {
        Cache<ResourceName, Boolean> r = recent;
        return r == null ? Long.MAX_VALUE : r.estimatedSize();
    }

    /** One use of a glock; closing it ends the use (the lock itself stays cached). */
    static final class Holder implements AutoCloseable {
        private final Glock glock;
        private final LockMode mode;
        private boolean closed;

        private Holder(Glock glock, LockMode mode) {
            this.glock = glock;
            this.mode = mode;
        }

        GlockType type() {
            return glock.type();
        }

        long number() {
            return glock.number();
        }

        LockMode mode() {
            return mode;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                glock.release();
            }
        }
    }

    /**
     * Holds {@code type}/{@code number} in at least {@code mode}, asking the lock manager and
     * waiting for the grant if needed. The caller must not hold the filesystem lock.
     */
    Holder hold(GlockType type, long number, LockMode mode) {
        while (true) {
            Glock g = glock(type, number);
            if (g.acquire(mode, false) == Glock.Outcome.HELD) {
                return new Holder(g, mode);
            }
        }
    }

    /**
     * Holds it only if another node does not: a try-lock at the lock manager when not cached here
     * (GFS2's LM_FLAG_TRY). Null when it is held elsewhere. The caller must not hold the
     * filesystem lock (the try is still a round trip).
     */
    Holder tryHold(GlockType type, long number, LockMode mode) {
        while (true) {
            Glock g = glock(type, number);
            switch (g.acquire(mode, true)) {
                case HELD:
                    return new Holder(g, mode);
                case BUSY:
                    return null;
                case RETIRED:
                    break;
            }
        }
    }

    /**
     * Holds it if this node already has it in a covering mode and no demote is due: no lock
     * manager call and no wait, so it may be asked for under the filesystem lock. Null otherwise.
     */
    Holder holdCached(GlockType type, long number, LockMode mode) {
        Glock g = table.get(type.resource(number));
        return g != null && g.tryCached(mode) ? new Holder(g, mode) : null;
    }

    private Glock glock(GlockType type, long number) {
        ResourceName name = type.resource(number);
        Glock g = table.get(name);
        if (g == null) {
            g = table.computeIfAbsent(name, n -> new Glock(this, type, number, ops.getOrDefault(type, GlockOps.NONE)));
            recent.put(name, Boolean.TRUE);
        }
        return g;
    }

    int size() {
        return table.size();
    }

    /** The glock's state, for tests; null if this node has none. */
    String describe(GlockType type, long number) {
        Glock g = table.get(type.resource(number));
        return g == null ? null : g.describe();
    }

    /** The mode this node holds {@code type}/{@code number} in from the lock manager, or null. */
    LockMode granted(GlockType type, long number) {
        Glock g = table.get(type.resource(number));
        return g == null ? null : g.granted();
    }

    // ---- for Glock ----

    LockSpace space() {
        return space;
    }

    long now() {
        return clock.millis();
    }

    long holdStep() {
        return Math.max(1, maxHoldMillis / 4);
    }

    long maxHold() {
        return maxHoldMillis;
    }

    Duration grantTimeout() {
        return grantTimeout;
    }

    boolean frozen() {
        return frozenBecause != null;
    }

    String frozenBecause() {
        return frozenBecause;
    }

    void schedule(Runnable task, long delayMillis) {
        try {
            if (delayMillis <= 0) {
                demoter.execute(task);
            } else {
                timer.schedule(() -> demoter.execute(task), delayMillis, TimeUnit.MILLISECONDS);
            }
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            // Unmounting: the locks go with the lock space.
        }
    }

    /** Gives {@code g} back soon, on the demoter (its last holder is gone and the type does not cache it). */
    void retireSoon(Glock g) {
        schedule(() -> retire(g), 0);
    }

    private void retire(Glock g) {
        if (g.retire()) {
            table.remove(g.name(), g);
        }
    }

    void failed(Glock g, RuntimeException e) {
        LOG.log(System.Logger.Level.ERROR, "glock " + g.name() + ": write-back before giving it up failed: " + e.getMessage()
                + "; keeping every lock for recovery");
        freeze("write-back of " + g.name() + " failed: " + e.getMessage());
        onSyncFailure.accept(e);
    }

    /** The node withdrew: from now on no lock is demoted or given back (see the class comment). */
    void freeze(String why) {
        if (frozenBecause == null) {
            frozenBecause = why;
            table.values().forEach(g -> g.freeze(why));
        }
    }

    /**
     * Unmount. When not frozen: the caller has made everything durable and in place and drops all
     * its caches at once, so every lock is released without the per-lock sync and invalidate.
     * When frozen: nothing is released; the lock space is abandoned by the caller.
     */
    @Override
    public void close() {
        timer.shutdownNow();
        demoter.shutdown();
        try {
            if (!demoter.awaitTermination(10, TimeUnit.SECONDS)) {
                LOG.log(System.Logger.Level.WARNING, "demotes still running at unmount");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!frozen()) {
            table.values().forEach(Glock::dropAtUnmount);
        }
        table.clear();
    }
}
