package io.concord.format;

import java.nio.ByteBuffer;

/**
 * One node slot's multi-mount-protection block (only with {@link Superblock#INCOMPAT_MMP}): a
 * mount keeps it {@link State#ACTIVE} and changes its sequence every {@code intervalMillis}, so
 * that a mount elsewhere, which can see only the device, tells a live holder (the sequence moves)
 * from a crashed one (it stands still). A clean unmount leaves it {@link State#CLEAN}.
 *
 * <pre>
 * offset size field
 *   0    32  {@link BlockHeader} (type HEARTBEAT, journalId = the slot)
 *  32     4  state           0 clean, 1 active
 *  36     4  protocol        how the holder mounted: {@link LockProtocol#code()}
 *  40     8  sequence        changes at every heartbeat; a new claim starts from a random value
 *  48     8  writtenMillis   wall clock of the write (for messages only: clocks differ)
 *  56     4  intervalMillis  the holder's heartbeat interval: how long a newcomer must watch
 *  60     4  pid             the holder's process id
 *  64    64  node            the holder's node name, UTF-8, NUL padded
 * 128    64  host            the holder's host name, UTF-8, NUL padded
 * </pre>
 */
public record HeartbeatBlock(int slot, State state, LockProtocol protocol, long sequence, long writtenMillis, int intervalMillis,
        long pid, String node, String host) {
    public static final int NAME_MAX = 64;

    /** Whether a mount holds the slot. Codes are on disk. */
    public enum State {
        CLEAN,
        ACTIVE
    }

    public HeartbeatBlock {
        node = PaddedText.truncate(node, NAME_MAX);
        host = PaddedText.truncate(host, NAME_MAX);
    }

    /** What mkfs writes: nobody holds the slot. */
    public static HeartbeatBlock clean(int slot) {
        return new HeartbeatBlock(slot, State.CLEAN, LockProtocol.NOLOCK, 0, 0, 0, 0, "", "");
    }

    public HeartbeatBlock withState(State s) {
        return new HeartbeatBlock(slot, s, protocol, sequence, writtenMillis, intervalMillis, pid, node, host);
    }

    /** The next heartbeat: the sequence moves on, the time is {@code now}. */
    public HeartbeatBlock next(long nowMillis) {
        return new HeartbeatBlock(slot, state, protocol, sequence + 1, nowMillis, intervalMillis, pid, node, host);
    }

    /** The same claimant (host, pid, node) as {@code other}, whatever the sequence. */
    public boolean sameHolder(HeartbeatBlock other) {
        return pid == other.pid && host.equals(other.host) && node.equals(other.node) && protocol == other.protocol;
    }

    /** "node n1 (host h, pid 42), mounted nolock": for refusals. */
    public String describeHolder() {
        return "node " + node + " (host " + host + ", pid " + pid + "), mounted " + protocol;
    }

    public void encode(ByteBuffer block, long blockNumber, long fsId) {
        MetaBlocks.zero(block);
        block.putInt(32, state.ordinal());
        block.putInt(36, protocol.code());
        block.putLong(40, sequence);
        block.putLong(48, writtenMillis);
        block.putInt(56, intervalMillis);
        block.putInt(60, (int) pid);
        PaddedText.put(block, 64, NAME_MAX, node);
        PaddedText.put(block, 128, NAME_MAX, host);
        MetaBlocks.seal(block, new BlockHeader(BlockType.HEARTBEAT, 1, slot, blockNumber, fsId));
    }

    /** @throws io.concord.errors.CorruptBlockException when the block is not a sound heartbeat block */
    public static HeartbeatBlock decode(ByteBuffer block, long blockNumber, long fsId) {
        MetaBlocks.verify(block, BlockType.HEARTBEAT, blockNumber, fsId);
        int state = block.getInt(32);
        if (state < 0 || state >= State.values().length) {
            throw new io.concord.errors.CorruptBlockException(blockNumber, "heartbeat block has unknown state " + state);
        }
        return new HeartbeatBlock(BlockHeader.journalIdOf(block), State.values()[state], LockProtocol.fromCode(block.getInt(36)),
                block.getLong(40), block.getLong(48), block.getInt(56), Integer.toUnsignedLong(block.getInt(60)),
                PaddedText.get(block, 64, NAME_MAX), PaddedText.get(block, 128, NAME_MAX));
    }
}
