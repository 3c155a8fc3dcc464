package io.concord.errors;

/**
 * A filesystem operation that failed for a reason the caller must be told about. The {@link Kind}
 * says which POSIX condition it is; the mapping to errno numbers lives only at the FUSE boundary.
 */
public class FsException extends ConcordException {

    /** The POSIX conditions the filesystem reports. Named for the condition, not for the number. */
    public enum Kind {
        NOT_FOUND, EXISTS, NOT_EMPTY, IS_DIRECTORY, NOT_DIRECTORY, ACCESS_DENIED, NOT_PERMITTED,
        NAME_TOO_LONG, TOO_MANY_LINKS, SYMLINK_LOOP, INVALID_ARGUMENT, NO_SPACE, FILE_TOO_LARGE,
        NO_XATTR, XATTR_RANGE, READ_ONLY, NOT_SUPPORTED, STALE_HANDLE, IO_ERROR, BUSY, CROSS_DEVICE, NO_SUCH_OFFSET,
        WOULD_BLOCK, DEADLOCK, INTERRUPTED, NO_LOCKS
    }

    private final Kind kind;

    public FsException(Kind kind, String message) {
        super(message, !isAnswer(kind));
        this.kind = kind;
    }

    /**
     * The kinds that answer a question rather than report a failure: a name that is not there (every
     * create looks its name up first), one that already is, a missing attribute. They carry no
     * stack trace: filling one in cost more than the rest of the lookup that threw it.
     */
    private static boolean isAnswer(Kind kind) {
        return kind == Kind.NOT_FOUND || kind == Kind.EXISTS || kind == Kind.NO_XATTR;
    }

    public FsException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    public static FsException of(Kind kind, String message) {
        return new FsException(kind, message);
    }
}
