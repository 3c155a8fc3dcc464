package io.concord.fuse;

import io.concord.dlm.LockSpaceListener;
import io.concord.dlm.membership.Member;
import io.concord.fs.ConcordFs;

/**
 * Hands what the lock space (and multi-mount protection) report to the filesystem. The lock space
 * must be opened, and may report, before the filesystem exists (the mount needs the lock space
 * first), so what comes before {@link #attach} is kept and applied then: a mount that was
 * suspended or expelled meanwhile starts that way.
 *
 * <p>Journal recovery of a failed node is the next issue's: {@link #nodeFailed} only logs, as
 * {@link LockSpaceListener#LOGGING} does, and the lock space stays frozen until someone recovers it.
 */
final class FilesystemListener implements LockSpaceListener {
    private ConcordFs fs;
    private boolean suspended;
    private String expelledBecause;

    synchronized void attach(ConcordFs filesystem) {
        fs = filesystem;
        if (expelledBecause != null) {
            fs.clusterExpelled(expelledBecause);
        } else if (suspended) {
            fs.clusterSuspended();
        }
    }

    @Override
    public void nodeFailed(Member member, long epoch) {
        LOGGING.nodeFailed(member, epoch);
    }

    @Override
    public synchronized void suspended() {
        suspended = true;
        if (fs != null) {
            fs.clusterSuspended();
        }
    }

    @Override
    public synchronized void resumed() {
        suspended = false;
        if (fs != null) {
            fs.clusterResumed();
        }
    }

    @Override
    public synchronized void expelled(String why) {
        LOGGING.expelled(why);
        if (expelledBecause == null) {
            expelledBecause = why;
        }
        if (fs != null) {
            fs.clusterExpelled(why);
        }
    }
}
