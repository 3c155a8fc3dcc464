package io.concord.fsck;

import io.concord.format.BlockHeader;
import io.concord.format.BlockType;
import io.concord.format.MetaBlocks;
import java.nio.ByteBuffer;

/**
 * What a block read where a metadata block of some type should be turned out to be. Unlike
 * {@link MetaBlocks#check}, which stops at the first fault, this tells a block whose only fault is
 * its checksum (a flipped bit: its header says it is the block asked for) from one that is some
 * other block altogether. The first kind is still read, from a privately resealed copy, so that one
 * flipped bit does not hide the rest of a tree; its problem is reported all the same.
 *
 * @param block  the block to decode (the device's bytes, or the resealed copy), or null when unusable
 * @param code   {@link Problem#CHECKSUM} or {@link Problem#WRONG_BLOCK}; null when sound
 * @param fault  what is wrong, phrased to follow the block's name ("has a checksum mismatch ..."); null when sound
 */
record BlockVerdict(ByteBuffer block, String code, String fault) {

    boolean sound() {
        return fault == null;
    }

    boolean usable() {
        return block != null;
    }

    static BlockVerdict of(ByteBuffer raw, BlockType expected, long number, long fsId) {
        if (BlockHeader.magicOf(raw) != BlockHeader.MAGIC) {
            return new BlockVerdict(null, Problem.WRONG_BLOCK, "is not " + article(expected) + " (no Concord metadata header)");
        }
        int stored = raw.getInt(BlockHeader.CRC_OFFSET);
        int computed = MetaBlocks.crcOf(raw);
        boolean crcOk = stored == computed;
        String headerFault = headerFault(raw, expected, number, fsId);
        if (headerFault == null && crcOk) {
            return new BlockVerdict(raw, null, null);
        }
        String crcFault = String.format("has a checksum mismatch (stored %08x, computed %08x)", stored, computed);
        if (headerFault == null) {
            ByteBuffer copy = ByteBuffer.allocate(raw.capacity());
            copy.put(raw.duplicate().clear()).clear();
            MetaBlocks.seal(copy);
            return new BlockVerdict(copy, Problem.CHECKSUM, crcFault + "; its contents were checked as they are");
        }
        if (crcOk) {
            return new BlockVerdict(null, Problem.WRONG_BLOCK, headerFault);
        }
        return new BlockVerdict(null, Problem.CHECKSUM, crcFault + " and " + headerFault);
    }

    private static String headerFault(ByteBuffer raw, BlockType expected, long number, long fsId) {
        BlockType type = BlockType.orNull(BlockHeader.typeCodeOf(raw));
        if (type != expected) {
            String found = type == null ? "a block of unknown type " + BlockHeader.typeCodeOf(raw) : article(type);
            return "is " + found + ", not " + article(expected);
        }
        if (BlockHeader.blockNumberOf(raw) != number) {
            return "says it is block " + BlockHeader.blockNumberOf(raw) + " (a misdirected or stale write)";
        }
        if (BlockHeader.fsIdOf(raw) != fsId) {
            return "belongs to another filesystem (id " + Long.toHexString(BlockHeader.fsIdOf(raw)) + ")";
        }
        if (BlockHeader.formatOf(raw) != 1) {
            return "has unknown format " + BlockHeader.formatOf(raw);
        }
        return null;
    }

    /** The block's type in words, with its article: "an inode", "a tree node". */
    static String article(BlockType type) {
        return switch (type) {
            case SUPERBLOCK -> "a superblock";
            case RGRP_HEADER -> "a resource group header";
            case RGRP_BITMAP -> "a bitmap block";
            case INODE -> "an inode";
            case BTREE_NODE -> "a tree node";
            case XATTR -> "an xattr block";
            case JOURNAL_HEADER -> "a journal header";
            case LOG_DESCRIPTOR -> "a log descriptor";
            case LOG_REVOKE -> "a log revoke block";
            case LOG_COMMIT -> "a log commit block";
            case HEARTBEAT -> "a heartbeat block";
        };
    }
}
