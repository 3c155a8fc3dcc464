package io.concord.fs;

import io.concord.dlm.LockMode;
import io.concord.errors.CorruptBlockException;
import io.concord.errors.FsException;
import io.concord.errors.FsException.Kind;
import io.concord.format.DirEntry;
import io.concord.format.Inode;
import java.nio.charset.StandardCharsets;

/**
 * rename(2) and renameat2(2), with the checks in the order the kernel makes them.
 *
 * <p>Locks: both directories EX from the start and, between directories, the rename glock EX
 * before them (it keeps the tree still for the loop check, as GFS2's rename lock does); the moved
 * inode, the replaced one and every directory the loop check climbs through are taken as found
 * ({@link OperationLocks#need}), which may end an attempt and run the rename again with them.
 */
final class Rename {
    static final int NOREPLACE = 1;
    static final int EXCHANGE = 2;

    private final Volume v;
    private final Orphans orphans;

    Rename(Volume v, Orphans orphans) {
        this.v = v;
        this.orphans = orphans;
    }

    void rename(Caller c, long srcDir, byte[] srcName, long dstDir, byte[] dstName, int flags) {
        if ((flags & ~(NOREPLACE | EXCHANGE)) != 0 || flags == (NOREPLACE | EXCHANGE)) {
            throw new FsException(Kind.INVALID_ARGUMENT, "rename flags 0x" + Integer.toHexString(flags));
        }
        for (byte[] n : new byte[][] {srcName, dstName}) {
            if (Names.isDot(n) || Names.isDotDot(n)) {
                throw new FsException(Kind.BUSY, "cannot rename '.' or '..'");
            }
        }
        v.requireWritable();
        OperationLocks locks = v.runner.locks().want(GlockType.INODE, srcDir, LockMode.EX).want(GlockType.INODE, dstDir, LockMode.EX);
        if (srcDir != dstDir) {
            locks.want(GlockType.RENAME, 0, LockMode.EX);
        }
        v.runner.mutate(locks, l -> {
            new One(l, c, srcDir, srcName, dstDir, dstName, flags).run();
            return null;
        });
    }

    private String str(byte[] name) {
        return new String(name, StandardCharsets.UTF_8);
    }

    /** One attempt at one rename. */
    private final class One {
        private final OperationLocks l;
        private final Caller c;
        private final long srcDir;
        private final byte[] srcName;
        private final long dstDir;
        private final byte[] dstName;
        private final int flags;

        One(OperationLocks l, Caller c, long srcDir, byte[] srcName, long dstDir, byte[] dstName, int flags) {
            this.l = l;
            this.c = c;
            this.srcDir = srcDir;
            this.srcName = srcName;
            this.dstDir = dstDir;
            this.dstName = dstName;
            this.flags = flags;
        }

        void run() {
            Names.check(srcName);
            Names.check(dstName);
            Inode sd = v.directory(srcDir);
            Inode dd = v.directory(dstDir);
            Permissions.check(c, sd, Permissions.WRITE | Permissions.EXEC);
            Permissions.check(c, dd, Permissions.WRITE | Permissions.EXEC);
            Directory.Found src = v.directories.lookup(sd, srcName);
            if (src == null) {
                throw new FsException(Kind.NOT_FOUND, "no entry '" + str(srcName) + "'");
            }
            Directory.Found dst = v.directories.lookup(dd, dstName);
            long srcIno = src.entry().inode();
            l.need(srcIno, LockMode.EX);
            if (dst != null) {
                l.need(dst.entry().inode(), LockMode.EX);
            }
            Inode s = v.inodes.read(srcIno);
            Permissions.checkSticky(c, sd, s);
            if ((flags & EXCHANGE) != 0) {
                if (dst == null) {
                    throw new FsException(Kind.NOT_FOUND, "no entry '" + str(dstName) + "' to exchange with");
                }
                exchange(src, dd, dst, s);
                return;
            }
            if (dst != null && (flags & NOREPLACE) != 0) {
                throw new FsException(Kind.EXISTS, "'" + str(dstName) + "' exists");
            }
            if (dst != null && dst.entry().inode() == srcIno) {
                return; // Both names are links to the same inode: POSIX says do nothing.
            }
            if (s.isDirectory() && srcDir != dstDir) {
                checkNotAncestor(srcIno, dstDir);
                Permissions.check(c, s, Permissions.WRITE); // its ".." changes
            }
            Inode d = null;
            if (dst != null) {
                d = v.inodes.read(dst.entry().inode());
                Permissions.checkSticky(c, dd, d);
                if (s.isDirectory() && !d.isDirectory()) {
                    throw new FsException(Kind.NOT_DIRECTORY, "cannot replace a non-directory with a directory");
                }
                if (!s.isDirectory() && d.isDirectory()) {
                    throw new FsException(Kind.IS_DIRECTORY, "cannot replace a directory with a non-directory");
                }
                if (d.isDirectory() && d.entries() != 0) {
                    throw new FsException(Kind.NOT_EMPTY, "target directory is not empty");
                }
            }
            if (s.isDirectory() && dst == null && srcDir != dstDir && dd.nlink() >= DirectoryOperations.LINK_MAX) {
                throw new FsException(Kind.TOO_MANY_LINKS, "directory " + dstDir + " has too many subdirectories");
            }
            move(s, dst, d);
        }

        private void move(Inode s, Directory.Found dst, Inode d) {
            var now = v.now();
            long srcIno = s.number();
            var moved = new DirEntry(srcIno, s.type() >> 12, dstName);
            if (dst != null) {
                v.inodes.write(v.directories.replace(v.inodes.read(dstDir), dst.key(), moved));
                if (d.isDirectory()) {
                    Inode ddNow = v.inodes.read(dstDir);
                    v.inodes.write(ddNow.withNlink(ddNow.nlink() - 1));
                }
                orphans.dropLink(l, d.number(), d.isDirectory());
            } else {
                v.inodes.write(v.directories.add(v.inodes.read(dstDir), moved));
            }
            Inode sdNow = v.inodes.read(srcDir);
            Directory.Found again = v.directories.lookup(sdNow, srcName);
            sdNow = v.directories.remove(sdNow, again.key());
            if (s.isDirectory() && srcDir != dstDir) {
                sdNow = sdNow.withNlink(sdNow.nlink() - 1);
            }
            v.inodes.write(sdNow.withTimes(sdNow.atime(), now, now));
            if (srcDir != dstDir) {
                Inode ddNow = v.inodes.read(dstDir);
                if (s.isDirectory()) {
                    ddNow = ddNow.withNlink(ddNow.nlink() + 1);
                }
                v.inodes.write(ddNow.withTimes(ddNow.atime(), now, now));
            }
            Inode sNow = v.inodes.read(srcIno);
            if (sNow.isDirectory()) {
                sNow = sNow.withParent(dstDir);
            }
            v.inodes.write(sNow.withTimes(sNow.atime(), sNow.mtime(), now));
        }

        private void exchange(Directory.Found src, Inode dd, Directory.Found dst, Inode s) {
            long dstIno = dst.entry().inode();
            Inode d = v.inodes.read(dstIno);
            Permissions.checkSticky(c, dd, d);
            if (srcDir != dstDir) {
                if (s.isDirectory()) {
                    checkNotAncestor(s.number(), dstDir);
                }
                if (d.isDirectory()) {
                    checkNotAncestor(d.number(), srcDir);
                }
            }
            var now = v.now();
            v.inodes.write(v.directories.replace(v.inodes.read(srcDir), src.key(), new DirEntry(dstIno, d.type() >> 12, srcName)));
            v.inodes.write(v.directories.replace(v.inodes.read(dstDir), dst.key(), new DirEntry(s.number(), s.type() >> 12, dstName)));
            if (srcDir != dstDir) {
                int delta = (d.isDirectory() ? 1 : 0) - (s.isDirectory() ? 1 : 0);
                Inode sdNow = v.inodes.read(srcDir);
                v.inodes.write(sdNow.withNlink(sdNow.nlink() + delta).withTimes(sdNow.atime(), now, now));
                Inode ddNow = v.inodes.read(dstDir);
                v.inodes.write(ddNow.withNlink(ddNow.nlink() - delta).withTimes(ddNow.atime(), now, now));
                Inode sNow = v.inodes.read(s.number());
                v.inodes.write((sNow.isDirectory() ? sNow.withParent(dstDir) : sNow).withTimes(sNow.atime(), sNow.mtime(), now));
                Inode dNow = v.inodes.read(dstIno);
                v.inodes.write((dNow.isDirectory() ? dNow.withParent(srcDir) : dNow).withTimes(dNow.atime(), dNow.mtime(), now));
            } else {
                Inode sdNow = v.inodes.read(srcDir);
                v.inodes.write(sdNow.withTimes(sdNow.atime(), now, now));
            }
        }

        /** A directory may not move into itself or below itself; each parent on the way is read under its glock. */
        private void checkNotAncestor(long moving, long target) {
            long at = target;
            for (int depth = 0; depth < 100_000; depth++) {
                if (at == moving) {
                    throw new FsException(Kind.INVALID_ARGUMENT, "cannot move a directory into itself");
                }
                if (at == v.sb.rootInode()) {
                    return;
                }
                l.need(at, LockMode.PR);
                at = v.inodes.read(at).parent();
            }
            throw new CorruptBlockException(target, "the parent chain does not reach the root");
        }
    }
}
