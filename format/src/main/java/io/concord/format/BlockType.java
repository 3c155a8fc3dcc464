package io.concord.format;

import io.concord.errors.FormatException;

/** The type code in every metadata block's header. Codes are on disk: never renumber. */
public enum BlockType {
    SUPERBLOCK(1),
    RGRP_HEADER(2),
    RGRP_BITMAP(3),
    INODE(4),
    BTREE_NODE(5),
    XATTR(6),
    JOURNAL_HEADER(7),
    LOG_DESCRIPTOR(8),
    LOG_REVOKE(9),
    LOG_COMMIT(10),
    HEARTBEAT(11);

    private final int code;

    BlockType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static BlockType fromCode(int code) {
        for (BlockType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        throw new FormatException("unknown block type " + code);
    }

    /** Null when the code is not a known type (a decoder reports corruption instead of throwing). */
    public static BlockType orNull(int code) {
        for (BlockType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        return null;
    }
}
