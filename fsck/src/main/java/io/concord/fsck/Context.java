package io.concord.fsck;

import io.concord.format.BlockType;
import io.concord.format.Superblock;
import java.nio.ByteBuffer;

/** What every check needs: the geometry, the block reader, and where problems go. */
final class Context {
    private final Geometry geometry;
    private final BlockReader reader;
    private final Problems problems;

    Context(Geometry geometry, BlockReader reader, Problems problems) {
        this.geometry = geometry;
        this.reader = reader;
        this.problems = problems;
    }

    /** The same device and geometry, reporting to {@code other}. */
    Context reportingTo(Problems other) {
        return new Context(geometry, reader, other);
    }

    Geometry geometry() {
        return geometry;
    }

    Superblock superblock() {
        return geometry.superblock();
    }

    long fsId() {
        return geometry.superblock().fsId();
    }

    int blockSize() {
        return geometry.superblock().blockSize();
    }

    void report(String code, long block, String message) {
        problems.add(code, block, message);
    }

    /** The block's bytes, or null (reported) when the device fails to read it. */
    ByteBuffer read(long block) {
        try {
            return reader.read(block);
        } catch (RuntimeException e) {
            report(Problem.UNREADABLE, block, "block " + block + " cannot be read: " + e.getMessage());
            return null;
        }
    }

    /**
     * Reads {@code block} where a {@code type} block should be, and reports what is wrong with it
     * as "{@code subject} {fault}". A block that is simply some other block is reported under
     * {@code wrongCode} (the caller knows best what that means: a corrupt pointer, a lost block).
     *
     * @return the verdict, or null when the block could not be read
     */
    BlockVerdict verdict(long block, BlockType type, String subject, String wrongCode) {
        return verdict(block, type, subject, subject, wrongCode);
    }

    /**
     * As {@link #verdict(long, BlockType, String, String)}, with another subject for a block that
     * is not the block expected at all: "inode 7 has a checksum mismatch", but "entry 'a' in
     * directory 5 points at block 7, which is not an inode".
     */
    BlockVerdict verdict(long block, BlockType type, String subject, String wrongSubject, String wrongCode) {
        ByteBuffer raw = read(block);
        if (raw == null) {
            return null;
        }
        BlockVerdict v = BlockVerdict.of(raw, type, block, fsId());
        if (v.sound()) {
            return v;
        }
        if (v.usable()) {
            report(v.code(), block, subject + " " + v.fault());
        } else if (v.code().equals(Problem.WRONG_BLOCK)) {
            report(wrongCode, block, wrongSubject + " " + v.fault());
        } else {
            report(v.code(), block, wrongSubject + " " + v.fault());
        }
        return v;
    }
}
