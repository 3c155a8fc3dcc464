package io.concord.format;

import io.concord.errors.CorruptBlockException;
import io.concord.errors.FormatException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.UUID;

/**
 * Block 0: what the filesystem is and where everything lies.
 *
 * <pre>
 * offset size field
 *   0    32  {@link BlockHeader} (type SUPERBLOCK, blockNumber 0)
 *  32     4  formatVersion          1
 *  36     4  compatFeatures         unknown bits: ignored
 *  40     4  roCompatFeatures       unknown bits: may be mounted read-only only
 *  44     4  incompatFeatures       unknown bits: refused
 *  48    16  uuid
 *  64     4  blockSize              power of two, 1024..65536
 *  68     4  lockProtocol           {@link LockProtocol#code()}: 0 nolock (so older filesystems, which
 *                                   have zero here, stay single-node), 1 dlm; others refused
 *  72     8  totalBlocks
 *  80    64  lockTable              "cluster:fsname", ASCII, NUL padded
 * 144    32  label                  UTF-8, NUL padded
 * 176     4  journalCount
 * 180     4  journalBlocks          blocks per journal
 * 184     8  journalStart           first block of journal 0
 * 192     8  rgrpStart              first block of resource group 0
 * 200     4  rgrpBlocks             blocks per resource group (the last may be shorter)
 * 204     4  rgrpCount
 * 208     8  rootInode
 * 216     8  hashSeed               seeds directory name hashing
 * 224     8  createdEpochSecond
 * 232  8*jc  orphanDirs[journalCount] the per-slot directory of unlinked-but-open inodes
 * </pre>
 * The superblock is written by mkfs and is read-only for a mounted filesystem.
 *
 * <p>Incompatible features: {@link #INCOMPAT_MMP} (multi-mount protection): one
 * {@link HeartbeatBlock} per node slot, slot {@code j} at block {@code (j + 1) * stride}, where
 * the stride puts each in a {@value #HEARTBEAT_ALIGNMENT}-byte unit of its own (1 for 4 KiB
 * blocks): O_DIRECT writes whole units, and a unit shared by two slots would let one node's
 * heartbeat write back a stale copy of its neighbour's. The journals start after them. Without
 * the flag (filesystems made before it) journals start at block 1 and there is nothing to
 * heartbeat into.
 */
public record Superblock(
        int formatVersion,
        int compatFeatures,
        int roCompatFeatures,
        int incompatFeatures,
        UUID uuid,
        int blockSize,
        long totalBlocks,
        String lockTable,
        LockProtocol lockProtocol,
        String label,
        int journalCount,
        int journalBlocks,
        long journalStart,
        long rgrpStart,
        int rgrpBlocks,
        int rgrpCount,
        long rootInode,
        long hashSeed,
        long createdEpochSecond,
        long[] orphanDirs) {

    public static final int FORMAT_VERSION = 1;
    public static final int KNOWN_COMPAT = 0;
    public static final int KNOWN_RO_COMPAT = 0;
    /** Blocks 1..journalCount hold one heartbeat block per node slot (see the class comment). */
    public static final int INCOMPAT_MMP = 0x1;
    public static final int KNOWN_INCOMPAT = INCOMPAT_MMP;
    /** The unit each heartbeat block has to itself (see the class comment). */
    public static final int HEARTBEAT_ALIGNMENT = 4096;
    public static final int LOCK_TABLE_MAX = 64;
    public static final int LABEL_MAX = 32;
    public static final int MIN_BLOCK_SIZE = 1024;
    public static final int MAX_BLOCK_SIZE = 65536;
    private static final int ORPHAN_DIRS_OFFSET = 232;

    public Superblock {
        java.util.Objects.requireNonNull(lockProtocol, "lockProtocol");
        orphanDirs = orphanDirs.clone();
        if (orphanDirs.length != journalCount) {
            throw new IllegalArgumentException("one orphan directory per journal");
        }
    }

    @Override
    public long[] orphanDirs() {
        return orphanDirs.clone();
    }

    /** How many journals a superblock of this block size can describe. */
    public static int maxJournals(int blockSize) {
        return (blockSize - ORPHAN_DIRS_OFFSET) / 8;
    }

    /** The 64-bit id every metadata block of this filesystem carries. */
    public long fsId() {
        return fsIdOf(uuid);
    }

    public static long fsIdOf(UUID uuid) {
        long id = uuid.getMostSignificantBits() ^ Long.rotateLeft(uuid.getLeastSignificantBits(), 17);
        return id == 0 ? 1 : id;
    }

    /** True when the filesystem has a heartbeat block per node slot (multi-mount protection). */
    public boolean hasHeartbeats() {
        return (incompatFeatures & INCOMPAT_MMP) != 0;
    }

    /** Where node slot {@code jid} heartbeats; only with {@link #hasHeartbeats()}. */
    public long heartbeatBlock(int jid) {
        if (!hasHeartbeats() || jid < 0 || jid >= journalCount) {
            throw new IllegalArgumentException("no heartbeat block for slot " + jid);
        }
        return heartbeatBlock(blockSize, jid);
    }

    /** Where slot {@code jid} heartbeats on a filesystem of {@code blockSize} (for mkfs, before there is a superblock). */
    public static long heartbeatBlock(int blockSize, int jid) {
        return (jid + 1L) * heartbeatStride(blockSize);
    }

    /** The first block after the heartbeat blocks of {@code journals} slots: where mkfs starts the journals. */
    public static long heartbeatAreaEnd(int blockSize, int journals) {
        return heartbeatBlock(blockSize, journals - 1) + heartbeatStride(blockSize);
    }

    private static int heartbeatStride(int blockSize) {
        return Math.max(1, HEARTBEAT_ALIGNMENT / blockSize);
    }

    public long journalFirstBlock(int jid) {
        return journalStart + (long) jid * journalBlocks;
    }

    public long rgrpFirstBlock(int index) {
        return rgrpStart + (long) index * rgrpBlocks;
    }

    public int rgrpLength(int index) {
        return (int) Math.min(rgrpBlocks, totalBlocks - rgrpFirstBlock(index));
    }

    /** The resource group holding {@code block}, or -1 for the superblock and journals. */
    public int rgrpOf(long block) {
        if (block < rgrpStart || block >= totalBlocks) {
            return -1;
        }
        return (int) ((block - rgrpStart) / rgrpBlocks);
    }

    public void encode(ByteBuffer block) {
        MetaBlocks.zero(block);
        block.putInt(32, formatVersion);
        block.putInt(36, compatFeatures);
        block.putInt(40, roCompatFeatures);
        block.putInt(44, incompatFeatures);
        block.putLong(48, uuid.getMostSignificantBits());
        block.putLong(56, uuid.getLeastSignificantBits());
        block.putInt(64, blockSize);
        block.putInt(68, lockProtocol.code());
        block.putLong(72, totalBlocks);
        PaddedText.put(block, 80, LOCK_TABLE_MAX, lockTable);
        PaddedText.put(block, 144, LABEL_MAX, label);
        block.putInt(176, journalCount);
        block.putInt(180, journalBlocks);
        block.putLong(184, journalStart);
        block.putLong(192, rgrpStart);
        block.putInt(200, rgrpBlocks);
        block.putInt(204, rgrpCount);
        block.putLong(208, rootInode);
        block.putLong(216, hashSeed);
        block.putLong(224, createdEpochSecond);
        for (int j = 0; j < journalCount; j++) {
            block.putLong(ORPHAN_DIRS_OFFSET + 8 * j, orphanDirs[j]);
        }
        MetaBlocks.seal(block, new BlockHeader(BlockType.SUPERBLOCK, 1, 0, 0, fsId()));
    }

    /**
     * Decodes and checks block 0. Reading happens in two steps because the block size is inside:
     * the caller reads the first {@link #MIN_BLOCK_SIZE} bytes, asks {@link #peekBlockSize}, then
     * reads the whole block.
     *
     * @throws FormatException when this is not a Concord superblock or its features are unknown
     */
    public static Superblock decode(ByteBuffer block) {
        if (BlockHeader.magicOf(block) != BlockHeader.MAGIC || BlockHeader.typeCodeOf(block) != BlockType.SUPERBLOCK.code()) {
            throw new FormatException("not a Concord filesystem (no Concord superblock in block 0)");
        }
        UUID uuid = new UUID(block.getLong(48), block.getLong(56));
        try {
            MetaBlocks.verify(block, BlockType.SUPERBLOCK, 0, fsIdOf(uuid));
        } catch (CorruptBlockException e) {
            throw new FormatException("the superblock is damaged: " + e.getMessage());
        }
        int version = block.getInt(32);
        if (version > FORMAT_VERSION) {
            throw new FormatException("format version " + version + " is newer than this Concord understands (" + FORMAT_VERSION + ")");
        }
        int incompat = block.getInt(44);
        if ((incompat & ~KNOWN_INCOMPAT) != 0) {
            throw new FormatException(String.format("the filesystem uses incompatible features this Concord does not know (0x%x)", incompat & ~KNOWN_INCOMPAT));
        }
        int journalCount = block.getInt(176);
        int blockSize = block.getInt(64);
        if (journalCount < 1 || journalCount > maxJournals(blockSize)) {
            throw new FormatException("the superblock gives an impossible journal count " + journalCount);
        }
        long[] orphanDirs = new long[journalCount];
        for (int j = 0; j < journalCount; j++) {
            orphanDirs[j] = block.getLong(ORPHAN_DIRS_OFFSET + 8 * j);
        }
        Superblock sb = new Superblock(version, block.getInt(36), block.getInt(40), incompat, uuid, blockSize,
                block.getLong(72), PaddedText.get(block, 80, LOCK_TABLE_MAX), LockProtocol.fromCode(block.getInt(68)), PaddedText.get(block, 144, LABEL_MAX),
                journalCount, block.getInt(180), block.getLong(184), block.getLong(192), block.getInt(200),
                block.getInt(204), block.getLong(208), block.getLong(216), block.getLong(224), orphanDirs);
        sb.checkGeometry();
        return sb;
    }

    /** True when the ro-compat mask has bits this code does not know: mount read-only only. */
    public boolean requiresReadOnly() {
        return (roCompatFeatures & ~KNOWN_RO_COMPAT) != 0;
    }

    /** The block size a superblock claims, from its first bytes; 0 when it is not one of ours. */
    public static int peekBlockSize(ByteBuffer firstBytes) {
        if (BlockHeader.magicOf(firstBytes) != BlockHeader.MAGIC || BlockHeader.typeCodeOf(firstBytes) != BlockType.SUPERBLOCK.code()) {
            return 0;
        }
        return firstBytes.getInt(64);
    }

    private void checkGeometry() {
        if (Integer.bitCount(blockSize) != 1 || blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE) {
            throw new FormatException("the superblock gives an impossible block size " + blockSize);
        }
        long journalsEnd = journalStart + (long) journalCount * journalBlocks;
        if (hasHeartbeats() && journalStart < heartbeatAreaEnd(blockSize, journalCount)) {
            throw new FormatException("the superblock's journals overlap its heartbeat blocks");
        }
        if (journalStart < 1 || journalBlocks < 16 || rgrpStart < journalsEnd || rgrpBlocks < 16 || rgrpCount < 1
                || rgrpFirstBlock(rgrpCount - 1) >= totalBlocks || rgrpStart + (long) rgrpCount * rgrpBlocks < totalBlocks
                || rootInode < rgrpStart || rootInode >= totalBlocks) {
            throw new FormatException("the superblock's geometry does not add up (journals, resource groups, root)");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Superblock s && s.uuid.equals(uuid) && Arrays.equals(s.orphanDirs, orphanDirs)
                && s.toString().equals(toString());
    }

    @Override
    public int hashCode() {
        return uuid.hashCode();
    }

    @Override
    public String toString() {
        return "Superblock[uuid=" + uuid + ", blockSize=" + blockSize + ", totalBlocks=" + totalBlocks + ", lockTable=" + lockTable
                + ", lockProtocol=" + lockProtocol + ", label=" + label + ", journals=" + journalCount + "x" + journalBlocks + "@" + journalStart + ", rgrps="
                + rgrpCount + "x" + rgrpBlocks + "@" + rgrpStart + ", root=" + rootInode + "]";
    }
}
