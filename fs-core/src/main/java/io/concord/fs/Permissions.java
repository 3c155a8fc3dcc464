package io.concord.fs;

import io.concord.errors.FsException;
import io.concord.errors.FsException.Kind;
import io.concord.format.Inode;

/**
 * POSIX permission checks against a {@link Caller}, as the kernel's generic_permission does them:
 * owner, else group (primary or supplementary), else other; root passes read and write checks
 * always and an execute check when any execute bit is set (or on a directory).
 */
final class Permissions {
    static final int READ = 4;
    static final int WRITE = 2;
    static final int EXEC = 1;

    static final int S_ISUID = 04000;
    static final int S_ISGID = 02000;
    static final int S_ISVTX = 01000;

    private Permissions() {
    }

    static boolean allowed(Caller c, Inode i, int mask) {
        if (c.isRoot()) {
            if ((mask & EXEC) == 0 || i.isDirectory()) {
                return true;
            }
            return (i.mode() & 0111) != 0;
        }
        int bits;
        if (c.uid() == i.uid()) {
            bits = (i.mode() >> 6) & 7;
        } else if (c.inGroup(i.gid())) {
            bits = (i.mode() >> 3) & 7;
        } else {
            bits = i.mode() & 7;
        }
        return (bits & mask) == mask;
    }

    static void check(Caller c, Inode i, int mask) {
        if (!allowed(c, i, mask)) {
            throw new FsException(Kind.ACCESS_DENIED, "permission denied on inode " + i.number());
        }
    }

    /** May {@code c} remove or rename entry {@code victim} from {@code dir} (the sticky bit rule)? */
    static void checkSticky(Caller c, Inode dir, Inode victim) {
        if ((dir.mode() & S_ISVTX) != 0 && !c.isRoot() && c.uid() != dir.uid() && c.uid() != victim.uid()) {
            throw new FsException(Kind.NOT_PERMITTED, "sticky directory " + dir.number() + ": only the owner may remove or rename this entry");
        }
    }

    static void checkOwner(Caller c, Inode i) {
        if (!c.isRoot() && c.uid() != i.uid()) {
            throw new FsException(Kind.NOT_PERMITTED, "operation permitted only to the owner of inode " + i.number());
        }
    }
}
