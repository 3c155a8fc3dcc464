package io.concord.fs;

import java.util.Arrays;

/**
 * Who is asking: the uid, gid and supplementary groups of the process behind an operation (from
 * the FUSE request header). Permission checks and new files' ownership come from here, never from
 * the daemon's own identity.
 */
public record Caller(int uid, int gid, int[] groups) {
    public static final Caller ROOT = new Caller(0, 0, new int[0]);

    public Caller {
        groups = groups.clone();
    }

    public static Caller of(int uid, int gid, int... groups) {
        return new Caller(uid, gid, groups);
    }

    public boolean isRoot() {
        return uid == 0;
    }

    public boolean inGroup(int g) {
        if (g == gid) {
            return true;
        }
        for (int x : groups) {
            if (x == g) {
                return true;
            }
        }
        return false;
    }

    @Override
    public int[] groups() {
        return groups.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Caller c && c.uid == uid && c.gid == gid && Arrays.equals(c.groups, groups);
    }

    @Override
    public int hashCode() {
        return uid * 31 + gid;
    }

    @Override
    public String toString() {
        return "Caller[uid=" + uid + ", gid=" + gid + ", groups=" + Arrays.toString(groups) + "]";
    }
}
