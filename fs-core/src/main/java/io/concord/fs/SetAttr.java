package io.concord.fs;

import java.time.Instant;

/**
 * A setattr request: each field that is non-null is to be changed. {@code atimeNow} and
 * {@code mtimeNow} ask for the current time (utimensat with UTIME_NOW), which needs only write
 * permission, where an explicit time needs ownership.
 */
public record SetAttr(Integer mode, Integer uid, Integer gid, Long size, Instant atime, Instant mtime, boolean atimeNow,
        boolean mtimeNow, Instant ctime) {

    public static SetAttr mode(int mode) {
        return new SetAttr(mode, null, null, null, null, null, false, false, null);
    }

    public static SetAttr owner(Integer uid, Integer gid) {
        return new SetAttr(null, uid, gid, null, null, null, false, false, null);
    }

    public static SetAttr size(long size) {
        return new SetAttr(null, null, null, size, null, null, false, false, null);
    }

    public static SetAttr times(Instant atime, Instant mtime) {
        return new SetAttr(null, null, null, null, atime, mtime, false, false, null);
    }

    public static SetAttr timesNow() {
        return new SetAttr(null, null, null, null, null, null, true, true, null);
    }
}
