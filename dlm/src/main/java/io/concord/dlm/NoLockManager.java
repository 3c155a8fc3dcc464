package io.concord.dlm;

import static java.util.Objects.requireNonNull;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The single-node lock manager, GFS2's lock_nolock. It is not a stub: every lock space runs the
 * real {@link ResourceQueues} engine in-process, so two {@link Lock}s on one resource conflict,
 * BASTs are delivered and value blocks are kept, exactly as the distributed manager would do
 * between nodes. It only lacks the other nodes.
 */
public final class NoLockManager implements LockManager {
    private final ConcurrentMap<String, NoLockSpace> open = new ConcurrentHashMap<>();

    /** @throws IllegalStateException if a lock space of that name is open; closing it frees the name */
    @Override
    public LockSpace openLockSpace(String name) {
        if (requireNonNull(name, "name").isBlank()) {
            throw new IllegalArgumentException("a lock space needs a name");
        }
        NoLockSpace space = new NoLockSpace(name, closed -> open.remove(closed.name(), closed));
        if (open.putIfAbsent(name, space) != null) {
            throw new IllegalStateException("lock space " + name + " is already open");
        }
        return space;
    }
}
