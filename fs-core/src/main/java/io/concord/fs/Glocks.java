package io.concord.fs;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.concord.dlm.Lock;
import io.concord.dlm.LockMode;
import io.concord.dlm.LockSpace;
import io.concord.dlm.ResourceName;
import io.concord.errors.FsException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * Glocks: this node's cached hold on cluster locks, as GFS2's glock.c. The first use of a
 * resource asks the lock manager for it; after that the lock stays with the node, unused or not,
 * until another node wants it. Lock ownership is cache ownership: what a glock protects may be
 * served from this node's caches only while the glock is held in a mode that covers the access.
 *
 * <p>Demotion: a blocking callback from the lock manager marks the glock wanted elsewhere. Once
 * it has been held for at least the minimum hold time (so that a lock bouncing between nodes still
 * gets work done on each visit) and no local holder is left, the type's {@link GlockOps#sync} and
 * {@link GlockOps#invalidate} run and the lock is converted down, or released.
 *
 * <p>Concurrency: each glock's state is guarded by its own monitor; lock manager calls that may
 * wait are made outside it. Demotions run on {@code demoter}, never on a lock manager thread.
 * Idle glocks are forgotten (and released) when the table outgrows its bound.
 */
final class Glocks implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Glocks.class.getName());

    private final LockSpace space;
    private final Map<GlockType, GlockOps> ops;
    private final Duration minHold;
    private final Duration grantTimeout;
    private final Clock clock;
    private final Executor demoter;
    private final ConcurrentHashMap<ResourceName, Glock> table = new ConcurrentHashMap<>();
    private final Cache<ResourceName, Boolean> recent;

    Glocks(LockSpace space, Map<GlockType, GlockOps> ops, Duration minHold, Duration grantTimeout, Clock clock, Executor demoter, int maxIdle) {
        this.space = space;
        this.ops = new EnumMap<>(ops);
        this.minHold = minHold;
        this.grantTimeout = grantTimeout;
        this.clock = clock;
        this.demoter = demoter;
        // The cache's upkeep runs after each new glock. Far below the bound it can evict nothing,
        // so no glock is retired (no sync, no invalidate): it is done on the spot rather than
        // paying a thread hand-off per new inode. Near the bound it goes to the demoter, as
        // retiring may have to sync.
        this.recent = Caffeine.newBuilder().maximumSize(maxIdle)
                .executor(task -> {
                    if (recentSize() < maxIdle / 2) {
                        task.run();
                    } else {
                        demoter.execute(task);
                    }
                })
                .removalListener((ResourceName name, Boolean v, com.github.benmanes.caffeine.cache.RemovalCause cause) -> {
                    if (name != null && cause.wasEvicted()) {
                        retireIfIdle(name);
                    }
                }).build();
    }

    /** How many glocks the idle bound tracks (as many as possible while it is being built). */
    private long recentSize() {
        Cache<ResourceName, Boolean> r = recent;
        return r == null ? Long.MAX_VALUE : r.estimatedSize();
    }

    /** A use of a glock; closing it ends the use (the lock itself stays cached). */
    final class Holder implements AutoCloseable {
        private final Glock glock;
        private boolean closed;

        private Holder(Glock glock) {
            this.glock = glock;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                glock.release();
            }
        }
    }

    /** Holds {@code type}/{@code number} in at least {@code mode}, asking the lock manager if needed. */
    Holder hold(GlockType type, long number, LockMode mode) {
        ResourceName name = new ResourceName(type.code, number);
        while (true) {
            Glock g = table.computeIfAbsent(name, n -> new Glock(type, n));
            if (g.acquire(mode)) {
                // A read marks the glock recently used; only a new glock is a write (every write
                // makes the cache run its upkeep).
                if (recent.getIfPresent(name) == null) {
                    recent.put(name, Boolean.TRUE);
                }
                return new Holder(g);
            }
            // The glock was retired while we looked it up: take a fresh one.
        }
    }

    int size() {
        return table.size();
    }

    private void retireIfIdle(ResourceName name) {
        Glock g = table.get(name);
        if (g != null && g.retireIfIdle()) {
            table.remove(name, g);
        }
    }

    /**
     * Releases every lock (unmount). The caller has already made everything durable and in place
     * and drops all its caches at once, so the per-lock sync and invalidate are not run.
     */
    @Override
    public void close() {
        for (Glock g : table.values()) {
            g.release(false);
        }
        table.clear();
    }

    private final class Glock {
        private final GlockType type;
        private final ResourceName name;
        private final Lock lock;
        private LockMode granted;       // null: not held from the lock manager
        private int holders;
        private LockMode wantedElsewhere; // set by a blocking callback until demoted
        private Instant grantedAt = Instant.MIN;
        private boolean converting;
        private boolean retired;

        Glock(GlockType type, ResourceName name) {
            this.type = type;
            this.name = name;
            this.lock = space.newLock(name, (l, wanted) -> blocked(wanted));
        }

        /** Returns false if this glock was retired and must not be used. */
        boolean acquire(LockMode mode) {
            synchronized (this) {
                while (true) {
                    if (retired) {
                        return false;
                    }
                    if (!converting && granted != null && granted.covers(mode) && wantedElsewhere == null) {
                        holders++;
                        return true;
                    }
                    if (!converting && holders == 0 && wantedElsewhere == null) {
                        converting = true;
                        break;
                    }
                    if (!converting && holders > 0 && wantedElsewhere == null) {
                        // A stronger mode while others hold a weaker one: wait for them to finish.
                        waitQuietly();
                        continue;
                    }
                    waitQuietly();
                }
            }
            LockMode result = null;
            try {
                result = lock.lock(mode, grantTimeout);
            } finally {
                synchronized (this) {
                    converting = false;
                    if (result != null) {
                        granted = result;
                        grantedAt = clock.instant();
                        holders++;
                    }
                    notifyAll();
                }
            }
            if (result == null) {
                throw new FsException(FsException.Kind.IO_ERROR, "lock " + name + " was not granted");
            }
            return true;
        }

        void release() {
            boolean demote;
            synchronized (this) {
                holders--;
                demote = holders == 0 && wantedElsewhere != null;
                notifyAll();
            }
            if (demote) {
                scheduleDemote();
            }
        }

        private void blocked(LockMode wanted) {
            boolean idle;
            synchronized (this) {
                if (granted == null || granted.compatibleWith(wanted)) {
                    return;
                }
                wantedElsewhere = wanted;
                idle = holders == 0 && !converting;
            }
            if (idle) {
                scheduleDemote();
            }
        }

        private void scheduleDemote() {
            demoter.execute(() -> {
                Duration held = Duration.between(grantedAt, clock.instant());
                if (held.compareTo(minHold) < 0) {
                    sleepQuietly(minHold.minus(held));
                }
                demote();
            });
        }

        private void demote() {
            LockMode from;
            LockMode wanted;
            synchronized (this) {
                if (holders > 0 || converting || wantedElsewhere == null || granted == null) {
                    return;
                }
                from = granted;
                wanted = wantedElsewhere;
                converting = true;
            }
            try {
                GlockOps o = ops.getOrDefault(type, GlockOps.NONE);
                LockMode target = LockMode.PR.compatibleWith(wanted) && from != LockMode.PR ? LockMode.PR : null;
                if (from == LockMode.EX || from == LockMode.PW) {
                    o.sync(type, name.number());
                }
                if (target == null) {
                    o.invalidate(type, name.number());
                    lock.unlock().join();
                } else {
                    lock.request(target, java.util.Set.of()).join();
                }
                synchronized (this) {
                    granted = target;
                }
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "demoting glock " + name + " failed", e);
            } finally {
                synchronized (this) {
                    converting = false;
                    wantedElsewhere = null;
                    notifyAll();
                }
            }
        }

        synchronized boolean retireIfIdle() {
            if (holders > 0 || converting) {
                return false;
            }
            retire();
            return true;
        }

        synchronized void retire() {
            release(true);
        }

        /** Gives the lock back to the lock manager, syncing and invalidating first if {@code withOps}. */
        synchronized void release(boolean withOps) {
            retired = true;
            if (granted != null) {
                GlockOps o = ops.getOrDefault(type, GlockOps.NONE);
                if (withOps && (granted == LockMode.EX || granted == LockMode.PW)) {
                    o.sync(type, name.number());
                }
                if (withOps) {
                    o.invalidate(type, name.number());
                }
                lock.unlock().join();
                granted = null;
            }
            notifyAll();
        }

        private void waitQuietly() {
            try {
                wait(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new FsException(FsException.Kind.IO_ERROR, "interrupted waiting for lock " + name);
            }
        }
    }

    private static void sleepQuietly(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
