package io.concord.fs;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The wait-for graph between POSIX lock owners, for deadlock detection (Linux's {@code blocked_hash}
 * and {@code posix_locks_deadlock}). A vertex is a lock owner; an edge runs from an owner with a
 * blocked request to every owner holding a lock that conflicts with that request. An owner may have
 * several blocked requests (threads of one process share an owner), so the edges are kept per
 * request and an owner's out-edges are their union.
 *
 * <p>Invariant: the graph is acyclic. Edges are only ever added by {@link #waitFor}, which refuses
 * the request that would close a cycle. Since the graph without that request's edges is acyclic,
 * any new cycle must run through the request's owner, so it exists exactly when one of the new
 * blockers can reach the owner.
 *
 * <p>Linux follows a single chain (each owner's first blocked request, its first blocker) for at most
 * ten steps; this follows every edge, so it finds every cycle Linux finds, and also the ones hidden
 * behind a second blocker. Every cycle found is a real deadlock, because a blocked request needs all
 * of its blockers to let go.
 *
 * <p>Not thread-safe: {@link FileLocks} calls it only while holding its graph lock.
 */
final class FileLockGraph {
    /** owner -> its blocked requests -> the owners each one waits for. No empty inner maps. */
    private final Map<Long, Map<Object, Set<Long>>> waiting = new HashMap<>();

    /**
     * Records (or re-records) that {@code request} of {@code owner} waits for {@code blockers}.
     * Returns false, leaving the request out of the graph, if that would close a cycle.
     */
    boolean waitFor(Object request, long owner, Set<Long> blockers) {
        remove(request, owner);
        if (reaches(blockers, owner)) {
            return false;
        }
        waiting.computeIfAbsent(owner, o -> new HashMap<>()).put(request, Set.copyOf(blockers));
        return true;
    }

    void remove(Object request, long owner) {
        Map<Object, Set<Long>> requests = waiting.get(owner);
        if (requests != null && requests.remove(request) != null && requests.isEmpty()) {
            waiting.remove(owner);
        }
    }

    /** The number of blocked requests recorded; for tests. */
    int size() {
        return waiting.values().stream().mapToInt(Map::size).sum();
    }

    private boolean reaches(Set<Long> from, long target) {
        Set<Long> seen = new HashSet<>(from);
        ArrayDeque<Long> todo = new ArrayDeque<>(from);
        while (!todo.isEmpty()) {
            long owner = todo.pop();
            if (owner == target) {
                return true;
            }
            for (Set<Long> next : waiting.getOrDefault(owner, Map.of()).values()) {
                for (long o : next) {
                    if (seen.add(o)) {
                        todo.push(o);
                    }
                }
            }
        }
        return false;
    }
}
