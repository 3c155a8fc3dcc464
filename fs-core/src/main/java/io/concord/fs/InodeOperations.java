package io.concord.fs;

import io.concord.errors.FsException;
import io.concord.errors.FsException.Kind;
import io.concord.format.Inode;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Operations on one inode named by a handle: attributes, data, extended attributes, opens. Each
 * holds that inode's glock (PR to look, EX to change) through {@link Volume#look} or
 * {@link Volume#change}.
 */
final class InodeOperations {
    private final Volume v;
    private final Orphans orphans;

    InodeOperations(Volume v, Orphans orphans) {
        this.v = v;
        this.orphans = orphans;
    }

    Attributes getattr(long ino) {
        return v.look(ino, l -> Attributes.of(v.inodes.readHandle(ino), v.blockSize()));
    }

    void access(Caller c, long ino, int mask) {
        v.look(ino, l -> {
            Inode i = v.inodes.readHandle(ino);
            if ((mask & Permissions.WRITE) != 0 && v.options.readOnly()) {
                throw new FsException(Kind.READ_ONLY, "read-only filesystem");
            }
            Permissions.check(c, i, mask & 7);
            return null;
        });
    }

    byte[] readlink(long ino) {
        return v.look(ino, l -> {
            Inode i = v.inodes.readHandle(ino);
            if (!i.isSymlink()) {
                throw new FsException(Kind.INVALID_ARGUMENT, "inode " + ino + " is not a symbolic link");
            }
            ByteBuffer target = ByteBuffer.allocate((int) i.size());
            v.data.read(i, 0, target);
            return target.array();
        });
    }

    int read(long ino, long offset, ByteBuffer dst) {
        return v.look(ino, l -> {
            Inode i = v.inodes.readHandle(ino);
            if (i.isDirectory()) {
                throw new FsException(Kind.IS_DIRECTORY, "inode " + ino + " is a directory");
            }
            if (offset < 0) {
                throw new FsException(Kind.INVALID_ARGUMENT, "negative offset");
            }
            return v.data.read(i, offset, dst);
        });
    }

    long seek(long ino, long offset, boolean data) {
        return v.look(ino, l -> v.data.seek(v.inodes.readHandle(ino), offset, data));
    }

    byte[] getxattr(Caller c, long ino, String name) {
        return v.look(ino, l -> v.xattrs.get(c, v.inodes.readHandle(ino), name));
    }

    List<String> listxattr(Caller c, long ino) {
        return v.look(ino, l -> v.xattrs.list(c, v.inodes.readHandle(ino)));
    }

    /** Checks open(2) access ({@code 0} read, {@code 1} write, {@code 2} both) and counts the open. */
    void open(Caller c, long ino, int accessMode) {
        countOpen(ino, i -> {
            int mask = switch (accessMode & 3) {
                case 0 -> Permissions.READ;
                case 1 -> Permissions.WRITE;
                default -> Permissions.READ | Permissions.WRITE;
            };
            if ((mask & Permissions.WRITE) != 0) {
                if (i.isDirectory()) {
                    throw new FsException(Kind.IS_DIRECTORY, "cannot open a directory for writing");
                }
                if (v.options.readOnly()) {
                    throw new FsException(Kind.READ_ONLY, "read-only filesystem");
                }
            }
            Permissions.check(c, i, mask);
        });
    }

    /** Counts the open of a file its caller has just created (not checked against its new mode). */
    void openCreated(long ino) {
        countOpen(ino, i -> { });
    }

    private void countOpen(long ino, java.util.function.Consumer<Inode> check) {
        Glocks.Holder iopen = v.open.prepare(ino);
        boolean counted = false;
        try {
            v.look(ino, l -> {
                check.accept(v.inodes.readHandle(ino));
                return null;
            });
            v.open.counted(ino, iopen);
            counted = true;
        } finally {
            if (!counted) {
                v.open.notCounted(iopen);
            }
        }
    }

    /** The last release here of an unlinked inode deletes it, unless another node has it open. */
    void release(long ino) {
        if (v.open.closed(ino) && !v.options.readOnly() && !v.runner.withdrawn()) {
            orphans.lastCloseHere(ino);
        }
    }

    int write(Caller c, long ino, long offset, ByteBuffer src) {
        int length = src.remaining();
        return v.change(l -> {
            Inode i = v.inodes.readHandle(ino);
            if (i.isDirectory()) {
                throw new FsException(Kind.IS_DIRECTORY, "inode " + ino + " is a directory");
            }
            if (!i.isRegular()) {
                throw new FsException(Kind.INVALID_ARGUMENT, "inode " + ino + " is not a regular file");
            }
            if (offset < 0) {
                throw new FsException(Kind.INVALID_ARGUMENT, "negative offset");
            }
            Inode w = v.data.write(i, offset, src.duplicate());
            var now = v.now();
            v.inodes.write(killPrivileges(c, w).withTimes(w.atime(), now, now));
            return length;
        }, ino);
    }

    void fallocate(Caller c, long ino, int mode, long offset, long length) {
        v.change(l -> {
            Inode i = v.inodes.readHandle(ino);
            if (i.isDirectory()) {
                throw new FsException(Kind.IS_DIRECTORY, "inode " + ino + " is a directory");
            }
            if (!i.isRegular()) {
                throw new FsException(Kind.NOT_SUPPORTED, "fallocate on a non-regular file");
            }
            Permissions.check(c, i, Permissions.WRITE);
            Inode f = v.data.fallocate(i, mode, offset, length);
            var now = v.now();
            v.inodes.write(f.withTimes(f.atime(), f.size() != i.size() || mode != 0 ? now : f.mtime(), now));
            return null;
        }, ino);
    }

    void setxattr(Caller c, long ino, String name, byte[] value, int flags) {
        v.change(l -> {
            Inode i = v.xattrs.set(c, v.inodes.readHandle(ino), name, value, flags);
            v.inodes.write(i.withTimes(i.atime(), i.mtime(), v.now()));
            return null;
        }, ino);
    }

    void removexattr(Caller c, long ino, String name) {
        v.change(l -> {
            Inode i = v.xattrs.remove(c, v.inodes.readHandle(ino), name);
            v.inodes.write(i.withTimes(i.atime(), i.mtime(), v.now()));
            return null;
        }, ino);
    }

    Attributes setattr(Caller c, long ino, SetAttr a) {
        return v.change(l -> {
            Inode i = v.inodes.readHandle(ino);
            var now = v.now();
            boolean changed = false;
            if (a.uid() != null || a.gid() != null) {
                i = chown(c, i, a);
                changed = true;
            }
            if (a.mode() != null) {
                Permissions.checkOwner(c, i);
                int mode = (i.mode() & Inode.S_IFMT) | (a.mode() & 07777);
                if (!c.isRoot() && !c.inGroup(i.gid())) {
                    mode &= ~Permissions.S_ISGID;
                }
                i = i.withMode(mode);
                changed = true;
            }
            if (a.size() != null) {
                if (i.isDirectory()) {
                    throw new FsException(Kind.IS_DIRECTORY, "inode " + ino + " is a directory");
                }
                if (!i.isRegular()) {
                    throw new FsException(Kind.INVALID_ARGUMENT, "only regular files have a size to set");
                }
                Permissions.check(c, i, Permissions.WRITE);
                if (a.size() != i.size()) {
                    i = v.data.truncate(i, a.size(), v.runner::commitIfLarge, v.inodes::write);
                    i = i.withTimes(i.atime(), now, now);
                }
                i = killPrivileges(c, i);
                changed = true;
            }
            if (a.atime() != null || a.mtime() != null || a.atimeNow() || a.mtimeNow()) {
                boolean explicit = a.atime() != null || a.mtime() != null;
                if (!c.isRoot() && c.uid() != i.uid()) {
                    if (explicit) {
                        throw new FsException(Kind.NOT_PERMITTED, "only the owner may set explicit times on inode " + ino);
                    }
                    Permissions.check(c, i, Permissions.WRITE);
                }
                var atime = a.atimeNow() ? now : a.atime() != null ? a.atime() : i.atime();
                var mtime = a.mtimeNow() ? now : a.mtime() != null ? a.mtime() : i.mtime();
                i = i.withTimes(atime, mtime, i.ctime());
                changed = true;
            }
            if (changed) {
                i = i.withTimes(i.atime(), i.mtime(), a.ctime() != null ? a.ctime() : now);
                v.inodes.write(i);
            }
            return Attributes.of(i, v.blockSize());
        }, ino);
    }

    private static Inode chown(Caller c, Inode i, SetAttr a) {
        int uid = a.uid() == null ? i.uid() : a.uid();
        int gid = a.gid() == null ? i.gid() : a.gid();
        if (!c.isRoot()) {
            if (uid != i.uid() || c.uid() != i.uid()) {
                throw new FsException(Kind.NOT_PERMITTED, "only root may change the owner of inode " + i.number());
            }
            if (gid != i.gid() && !c.inGroup(gid)) {
                throw new FsException(Kind.NOT_PERMITTED, "not a member of group " + gid);
            }
        }
        int mode = i.mode();
        // As Linux's chown: on anything but a directory, every chown (even to the same owner,
        // even by root) drops set-user-ID, and set-group-ID when group-executable.
        if (!i.isDirectory()) {
            mode &= ~Permissions.S_ISUID;
            if ((mode & 0010) != 0) {
                mode &= ~Permissions.S_ISGID;
            }
        }
        return i.withOwner(uid, gid).withMode(mode);
    }

    /** A write or truncate by someone other than root clears set-user-ID and (group-executable) set-group-ID. */
    private static Inode killPrivileges(Caller c, Inode i) {
        int mode = i.mode();
        if (c.isRoot() || (mode & (Permissions.S_ISUID | Permissions.S_ISGID)) == 0) {
            return i;
        }
        mode &= ~Permissions.S_ISUID;
        if ((mode & 0010) != 0) {
            mode &= ~Permissions.S_ISGID;
        }
        return i.withMode(mode);
    }
}
