package io.concord.fs;

import java.util.Arrays;
import java.util.function.Supplier;

/**
 * Who is asking: the uid, gid and supplementary groups of the process behind an operation (from
 * the FUSE request header). Permission checks and new files' ownership come from here, never from
 * the daemon's own identity.
 *
 * <p>The kernel's request header carries no supplementary groups; the FUSE layer supplies them
 * lazily (from /proc), and they are fetched only when a check gets as far as needing them.
 */
public final class Caller {
    public static final Caller ROOT = new Caller(0, 0, new int[0]);

    private final int uid;
    private final int gid;
    private final Supplier<int[]> groupSource;
    private volatile int[] groups;

    private Caller(int uid, int gid, int[] groups) {
        this.uid = uid;
        this.gid = gid;
        this.groups = groups.clone();
        this.groupSource = null;
    }

    private Caller(int uid, int gid, Supplier<int[]> groupSource) {
        this.uid = uid;
        this.gid = gid;
        this.groupSource = groupSource;
    }

    public static Caller of(int uid, int gid, int... groups) {
        return new Caller(uid, gid, groups);
    }

    /** A caller whose supplementary groups are looked up only if a permission check needs them. */
    public static Caller withLazyGroups(int uid, int gid, Supplier<int[]> groups) {
        return new Caller(uid, gid, groups);
    }

    public int uid() {
        return uid;
    }

    public int gid() {
        return gid;
    }

    public boolean isRoot() {
        return uid == 0;
    }

    public boolean inGroup(int g) {
        if (g == gid) {
            return true;
        }
        for (int x : resolvedGroups()) {
            if (x == g) {
                return true;
            }
        }
        return false;
    }

    public int[] groups() {
        return resolvedGroups().clone();
    }

    private int[] resolvedGroups() {
        int[] g = groups;
        if (g == null) {
            int[] fetched = groupSource.get();
            g = fetched == null ? new int[0] : fetched;
            groups = g;
        }
        return g;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Caller c && c.uid == uid && c.gid == gid && Arrays.equals(c.resolvedGroups(), resolvedGroups());
    }

    @Override
    public int hashCode() {
        return uid * 31 + gid;
    }

    @Override
    public String toString() {
        return "Caller[uid=" + uid + ", gid=" + gid + "]";
    }
}
