package io.concord.fuse;

import io.concord.errors.ConcordException;
import io.concord.errors.FsException;

/**
 * The one place where Concord's failures become errno numbers (Linux x86-64 values), for the
 * FUSE replies. Anything that is not an {@link FsException} is a bug or a failure below the
 * filesystem: EIO, and the caller logs it with context.
 */
final class Errno {
    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int EINTR = 4;
    static final int EIO = 5;
    static final int ENXIO = 6;
    static final int E2BIG = 7;
    static final int EBADF = 9;
    static final int EAGAIN = 11;
    static final int EACCES = 13;
    static final int EBUSY = 16;
    static final int EEXIST = 17;
    static final int EXDEV = 18;
    static final int ENOTDIR = 20;
    static final int EISDIR = 21;
    static final int EINVAL = 22;
    static final int EFBIG = 27;
    static final int ENOSPC = 28;
    static final int EROFS = 30;
    static final int EMLINK = 31;
    static final int ERANGE = 34;
    static final int EDEADLK = 35;
    static final int ENAMETOOLONG = 36;
    static final int ENOLCK = 37;
    static final int ENOSYS = 38;
    static final int ENOTEMPTY = 39;
    static final int ELOOP = 40;
    static final int ENODATA = 61;
    static final int EOPNOTSUPP = 95;
    static final int ESTALE = 116;

    private Errno() {
    }

    static int of(FsException.Kind kind) {
        return switch (kind) {
            case NOT_FOUND -> ENOENT;
            case EXISTS -> EEXIST;
            case NOT_EMPTY -> ENOTEMPTY;
            case IS_DIRECTORY -> EISDIR;
            case NOT_DIRECTORY -> ENOTDIR;
            case ACCESS_DENIED -> EACCES;
            case NOT_PERMITTED -> EPERM;
            case NAME_TOO_LONG -> ENAMETOOLONG;
            case TOO_MANY_LINKS -> EMLINK;
            case SYMLINK_LOOP -> ELOOP;
            case INVALID_ARGUMENT -> EINVAL;
            case NO_SPACE -> ENOSPC;
            case FILE_TOO_LARGE -> EFBIG;
            case NO_XATTR -> ENODATA;
            case XATTR_RANGE -> ERANGE;
            case READ_ONLY -> EROFS;
            case NOT_SUPPORTED -> EOPNOTSUPP;
            case STALE_HANDLE -> ESTALE;
            case IO_ERROR -> EIO;
            case BUSY -> EBUSY;
            case CROSS_DEVICE -> EXDEV;
            case NO_SUCH_OFFSET -> ENXIO;
            case WOULD_BLOCK -> EAGAIN;
            case DEADLOCK -> EDEADLK;
            case INTERRUPTED -> EINTR;
            case NO_LOCKS -> ENOLCK;
        };
    }

    /** The errno for any failure; true bugs become EIO. */
    static int of(Throwable t) {
        if (t instanceof FsException f) {
            return of(f.kind());
        }
        if (t instanceof ConcordException) {
            return EIO;
        }
        return EIO;
    }
}
