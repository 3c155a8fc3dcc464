package io.concord.format;

import io.concord.errors.FormatException;

/**
 * How the nodes that mount a filesystem keep out of each other's way, recorded in the superblock
 * by mkfs ({@code mkfs.concord -p}), as GFS2's {@code lock_nolock} and {@code lock_dlm}. Codes are
 * on disk: never renumber. Code 0 is {@link #NOLOCK} because every filesystem made before the
 * field existed has zero there, and those were single-node filesystems.
 */
public enum LockProtocol {
    /** One node at a time; the local lock manager. */
    NOLOCK(0, "nolock"),
    /** Any number of nodes, through the distributed lock manager. */
    DLM(1, "dlm");

    private final int code;
    private final String text;

    LockProtocol(int code, String text) {
        this.code = code;
        this.text = text;
    }

    public int code() {
        return code;
    }

    /** The name mkfs takes and tools show: {@code nolock} or {@code dlm}. */
    @Override
    public String toString() {
        return text;
    }

    /**
     * @throws FormatException for a code this version does not know (a newer protocol: mounting it
     *                         with either known one could corrupt the filesystem)
     */
    public static LockProtocol fromCode(int code) {
        for (LockProtocol p : values()) {
            if (p.code == code) {
                return p;
            }
        }
        throw new FormatException("the superblock names lock protocol " + code + ", which this Concord does not know");
    }

    /** {@code nolock}, {@code dlm}, or GFS2's spellings {@code lock_nolock} and {@code lock_dlm}. */
    public static LockProtocol parse(String name) {
        String n = name == null ? "" : name.startsWith("lock_") ? name.substring(5) : name;
        for (LockProtocol p : values()) {
            if (p.text.equals(n)) {
                return p;
            }
        }
        throw new FormatException("lock protocol must be dlm or nolock (or lock_dlm, lock_nolock), not '" + name + "'");
    }
}
