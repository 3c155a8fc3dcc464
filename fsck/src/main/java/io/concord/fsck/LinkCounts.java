package io.concord.fsck;

/**
 * Link counts, once the whole namespace has been walked. An inode's nlink is the number of
 * entries that name it; a directory's is 2 + its subdirectories ("." and its entry in its parent,
 * and each child's ".."), and a directory has exactly one name. An inode in an orphan directory is
 * being deleted: its nlink is 0 and no other entry names it. The root and orphan directories are
 * named by no entry; an orphan directory's nlink stays 2 (what it holds is not its children).
 */
final class LinkCounts {
    private LinkCounts() {
    }

    static void check(Context ctx, InodeTable table) {
        for (int slot : table.slots()) {
            if (!table.is(slot, InodeTable.LOADED) || table.is(slot, InodeTable.UNREACHABLE)) {
                continue;
            }
            long ino = table.inode(slot);
            int nlink = table.nlink(slot);
            int refs = table.refs(slot);
            int orphanRefs = table.orphanRefs(slot);
            boolean dir = table.type(slot) == io.concord.format.Inode.S_IFDIR >> 12;
            if (table.is(slot, InodeTable.SYSTEM)) {
                String what = table.is(slot, InodeTable.ORPHAN_DIR) ? "orphan directory " + ino : "the root directory (" + ino + ")";
                if (refs + orphanRefs > 0) {
                    ctx.report(Problem.DIRECTORY_LINKS, ino, what + " is named by " + (refs + orphanRefs) + " directory entries; it must be named by none");
                }
                int expected = table.is(slot, InodeTable.ORPHAN_DIR) ? 2 : 2 + table.subdirs(slot);
                if (dir && nlink != expected) {
                    ctx.report(Problem.NLINK, ino, what + " has nlink " + nlink + ", expected " + expected
                            + (table.is(slot, InodeTable.ORPHAN_DIR) ? "" : " (2 + " + table.subdirs(slot) + " subdirectories)"));
                }
                continue;
            }
            if (orphanRefs > 0) {
                if (orphanRefs > 1) {
                    ctx.report(Problem.ORPHAN, ino, "inode " + ino + " is listed " + orphanRefs + " times in orphan directories");
                }
                if (refs > 0) {
                    ctx.report(Problem.ORPHAN, ino, "inode " + ino + " is in an orphan directory (being deleted), yet " + refs
                            + (refs == 1 ? " directory entry still names it" : " directory entries still name it"));
                }
                if (nlink != 0) {
                    ctx.report(Problem.ORPHAN, ino, "inode " + ino + " is in an orphan directory (being deleted) but has nlink " + nlink
                            + "; it must be 0");
                }
                continue;
            }
            if (dir) {
                if (refs > 1) {
                    ctx.report(Problem.DIRECTORY_LINKS, ino, "directory " + ino + " is named by " + refs + " directory entries; a directory has one name");
                }
                int expected = 2 + table.subdirs(slot);
                if (nlink != expected) {
                    ctx.report(Problem.NLINK, ino, "directory " + ino + " has nlink " + nlink + ", expected " + expected + " (2 + "
                            + table.subdirs(slot) + " subdirectories)");
                }
            } else if (nlink != refs) {
                ctx.report(Problem.NLINK, ino, "inode " + ino + " has nlink " + nlink + ", but " + refs + (refs == 1 ? " directory entry names it"
                        : " directory entries name it"));
            }
        }
    }
}
