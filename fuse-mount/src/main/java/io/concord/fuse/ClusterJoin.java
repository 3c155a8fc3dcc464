package io.concord.fuse;

import io.concord.dlm.ClusterLockManager;
import io.concord.dlm.ClusterLockSpace;
import io.concord.dlm.LockException;
import io.concord.errors.ConcordException;
import io.concord.errors.FormatException;
import io.concord.format.Superblock;
import java.util.OptionalInt;

/**
 * A cluster mount's place in its cluster: this node's lock manager, the filesystem's lock space,
 * and the journal slot claimed in it. Opened before the filesystem is mounted, closed after it is
 * unmounted. The lock table {@code cluster:fs} names both: the manager joins cluster
 * {@code cluster}, and the lock space within it is {@code fs} (the DLM keeps it under
 * {@code /concord/cluster/fs} in ZooKeeper, and ZooKeeper path elements cannot hold the colon).
 */
final class ClusterJoin implements AutoCloseable {
    private final ClusterLockManager manager;
    private final ClusterLockSpace space;
    private final int slot;

    private ClusterJoin(ClusterLockManager manager, ClusterLockSpace space, int slot) {
        this.manager = manager;
        this.space = space;
        this.slot = slot;
    }

    /**
     * Starts the lock manager, joins the lock space and claims slot {@code wanted} (or the lowest
     * free one).
     *
     * @throws ConcordException with one line: ZooKeeper unreachable, the key missing or malformed,
     *                          the node name held by a live process, no free slot
     */
    static ClusterJoin open(ClusterSettings settings, Superblock sb, OptionalInt wanted, FilesystemListener listener) {
        if (wanted.isPresent() && wanted.getAsInt() >= sb.journalCount()) {
            throw new FormatException("journal " + wanted.getAsInt() + " does not exist (the filesystem has " + sb.journalCount() + ")");
        }
        ClusterLockManager manager;
        try {
            manager = ClusterLockManager.start(settings.config(sb.lockTable()));
        } catch (LockException e) {
            throw oneLine(e);
        }
        try {
            ClusterLockSpace space = manager.openLockSpace(sb.lockTable().substring(sb.lockTable().indexOf(':') + 1), listener);
            int slot = wanted.isPresent() ? space.claimJournalSlot(sb.journalCount(), wanted.getAsInt())
                    : space.claimJournalSlot(sb.journalCount());
            return new ClusterJoin(manager, space, slot);
        } catch (LockException e) {
            manager.close();
            throw oneLine(e);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    ClusterLockSpace space() {
        return space;
    }

    int slot() {
        return slot;
    }

    String node() {
        return manager.nodeName();
    }

    /** Leaves the cluster: the lock space (if the filesystem has not closed it already), then the manager's connections. */
    @Override
    public void close() {
        manager.close();
    }

    /** The lock manager's reason, with the cause's where it adds one ("join failed: connection refused"). */
    private static ConcordException oneLine(LockException e) {
        String why = e.getMessage();
        Throwable cause = e.getCause();
        if (cause != null && cause.getMessage() != null && !why.contains(cause.getMessage())) {
            why = why + ": " + cause.getMessage();
        }
        return new ConcordException(why.replace('\n', ' '), e);
    }
}
