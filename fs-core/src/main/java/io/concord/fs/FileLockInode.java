package io.concord.fs;

import static io.concord.fs.FileLocks.F_UNLCK;
import static io.concord.fs.FileLocks.F_WRLCK;

import io.concord.fs.FileLocks.Lock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SequencedSet;
import java.util.Set;

/**
 * The locks of one inode and the requests waiting for them: POSIX byte-range locks and flock locks,
 * two namespaces that never conflict with each other (as on Linux).
 *
 * <p>POSIX locks are kept per owner, each owner's list sorted by start, disjoint, and with no two
 * locks of the same type touching (they would have been merged). That canonical form is what
 * Linux's {@code posix_lock_inode} maintains, so F_GETLK reports the same ranges. Lock counts per
 * inode are small (a few owners, a few ranges each), so the lookups are plain scans.
 *
 * <p>Not thread-safe: {@link FileLocks} runs every method under this object's monitor.
 */
final class FileLockInode {
    private static final Comparator<Lock> BY_START = Comparator.comparingLong(Lock::start);

    final long ino;
    /** Set, under the monitor, when the inode went empty and left the table; users look it up again. */
    boolean retired;
    /** Blocked F_SETLKW requests, in arrival order. */
    final SequencedSet<FileLocks.Waiter> posixWaiters = new LinkedHashSet<>();
    /** Blocked flock requests, in arrival order. */
    final SequencedSet<FileLocks.Waiter> flockWaiters = new LinkedHashSet<>();
    /** owner -> its POSIX locks in canonical form (see the class comment); no empty lists. */
    private final Map<Long, List<Lock>> posix = new LinkedHashMap<>();
    /** owner -> F_RDLCK (shared) or F_WRLCK (exclusive). */
    private final Map<Long, Integer> flocks = new LinkedHashMap<>();

    FileLockInode(long ino) {
        this.ino = ino;
    }

    boolean isEmpty() {
        return posix.isEmpty() && flocks.isEmpty() && posixWaiters.isEmpty() && flockWaiters.isEmpty();
    }

    /** The conflicting lock of another owner with the lowest start, or null if {@code wanted} fits. */
    Lock firstConflict(Lock wanted) {
        Lock first = null;
        for (List<Lock> locks : posix.values()) {
            for (Lock held : locks) {
                if (held.conflictsWith(wanted) && (first == null || held.start() < first.start())) {
                    first = held;
                }
            }
        }
        return first;
    }

    /** The owners holding a lock that conflicts with {@code wanted}. */
    Set<Long> blockers(Lock wanted) {
        Set<Long> owners = new LinkedHashSet<>();
        posix.forEach((owner, locks) -> {
            if (locks.stream().anyMatch(held -> held.conflictsWith(wanted))) {
                owners.add(owner);
            }
        });
        return owners;
    }

    /**
     * Applies {@code l} to its owner's locks, conflicts having been checked: the owner's locks in the
     * range are cut away (split where the range falls inside one), then unless {@code l} is F_UNLCK it
     * is added and merged with touching or overlapping locks of the same type.
     */
    void apply(Lock l) {
        List<Lock> old = posix.getOrDefault(l.owner(), List.of());
        List<Lock> cut = new ArrayList<>(old.size() + 2);
        for (Lock held : old) {
            if (!held.overlaps(l)) {
                cut.add(held);
                continue;
            }
            if (held.start() < l.start()) {
                cut.add(held.withRange(held.start(), l.start() - 1));
            }
            if (held.end() > l.end()) {
                cut.add(held.withRange(l.end() + 1, held.end()));
            }
        }
        if (l.type() != F_UNLCK) {
            cut.add(l);
        }
        cut.sort(BY_START);
        // Only l can touch a lock of its own type: the old list had no such pair and cutting
        // only moves boundaries away from each other. So a merged lock always takes l's pid.
        List<Lock> merged = new ArrayList<>(cut.size());
        for (Lock next : cut) {
            Lock last = merged.isEmpty() ? null : merged.getLast();
            if (last != null && last.type() == next.type() && last.end() != Long.MAX_VALUE && last.end() + 1 >= next.start()) {
                merged.set(merged.size() - 1, new Lock(last.start(), Math.max(last.end(), next.end()), l.type(), l.owner(), l.pid()));
            } else {
                merged.add(next);
            }
        }
        if (merged.isEmpty()) {
            posix.remove(l.owner());
        } else {
            posix.put(l.owner(), merged);
        }
    }

    /** Drops every POSIX lock of {@code owner}; returns whether it held any. */
    boolean dropPosix(long owner) {
        return posix.remove(owner) != null;
    }

    /** Every POSIX lock, sorted by start then owner. */
    List<Lock> posixLocks() {
        List<Lock> all = new ArrayList<>();
        posix.values().forEach(all::addAll);
        all.sort(BY_START.thenComparingLong(Lock::owner));
        return all;
    }

    /** The owner's flock type, or null. */
    Integer flockOf(long owner) {
        return flocks.get(owner);
    }

    /** Whether another owner's flock conflicts with {@code owner} taking {@code type}. */
    boolean flockConflicts(long owner, int type) {
        for (Map.Entry<Long, Integer> held : flocks.entrySet()) {
            if (held.getKey() != owner && (type == F_WRLCK || held.getValue() == F_WRLCK)) {
                return true;
            }
        }
        return false;
    }

    void setFlock(long owner, int type) {
        flocks.put(owner, type);
    }

    /** Drops the owner's flock; returns whether it held one. */
    boolean dropFlock(long owner) {
        return flocks.remove(owner) != null;
    }

    Map<Long, Integer> flocks() {
        return Map.copyOf(flocks);
    }
}
