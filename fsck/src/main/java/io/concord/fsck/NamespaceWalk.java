package io.concord.fsck;

import io.concord.format.DirEntry;
import io.concord.format.Inode;
import io.concord.format.Superblock;

/**
 * Walks the namespace from the root and from each journal's orphan directory: checks every inode
 * the first time an entry names it, counts every entry that names it (ordinary and orphan
 * directories apart, for {@link LinkCounts}), and walks every directory it meets. Directories wait
 * on a stack rather than in recursion, so a deep tree cannot overflow the thread's stack.
 */
final class NamespaceWalk {
    private static final int TICK = 100_000;

    private final Context ctx;
    private final InodeTable table;
    private final InodeCheck check;
    private final Progress progress;
    private final LongStack pending = new LongStack();

    NamespaceWalk(Context ctx, Claims claims, InodeTable table, Progress progress) {
        this.ctx = ctx;
        this.table = table;
        this.check = new InodeCheck(ctx, claims);
        this.progress = progress;
    }

    void run() {
        Superblock sb = ctx.superblock();
        systemDirectory(sb.rootInode(), "the root directory", false);
        long[] orphanDirs = sb.orphanDirs();
        for (int j = 0; j < orphanDirs.length; j++) {
            systemDirectory(orphanDirs[j], "the orphan directory of journal " + j, true);
        }
        while (!pending.isEmpty()) {
            walkDirectory(pending.pop());
        }
    }

    private void systemDirectory(long ino, String what, boolean orphanDir) {
        if (!ctx.geometry().inDataArea(ino, 1)) {
            ctx.report(Problem.SYSTEM_DIR, 0, "the superblock names block " + ino + " as " + what + ", which is in "
                    + ctx.geometry().describe(ino) + ", not a data area");
            return;
        }
        if (table.slot(ino) >= 0) {
            ctx.report(Problem.SYSTEM_DIR, 0, "the superblock names inode " + ino + " as " + what + ", and also as another system directory");
            return;
        }
        int slot = table.add(ino);
        table.mark(slot, InodeTable.SYSTEM | (orphanDir ? InodeTable.ORPHAN_DIR : 0));
        Inode dir = check.load(ino, what + " (inode " + ino + ")", Problem.SYSTEM_DIR);
        if (dir == null) {
            return;
        }
        loaded(slot, dir);
        if (!dir.isDirectory()) {
            ctx.report(Problem.SYSTEM_DIR, ino, what + " (inode " + ino + ") is a " + InodeCheck.typeName(dir.type()) + ", not a directory");
            check.checkNonDirectory(dir);
            return;
        }
        if (dir.parent() != ino) {
            ctx.report(Problem.PARENT, ino, what + " (inode " + ino + ") has parent " + dir.parent() + "; it must be its own parent");
        }
        pending.push(ino);
    }

    private void walkDirectory(long ino) {
        Inode dir = check.reload(ino);
        if (dir == null) {
            return;
        }
        int slot = table.slot(ino);
        boolean orphanDir = table.is(slot, InodeTable.ORPHAN_DIR);
        int[] subdirs = new int[1];
        check.checkDirectory(dir, (key, e) -> {
            if (reference(ino, orphanDir, e)) {
                subdirs[0]++;
            }
        });
        table.setSubdirs(table.slot(ino), subdirs[0]);
    }

    /** Counts one entry that names an inode, checking the inode if it is new; true when it names a directory. */
    private boolean reference(long dirIno, boolean fromOrphanDir, DirEntry e) {
        long target = e.inode();
        String entry = "entry '" + InodeCheck.printable(e.name()) + "' in " + (fromOrphanDir ? "orphan directory " : "directory ") + dirIno;
        if (fromOrphanDir && !Long.toString(target).equals(e.nameString())) {
            ctx.report(Problem.ORPHAN, dirIno, entry + " points at inode " + target + "; an orphan entry is named by its inode's number");
        }
        int slot = table.slot(target);
        if (slot < 0) {
            if (!ctx.geometry().inDataArea(target, 1)) {
                ctx.report(Problem.ENTRY_TARGET, target, entry + " points at block " + target + ", which is in " + ctx.geometry().describe(target)
                        + ", not an inode");
                return !fromOrphanDir && e.type() << 12 == Inode.S_IFDIR;
            }
            slot = table.add(target);
            Inode t = check.load(target, "inode " + target + " (named by " + entry + ")", entry + " points at block " + target + ", which",
                    Problem.ENTRY_TARGET);
            if (t != null) {
                loaded(slot, t);
                if (t.isDirectory()) {
                    if (!fromOrphanDir && t.parent() != dirIno) {
                        ctx.report(Problem.PARENT, target, "directory " + target + " is named by " + entry + " but its parent field says "
                                + t.parent());
                    }
                    pending.push(target);
                } else {
                    check.checkNonDirectory(t);
                }
            }
        }
        table.addRef(slot, fromOrphanDir);
        if (table.is(slot, InodeTable.SYSTEM)) {
            ctx.report(Problem.DIRECTORY_LINKS, target, entry + " names inode " + target + ", which is the root or an orphan directory");
        }
        int actual = table.type(slot);
        if (actual != 0 && e.type() != actual) {
            ctx.report(Problem.ENTRY_TYPE, dirIno, entry + " says inode " + target + " is a " + describeType(e.type()) + ", it is a "
                    + describeType(actual));
        }
        int effective = actual != 0 ? actual : e.type();
        return !fromOrphanDir && effective << 12 == Inode.S_IFDIR;
    }

    private void loaded(int slot, Inode inode) {
        int type = InodeCheck.typeName(inode.type()) != null ? inode.type() >> 12 : 0;
        table.setLoaded(slot, type, inode.nlink());
        if (table.size() % TICK == 0) {
            progress.line("  " + table.size() + " inodes so far");
        }
    }

    static String describeType(int type) {
        String name = InodeCheck.typeName(type << 12);
        return name != null ? name : "type " + type;
    }
}
