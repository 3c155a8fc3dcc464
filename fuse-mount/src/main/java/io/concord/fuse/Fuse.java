package io.concord.fuse;

/**
 * The kernel's FUSE protocol numbers, from {@code <linux/fuse.h>} (protocol 7.38 as we speak it).
 * All structures are little-endian native layout; their sizes are here where the code needs them.
 */
final class Fuse {
    private Fuse() {
    }

    static final int KERNEL_VERSION = 7;
    static final int KERNEL_MINOR_VERSION = 38;
    static final long ROOT_ID = 1;

    // opcodes
    static final int LOOKUP = 1;
    static final int FORGET = 2;
    static final int GETATTR = 3;
    static final int SETATTR = 4;
    static final int READLINK = 5;
    static final int SYMLINK = 6;
    static final int MKNOD = 8;
    static final int MKDIR = 9;
    static final int UNLINK = 10;
    static final int RMDIR = 11;
    static final int RENAME = 12;
    static final int LINK = 13;
    static final int OPEN = 14;
    static final int READ = 15;
    static final int WRITE = 16;
    static final int STATFS = 17;
    static final int RELEASE = 18;
    static final int FSYNC = 20;
    static final int SETXATTR = 21;
    static final int GETXATTR = 22;
    static final int LISTXATTR = 23;
    static final int REMOVEXATTR = 24;
    static final int FLUSH = 25;
    static final int INIT = 26;
    static final int OPENDIR = 27;
    static final int READDIR = 28;
    static final int RELEASEDIR = 29;
    static final int FSYNCDIR = 30;
    static final int GETLK = 31;
    static final int SETLK = 32;
    static final int SETLKW = 33;
    static final int ACCESS = 34;
    static final int CREATE = 35;
    static final int INTERRUPT = 36;
    static final int BMAP = 37;
    static final int DESTROY = 38;
    static final int IOCTL = 39;
    static final int POLL = 40;
    static final int BATCH_FORGET = 42;
    static final int FALLOCATE = 43;
    static final int READDIRPLUS = 44;
    static final int RENAME2 = 45;
    static final int LSEEK = 46;
    static final int COPY_FILE_RANGE = 47;
    static final int SYNCFS = 50;
    static final int TMPFILE = 51;

    // INIT flags
    static final int ASYNC_READ = 1;
    static final int POSIX_LOCKS = 1 << 1;
    static final int ATOMIC_O_TRUNC = 1 << 3;
    static final int EXPORT_SUPPORT = 1 << 4;
    static final int BIG_WRITES = 1 << 5;
    static final int DONT_MASK = 1 << 6;
    static final int FLOCK_LOCKS = 1 << 10;
    static final int AUTO_INVAL_DATA = 1 << 12;
    static final int DO_READDIRPLUS = 1 << 13;
    static final int READDIRPLUS_AUTO = 1 << 14;
    static final int ASYNC_DIO = 1 << 15;
    static final int PARALLEL_DIROPS = 1 << 18;
    static final int HANDLE_KILLPRIV = 1 << 19;
    static final int INIT_MAX_PAGES = 1 << 22;
    static final int CACHE_SYMLINKS = 1 << 23;
    static final int INIT_EXT = 1 << 30;

    // setattr valid bits
    static final int FATTR_MODE = 1;
    static final int FATTR_UID = 1 << 1;
    static final int FATTR_GID = 1 << 2;
    static final int FATTR_SIZE = 1 << 3;
    static final int FATTR_ATIME = 1 << 4;
    static final int FATTR_MTIME = 1 << 5;
    static final int FATTR_FH = 1 << 6;
    static final int FATTR_ATIME_NOW = 1 << 7;
    static final int FATTR_MTIME_NOW = 1 << 8;
    static final int FATTR_CTIME = 1 << 10;
    static final int FATTR_KILL_SUIDGID = 1 << 11;

    // open reply flags
    static final int FOPEN_DIRECT_IO = 1;
    static final int FOPEN_KEEP_CACHE = 1 << 1;
    static final int FOPEN_CACHE_DIR = 1 << 3;

    static final int FSYNC_FDATASYNC = 1;
    static final int LK_FLOCK = 1;
    static final int WRITE_KILL_SUIDGID = 1 << 2;

    // notifications
    static final int NOTIFY_INVAL_INODE = 2;
    static final int NOTIFY_INVAL_ENTRY = 3;
    static final int NOTIFY_DELETE = 6;

    static final int IN_HEADER = 40;
    static final int OUT_HEADER = 16;
    static final int ATTR_SIZE = 88;
    static final int ENTRY_OUT = 128;
    static final int ATTR_OUT = 104;
    static final int INIT_OUT = 64;
    static final int OPEN_OUT = 16;
    static final int WRITE_OUT = 8;
    static final int STATFS_OUT = 80;
    static final int DIRENT_HEADER = 24;

    /** The largest write we accept: 1 MiB, 256 pages (FUSE_MAX_PAGES). */
    static final int MAX_WRITE = 1 << 20;
    static final int MAX_PAGES = MAX_WRITE / 4096;
    /** A read buffer must hold the largest request: a maximal write plus its headers. */
    static final int BUFFER_SIZE = MAX_WRITE + 4096;

    static String opcodeName(int op) {
        return switch (op) {
            case LOOKUP -> "LOOKUP"; case FORGET -> "FORGET"; case GETATTR -> "GETATTR"; case SETATTR -> "SETATTR";
            case READLINK -> "READLINK"; case SYMLINK -> "SYMLINK"; case MKNOD -> "MKNOD"; case MKDIR -> "MKDIR";
            case UNLINK -> "UNLINK"; case RMDIR -> "RMDIR"; case RENAME -> "RENAME"; case LINK -> "LINK"; case OPEN -> "OPEN";
            case READ -> "READ"; case WRITE -> "WRITE"; case STATFS -> "STATFS"; case RELEASE -> "RELEASE"; case FSYNC -> "FSYNC";
            case SETXATTR -> "SETXATTR"; case GETXATTR -> "GETXATTR"; case LISTXATTR -> "LISTXATTR"; case REMOVEXATTR -> "REMOVEXATTR";
            case FLUSH -> "FLUSH"; case INIT -> "INIT"; case OPENDIR -> "OPENDIR"; case READDIR -> "READDIR";
            case RELEASEDIR -> "RELEASEDIR"; case FSYNCDIR -> "FSYNCDIR"; case GETLK -> "GETLK"; case SETLK -> "SETLK";
            case SETLKW -> "SETLKW"; case ACCESS -> "ACCESS"; case CREATE -> "CREATE"; case INTERRUPT -> "INTERRUPT";
            case DESTROY -> "DESTROY"; case BATCH_FORGET -> "BATCH_FORGET"; case FALLOCATE -> "FALLOCATE";
            case READDIRPLUS -> "READDIRPLUS"; case RENAME2 -> "RENAME2"; case LSEEK -> "LSEEK";
            default -> "opcode " + op;
        };
    }
}
