package io.concord.fs;

import io.concord.dlm.LockMode;
import io.concord.errors.FsException;
import io.concord.errors.FsException.Kind;
import io.concord.format.DirEntry;
import io.concord.format.Inode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Operations on names in directories: lookup, listing, creating, linking and removing. Each holds
 * the directory's glock (PR to look, EX to change) and, through {@link OperationLocks#need}, that
 * of every other inode it reads or changes: the child a name points at, the victim, the new inode.
 */
final class DirectoryOperations {
    static final int LINK_MAX = 65000;
    private static final int SYMLINK_MAX = 4095;
    private static final int MAX_SYMLINK_FOLLOWS = 40;

    private final Volume v;
    private final Orphans orphans;
    private final InodeOperations inodeOps;

    DirectoryOperations(Volume v, Orphans orphans, InodeOperations inodeOps) {
        this.v = v;
        this.orphans = orphans;
        this.inodeOps = inodeOps;
    }

    Attributes lookup(Caller c, long dir, byte[] name) {
        return v.look(dir, l -> {
            Inode d = v.directory(dir);
            Permissions.check(c, d, Permissions.EXEC);
            if (Names.isDot(name)) {
                return Attributes.of(d, v.blockSize());
            }
            if (Names.isDotDot(name)) {
                l.need(d.parent(), LockMode.PR);
                return Attributes.of(v.inodes.read(d.parent()), v.blockSize());
            }
            Names.check(name);
            Directory.Found f = v.directories.lookup(d, name);
            if (f == null) {
                throw new FsException(Kind.NOT_FOUND, "no entry '" + new String(name, StandardCharsets.UTF_8) + "' in directory " + dir);
            }
            l.need(f.entry().inode(), LockMode.PR);
            return Attributes.of(v.inodes.read(f.entry().inode()), v.blockSize());
        });
    }

    /** Entries after {@code cookie} (0 = from the start), at most {@code max}; "." and ".." first, cookies 1 and 2. */
    List<DirListEntry> readdir(Caller c, long dir, long cookie, int max) {
        return v.look(dir, l -> {
            Inode d = v.directory(dir);
            Permissions.check(c, d, Permissions.READ);
            List<DirListEntry> out = new ArrayList<>();
            if (cookie < 1 && out.size() < max) {
                out.add(new DirListEntry(".", d.number(), Inode.S_IFDIR >> 12, 1));
            }
            if (cookie < 2 && out.size() < max) {
                out.add(new DirListEntry("..", d.parent(), Inode.S_IFDIR >> 12, 2));
            }
            if (out.size() < max) {
                v.directories.list(d, cookie, (k, e) -> {
                    out.add(new DirListEntry(e.name(), e.inode(), e.type(), k));
                    return out.size() < max;
                });
            }
            return out;
        });
    }

    /** Resolves a path as the kernel's path walk does: symlinks followed (ELOOP after 40), search permission checked. */
    Attributes resolve(Caller c, String path, boolean followLast) {
        return resolveFrom(c, v.sb.rootInode(), path, followLast, new int[] {0});
    }

    private Attributes resolveFrom(Caller c, long start, String path, boolean followLast, int[] follows) {
        long cur = path.startsWith("/") ? v.sb.rootInode() : start;
        List<String> comps = new ArrayList<>();
        for (String p : path.split("/")) {
            if (!p.isEmpty()) {
                comps.add(p);
            }
        }
        Attributes at = inodeOps.getattr(cur);
        for (int k = 0; k < comps.size(); k++) {
            if (!at.isDirectory()) {
                throw new FsException(Kind.NOT_DIRECTORY, "'" + comps.get(k - 1) + "' is not a directory");
            }
            Attributes next = lookup(c, cur, Names.utf8(comps.get(k)));
            boolean last = k == comps.size() - 1;
            if (next.isSymlink() && (!last || followLast)) {
                if (++follows[0] > MAX_SYMLINK_FOLLOWS) {
                    throw new FsException(Kind.SYMLINK_LOOP, "too many levels of symbolic links in '" + path + "'");
                }
                next = resolveFrom(c, cur, new String(inodeOps.readlink(next.inode()), StandardCharsets.UTF_8), true, follows);
            }
            cur = next.inode();
            at = next;
        }
        return at;
    }

    Attributes mknod(Caller c, long dir, byte[] name, int mode, long rdev) {
        int type = mode & Inode.S_IFMT;
        if (type == 0) {
            type = Inode.S_IFREG;
        }
        if (type != Inode.S_IFREG && type != Inode.S_IFIFO && type != Inode.S_IFSOCK && type != Inode.S_IFCHR && type != Inode.S_IFBLK) {
            throw new FsException(Kind.INVALID_ARGUMENT, "mknod of file type 0" + Integer.toOctalString(type));
        }
        if ((type == Inode.S_IFCHR || type == Inode.S_IFBLK) && !c.isRoot()) {
            throw new FsException(Kind.NOT_PERMITTED, "only root may create device files");
        }
        int fullMode = type | (mode & 07777);
        long deviceNumber = type == Inode.S_IFCHR || type == Inode.S_IFBLK ? rdev : 0;
        return v.change(l -> Attributes.of(newEntry(l, c, dir, name, fullMode, deviceNumber, null), v.blockSize()), dir);
    }

    Attributes mkdir(Caller c, long dir, byte[] name, int mode) {
        return v.change(l -> Attributes.of(newEntry(l, c, dir, name, Inode.S_IFDIR | (mode & 07777), 0, null), v.blockSize()), dir);
    }

    Attributes symlink(Caller c, long dir, byte[] name, byte[] target) {
        if (target.length == 0) {
            throw new FsException(Kind.NOT_FOUND, "empty symlink target");
        }
        if (target.length > SYMLINK_MAX) {
            throw new FsException(Kind.NAME_TOO_LONG, "symlink target of " + target.length + " bytes");
        }
        return v.change(l -> Attributes.of(newEntry(l, c, dir, name, Inode.S_IFLNK | 0777, 0, target), v.blockSize()), dir);
    }

    /** Creates an inode and its entry; the operation holds the parent's glock EX. */
    private Inode newEntry(OperationLocks l, Caller c, long dir, byte[] name, int mode, long rdev, byte[] symlinkTarget) {
        Names.checkNew(name);
        Inode d = v.directory(dir);
        Permissions.check(c, d, Permissions.WRITE | Permissions.EXEC);
        if (d.nlink() == 0) {
            throw new FsException(Kind.NOT_FOUND, "directory " + dir + " has been removed");
        }
        if (v.directories.lookup(d, name) != null) {
            throw new FsException(Kind.EXISTS, "'" + new String(name, StandardCharsets.UTF_8) + "' exists");
        }
        boolean isDir = (mode & Inode.S_IFMT) == Inode.S_IFDIR;
        if (isDir && d.nlink() >= LINK_MAX) {
            throw new FsException(Kind.TOO_MANY_LINKS, "directory " + dir + " has too many subdirectories");
        }
        int gid = c.gid();
        int m = mode;
        if ((d.mode() & Permissions.S_ISGID) != 0) {
            gid = d.gid();
            if (isDir) {
                m |= Permissions.S_ISGID;
            }
        }
        if (!isDir && (m & Permissions.S_ISGID) != 0 && !c.isRoot() && !c.inGroup(gid)) {
            m &= ~Permissions.S_ISGID;
        }
        Inode child = v.inodes.create(l, dir, m, c.uid(), gid, rdev, isDir ? dir : 0);
        if (isDir) {
            child = child.withNlink(2);
        }
        if (symlinkTarget != null) {
            child = storeSymlink(child, symlinkTarget);
        }
        v.inodes.write(child);
        Inode parent = v.directories.add(d, new DirEntry(child.number(), (m & Inode.S_IFMT) >> 12, name));
        var now = v.now();
        parent = parent.withTimes(parent.atime(), now, now);
        if (isDir) {
            parent = parent.withNlink(parent.nlink() + 1);
        }
        v.inodes.write(parent);
        return child;
    }

    private Inode storeSymlink(Inode link, byte[] target) {
        int fork = Inode.forkSize(v.blockSize());
        if (target.length <= fork) {
            byte[] bytes = new byte[fork];
            System.arraycopy(target, 0, bytes, 0, target.length);
            return link.withFork(bytes, Inode.FLAG_INLINE_DATA).withSize(target.length);
        }
        return v.data.write(link, 0, ByteBuffer.wrap(target));
    }

    Attributes link(Caller c, long ino, long newDir, byte[] newName) {
        return v.change(l -> {
            Names.checkNew(newName);
            Inode target = v.inodes.readHandle(ino);
            if (target.isDirectory()) {
                throw new FsException(Kind.NOT_PERMITTED, "hard links to directories are not allowed");
            }
            if (target.nlink() == 0) {
                throw new FsException(Kind.NOT_FOUND, "inode " + ino + " has been removed");
            }
            if (target.nlink() >= LINK_MAX) {
                throw new FsException(Kind.TOO_MANY_LINKS, "inode " + ino + " has " + target.nlink() + " links");
            }
            Inode d = v.directory(newDir);
            Permissions.check(c, d, Permissions.WRITE | Permissions.EXEC);
            if (v.directories.lookup(d, newName) != null) {
                throw new FsException(Kind.EXISTS, "'" + new String(newName, StandardCharsets.UTF_8) + "' exists");
            }
            var now = v.now();
            Inode parent = v.directories.add(d, new DirEntry(ino, target.type() >> 12, newName));
            v.inodes.write(parent.withTimes(parent.atime(), now, now));
            Inode linked = v.inodes.read(ino);
            linked = linked.withNlink(linked.nlink() + 1).withTimes(linked.atime(), linked.mtime(), now);
            v.inodes.write(linked);
            return Attributes.of(linked, v.blockSize());
        }, ino, newDir);
    }

    void remove(Caller c, long dir, byte[] name, boolean wantDir) {
        if (wantDir && Names.isDot(name)) {
            throw new FsException(Kind.INVALID_ARGUMENT, "cannot remove '.'");
        }
        if (wantDir && Names.isDotDot(name)) {
            throw new FsException(Kind.NOT_EMPTY, "cannot remove '..'");
        }
        v.change(l -> {
            Names.check(name);
            Inode d = v.directory(dir);
            Permissions.check(c, d, Permissions.WRITE | Permissions.EXEC);
            Directory.Found f = v.directories.lookup(d, name);
            if (f == null) {
                throw new FsException(Kind.NOT_FOUND, "no entry '" + new String(name, StandardCharsets.UTF_8) + "'");
            }
            long victimNo = f.entry().inode();
            l.need(victimNo, LockMode.EX);
            Inode victim = v.inodes.read(victimNo);
            if (wantDir && !victim.isDirectory()) {
                throw new FsException(Kind.NOT_DIRECTORY, "'" + f.entry().nameString() + "' is not a directory");
            }
            if (!wantDir && victim.isDirectory()) {
                throw new FsException(Kind.IS_DIRECTORY, "'" + f.entry().nameString() + "' is a directory");
            }
            if (wantDir && victim.entries() != 0) {
                throw new FsException(Kind.NOT_EMPTY, "directory '" + f.entry().nameString() + "' is not empty");
            }
            Permissions.checkSticky(c, d, victim);
            var now = v.now();
            Inode parent = v.directories.remove(d, f.key());
            parent = parent.withTimes(parent.atime(), now, now);
            if (wantDir) {
                parent = parent.withNlink(parent.nlink() - 1);
            }
            v.inodes.write(parent);
            orphans.dropLink(l, victimNo, wantDir);
            return null;
        }, dir);
    }
}
