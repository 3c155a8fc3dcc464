package io.concord.journal;

import io.concord.device.BlockDevice;
import io.concord.errors.CorruptBlockException;
import io.concord.format.BlockType;
import io.concord.format.LogBlockList;
import io.concord.format.LogCommit;
import io.concord.format.MetaBlocks;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Redoes a journal's committed transactions in place. Run by a node on its own journal at mount,
 * and (in a later issue) by a survivor on a dead node's journal. Idempotent: the log holds whole
 * block images, so replaying twice writes the same bytes twice.
 *
 * <p>Two passes, as GFS2's recovery:
 * <ol>
 * <li>Find the head: every ring block that is a sound commit block of this journal is a
 *     candidate; the one with the highest sequence whose transaction's CRC32C matches is the last
 *     committed transaction. A torn last transaction fails its CRC and the one before it wins;
 *     blocks left from an earlier mkfs carry another filesystem id and are never candidates.</li>
 * <li>From the tail that commit names, walk the transactions in sequence order, each checked
 *     against its own commit, collecting revokes; then write every image whose block was not
 *     revoked by a later transaction (a revoke cancels older images; an image logged in the same
 *     transaction as the revoke is the block's new content). The walk stops at the first transaction that is
 *     missing, torn or out of sequence; nothing after it is trusted.</li>
 * </ol>
 */
public final class JournalReplayer {
    private final BlockDevice device;
    private final JournalRegion region;

    public JournalReplayer(BlockDevice device, JournalRegion region) {
        this.device = device;
        this.region = region;
    }

    /** One committed transaction found by the walk, with its images' ring positions. */
    record Found(long sequence, int start, int length, List<Long> imageBlocks, List<Integer> imageIndexes, List<Long> revokes) {
    }

    /** Replays and flushes; the journal's own writer may then continue at the result's head. */
    public ReplayResult replay(boolean write) {
        LogCommit last = findLastCommit();
        if (last == null) {
            return new ReplayResult(region.journalId(), 0, 1, 0, 0, 0, "empty journal");
        }
        int head = region.next(last.start(), last.blocks() + 1);
        List<Found> found = new ArrayList<>();
        String stopped = walk(last, found);
        Map<Long, Long> revokedUpTo = new HashMap<>();
        for (Found t : found) {
            for (long b : t.revokes()) {
                revokedUpTo.merge(b, t.sequence(), Math::max);
            }
        }
        int written = 0;
        int revoked = 0;
        ByteBuffer image = ByteBuffer.allocate(region.blockSize());
        for (Found t : found) {
            for (int i = 0; i < t.imageBlocks().size(); i++) {
                long target = t.imageBlocks().get(i);
                Long r = revokedUpTo.get(target);
                if (r != null && r > t.sequence()) {
                    revoked++;
                    continue;
                }
                if (write) {
                    device.read(region.ringBlock(t.imageIndexes().get(i)) * region.blockSize(), image.clear());
                    device.write(target * region.blockSize(), image.flip());
                }
                written++;
            }
        }
        if (write && written > 0) {
            device.flush();
        }
        int withContent = (int) found.stream().filter(t -> !t.imageBlocks().isEmpty() || !t.revokes().isEmpty()).count();
        return new ReplayResult(region.journalId(), head, last.sequence() + 1, withContent, written, revoked, stopped);
    }

    /** Pass 1: the sound commit with the highest sequence whose transaction checks out, or null. */
    LogCommit findLastCommit() {
        int ring = region.ringSize();
        int bs = region.blockSize();
        int chunk = Math.max(1, (1 << 20) / bs);
        ByteBuffer buf = ByteBuffer.allocate(chunk * bs);
        List<LogCommit> commits = new ArrayList<>();
        for (int first = 0; first < ring; first += chunk) {
            int n = Math.min(chunk, ring - first);
            buf.clear().limit(n * bs);
            device.read(region.ringBlock(first) * bs, buf);
            for (int i = 0; i < n; i++) {
                ByteBuffer block = buf.duplicate().position(i * bs).limit((i + 1) * bs).slice();
                if (typeAt(block, region.ringBlock(first + i)) == BlockType.LOG_COMMIT) {
                    LogCommit c = LogCommit.decode(block);
                    if (c.start() == region.next(first + i, -c.blocks())) {
                        commits.add(c);
                    }
                }
            }
        }
        commits.sort((a, b) -> Long.compare(b.sequence(), a.sequence()));
        for (LogCommit c : commits) {
            if (crcOf(c.start(), c.blocks()) == c.crc()) {
                return c;
            }
        }
        return null;
    }

    /** Pass 2's walk from the tail named by {@code last} up to {@code last}; returns why it stopped. */
    private String walk(LogCommit last, List<Found> found) {
        int index = last.tailIndex();
        long sequence = last.tailSequence();
        ByteBuffer block = ByteBuffer.allocate(region.blockSize());
        while (sequence <= last.sequence()) {
            int start = index;
            List<Long> images = new ArrayList<>();
            List<Integer> imageIndexes = new ArrayList<>();
            List<Long> revokes = new ArrayList<>();
            int length = 0; // blocks walked in this transaction, not taken modulo the ring
            while (true) {
                if (length >= region.ringSize() - 1) {
                    return "transaction " + sequence + " runs around the whole ring";
                }
                long at = region.ringBlock(index);
                device.read(at * region.blockSize(), block.clear());
                block.flip();
                BlockType type = typeAt(block, at);
                if (type == null || LogBlockList.sequenceOf(block) != sequence) {
                    return "transaction " + sequence + " is missing or out of sequence at ring index " + index;
                }
                if (type == BlockType.LOG_COMMIT) {
                    LogCommit c = LogCommit.decode(block);
                    if (c.start() != start || c.blocks() != length || crcOf(start, length) != c.crc()) {
                        return "transaction " + sequence + " does not match its commit block";
                    }
                    found.add(new Found(sequence, start, length, images, imageIndexes, revokes));
                    index = region.next(index, 1);
                    break;
                }
                LogBlockList list = LogBlockList.decode(block, type, at);
                if (type == BlockType.LOG_DESCRIPTOR) {
                    if (length + 1 + list.blocks().length >= region.ringSize() - 1) {
                        return "transaction " + sequence + " runs around the whole ring";
                    }
                    for (int i = 0; i < list.blocks().length; i++) {
                        images.add(list.blocks()[i]);
                        imageIndexes.add(region.next(index, 1 + i));
                    }
                    index = region.next(index, 1 + list.blocks().length);
                    length += 1 + list.blocks().length;
                } else if (type == BlockType.LOG_REVOKE) {
                    for (long b : list.blocks()) {
                        revokes.add(b);
                    }
                    index = region.next(index, 1);
                    length++;
                } else {
                    return "unexpected " + type + " block in transaction " + sequence;
                }
            }
            sequence++;
        }
        return "end of log";
    }

    /** The log block type at {@code block}, or null when it is not a sound log block of this journal. */
    private BlockType typeAt(ByteBuffer block, long blockNumber) {
        try {
            BlockType t = MetaBlocks.check(block, blockNumber, region.fsId());
            if (io.concord.format.BlockHeader.journalIdOf(block) != region.journalId()) {
                return null;
            }
            return (t == BlockType.LOG_COMMIT || t == BlockType.LOG_DESCRIPTOR || t == BlockType.LOG_REVOKE) ? t : null;
        } catch (CorruptBlockException e) {
            return null;
        }
    }

    /** CRC32C over {@code length} ring blocks from {@code start}, as the writer computed it. */
    private int crcOf(int start, int length) {
        CRC32C crc = new CRC32C();
        ByteBuffer block = ByteBuffer.allocate(region.blockSize());
        for (int i = 0; i < length; i++) {
            device.read(region.ringBlock(start + i) * region.blockSize(), block.clear());
            crc.update(block.flip());
        }
        return (int) crc.getValue();
    }
}
