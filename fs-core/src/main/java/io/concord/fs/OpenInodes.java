package io.concord.fs;

import io.concord.dlm.LockMode;
import java.util.HashMap;
import java.util.Map;

/**
 * The inodes this node has open, with how many opens each, and the iopen glock (PR) each open
 * inode holds from its first open to its last close, so that another node unlinking it can tell
 * (by a try-lock for EX) that it is still in use here.
 */
final class OpenInodes {
    private final Glocks glocks;
    private final boolean clustered;
    private final Map<Long, Integer> counts = new HashMap<>();
    private final Map<Long, Glocks.Holder> iopen = new HashMap<>();

    /** @param clustered false with the single-node lock manager: no other node can ask, so no iopen glocks */
    OpenInodes(Glocks glocks, boolean clustered) {
        this.glocks = glocks;
        this.clustered = clustered;
    }

    /**
     * Takes the iopen hold for an open about to be counted (outside the filesystem lock: it may
     * wait for an unlinking node's short EX); null when not clustered. Pair with {@link #counted}
     * or {@link #notCounted}.
     */
    Glocks.Holder prepare(long ino) {
        return clustered ? glocks.hold(GlockType.IOPEN, ino, LockMode.PR) : null;
    }

    /** Counts an open; keeps {@code hold} if it is the first, else drops it. */
    synchronized void counted(long ino, Glocks.Holder hold) {
        int n = counts.merge(ino, 1, Integer::sum);
        if (n == 1 && hold != null) {
            Glocks.Holder old = iopen.put(ino, hold);
            if (old != null) {
                old.close();
            }
        } else if (hold != null) {
            hold.close();
        }
    }

    void notCounted(Glocks.Holder hold) {
        if (hold != null) {
            hold.close();
        }
    }

    /** Ends an open; true if it was the last one here (its iopen hold is then released). */
    boolean closed(long ino) {
        Glocks.Holder h;
        synchronized (this) {
            if (!counts.containsKey(ino)) {
                return false;
            }
            Integer left = counts.computeIfPresent(ino, (k, v) -> v <= 1 ? null : v - 1);
            if (left != null) {
                return false;
            }
            h = iopen.remove(ino);
        }
        if (h != null) {
            h.close();
        }
        return true;
    }

    /** Whether another node may have the inode open: false without other nodes. */
    boolean mayBeOpenElsewhere(OperationLocks l, long ino) {
        return clustered && !l.tryNeed(GlockType.IOPEN, ino, LockMode.EX);
    }

    synchronized boolean isOpen(long ino) {
        return counts.containsKey(ino);
    }

    /** Unmount: lets every iopen hold go. */
    synchronized void closeAll() {
        iopen.values().forEach(Glocks.Holder::close);
        iopen.clear();
        counts.clear();
    }
}
