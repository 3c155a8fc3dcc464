package io.concord.fs;

import io.concord.dlm.LockMode;
import io.concord.format.DirEntry;
import io.concord.format.Inode;
import java.util.ArrayList;
import java.util.List;

/**
 * Deleting inodes whose last name is gone, and the orphan directories that make that survive a
 * crash (one per node slot).
 *
 * <p>Unlink while open, across nodes (GFS2's iopen glock). Every node that has an inode open holds
 * its iopen glock PR (see {@link OpenInodes}). When an inode's last name goes, the unlinking node
 * frees it only if the inode is open nowhere: not here, and the iopen glock can be had EX by a
 * try-lock (which sends no callback, so nobody is made to close anything). Otherwise it is entered
 * in the unlinking node's orphan directory and left. A node's last close of an inode that has no
 * name left tries again (see {@link #lastCloseHere}); since each closer gives its PR up before it
 * tries, the last of them to close succeeds. If the last holder dies, the entry in the orphan
 * directory is what recovery finishes from.
 *
 * <p>All of it runs inside operations that hold the inode's glock EX; the orphan directories'
 * glocks are taken as needed (they are inodes like any other).
 */
final class Orphans {
    private static final System.Logger LOG = System.getLogger(Orphans.class.getName());

    private final Volume v;

    Orphans(Volume v) {
        this.v = v;
    }

    private long ownDir() {
        return v.sb.orphanDirs()[v.options.journalId()];
    }

    /** One name of {@code ino} is gone (the caller holds its glock EX): count it down, and delete it at zero. */
    void dropLink(OperationLocks l, long ino, boolean wholeDirectory) {
        Inode i = v.inodes.read(ino);
        int nlink = wholeDirectory ? 0 : i.nlink() - 1;
        i = i.withNlink(nlink).withTimes(i.atime(), i.mtime(), v.now());
        v.inodes.write(i);
        if (nlink != 0) {
            return;
        }
        boolean inUse = v.open.isOpen(ino) || v.open.mayBeOpenElsewhere(l, ino);
        if (!inUse && v.data.freesInOneStep(i)) {
            // Freed within this very operation, which commits whole or not at all: no state in
            // which the inode is unlinked but not yet freed can reach the journal, so it needs no
            // orphan entry (the usual case: a small file, unlinked while closed everywhere).
            reclaim(l, ino, false);
            return;
        }
        // Through the orphan directory, so that a crash before the blocks are freed is finished later.
        l.need(ownDir(), LockMode.EX);
        Inode dir = v.inodes.read(ownDir());
        v.inodes.write(v.directories.add(dir, new DirEntry(ino, i.type() >> 12, Names.utf8(Long.toString(ino)))));
        if (!inUse) {
            reclaim(l, ino, true);
        }
    }

    /**
     * Frees an unlinked inode's blocks, step by step, then the inode itself; the caller holds its
     * glock EX and knows it is open nowhere. {@code orphaned}: it may have an entry in some
     * node's orphan directory, to be removed.
     */
    private void reclaim(OperationLocks l, long ino, boolean orphaned) {
        Inode i = v.inodes.read(ino);
        Inode cleared = v.data.freeAll(i, v.runner::commitIfLarge, v.inodes::write);
        if (cleared.hasTree()) {
            // Not for inline data (a short symlink's target): its fork is no tree.
            cleared = v.btree.clear(cleared);
        }
        cleared = v.xattrs.clear(cleared);
        v.inodes.write(cleared);
        if (orphaned) {
            removeEntry(l, ino);
        }
        v.inodes.free(cleared);
    }

    /** Removes {@code ino}'s orphan entry from whichever slot's orphan directory has it (this node's first). */
    private void removeEntry(OperationLocks l, long ino) {
        long[] dirs = v.sb.orphanDirs();
        byte[] name = Names.utf8(Long.toString(ino));
        for (int k = 0; k < dirs.length; k++) {
            long dirIno = dirs[(v.options.journalId() + k) % dirs.length];
            l.need(dirIno, LockMode.EX);
            Inode dir = v.inodes.read(dirIno);
            Directory.Found f = v.directories.lookup(dir, name);
            if (f != null) {
                v.inodes.write(v.directories.remove(dir, f.key()));
                return;
            }
        }
    }

    /** This node closed {@code ino} for the last time (its iopen hold is gone): delete it if it has no name and nobody has it open. */
    void lastCloseHere(long ino) {
        v.change(l -> {
            Inode i = v.inodes.readHandle(ino);
            if (i.nlink() == 0 && !v.open.isOpen(ino) && !v.open.mayBeOpenElsewhere(l, ino)) {
                reclaim(l, ino, true);
            }
            return null;
        }, ino);
    }

    /**
     * At mount: deletes what this slot left unlinked when it last went down, unless another node
     * still has it open (then that node's last close deletes it).
     */
    void reclaimAtMount() {
        List<Long> pending = v.look(ownDir(), l -> {
            List<Long> found = new ArrayList<>();
            v.directories.list(v.inodes.read(ownDir()), 0, (k, e) -> found.add(e.inode()));
            return found;
        });
        int freed = 0;
        for (long ino : pending) {
            boolean done = v.change(l -> {
                Inode i = v.inodes.read(ino);
                if (i.nlink() != 0 || v.open.mayBeOpenElsewhere(l, ino)) {
                    return false;
                }
                reclaim(l, ino, true);
                return true;
            }, ino);
            freed += done ? 1 : 0;
        }
        if (freed > 0) {
            LOG.log(System.Logger.Level.INFO, "freed " + freed + " inodes unlinked while open before the last unmount");
            v.runner.exclusive(v.runner::commitNow);
        }
    }
}
