package io.concord.journal;

import io.concord.device.BlockDevice;
import io.concord.format.BlockType;
import io.concord.format.JournalHeader;
import io.concord.format.LogBlockList;
import io.concord.format.LogCommit;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * One node's physical redo journal: the only way metadata reaches the shared device.
 *
 * <p>A commit writes, at the ring's head, descriptor blocks each followed by the block images it
 * lists, then revoke blocks, then one commit block whose CRC32C covers all of them, and flushes.
 * Only after that may those blocks be written in place: committed images wait here (and are what
 * readers must see, see {@link #committedImage}) until a checkpoint writes them all back, flushes,
 * and moves the tail past them with a tail marker (an empty commit naming itself as tail). The
 * marker is flushed before any of the freed ring is reused, so replay can never meet a half-
 * overwritten old transaction and write back an image older than what is in place.
 *
 * <p>{@code data=ordered}: a transaction whose file data was written in place flushes the device
 * before its log blocks are written, so committed metadata never points at data that is not there.
 *
 * <p>Thread-safety: all public methods are synchronized; a commit is the unit of mutual exclusion.
 */
public final class Journal implements AutoCloseable {
    private final BlockDevice device;
    private final JournalRegion region;
    private final Clock clock;
    private final ReplayResult replay;
    /** Committed images not yet written in place, by block number (newest image wins). */
    private final Map<Long, ByteBuffer> committed = new HashMap<>();
    private int head;
    private long sequence;
    private int tailIndex;
    private long tailSequence;
    private long commits;
    private long checkpoints;

    private Journal(BlockDevice device, JournalRegion region, Clock clock, ReplayResult replay) {
        this.device = device;
        this.region = region;
        this.clock = clock;
        this.replay = replay;
        this.head = replay.headIndex();
        this.sequence = replay.nextSequence();
    }

    /**
     * Replays the journal (its owner does this at every mount) and opens it for writing. After
     * replay everything logged is in place, so the log starts empty with a tail marker.
     */
    public static Journal open(BlockDevice device, JournalRegion region, Clock clock) {
        checkHeader(device, region);
        ReplayResult replay = new JournalReplayer(device, region).replay(true);
        Journal journal = new Journal(device, region, clock, replay);
        synchronized (journal) {
            journal.writeTailMarker();
        }
        return journal;
    }

    /**
     * Recovers a journal without taking it over: replays it in place and marks it empty, as a
     * survivor does for a dead node's slot (the caller holds that slot's journal lock). After
     * this, a replay of the slot finds nothing to do.
     */
    public static ReplayResult recover(BlockDevice device, JournalRegion region, Clock clock) {
        return open(device, region, clock).replayAtOpen();
    }

    /** The journal's header block must name this slot and size, or the geometry is not what we think. */
    static void checkHeader(BlockDevice device, JournalRegion region) {
        ByteBuffer block = ByteBuffer.allocate(region.blockSize());
        device.read(region.firstBlock() * region.blockSize(), block);
        JournalHeader h = JournalHeader.decode(block.clear(), region.firstBlock(), region.fsId());
        if (h.journalId() != region.journalId() || h.blocks() != region.blocks()) {
            throw new io.concord.errors.CorruptBlockException(region.firstBlock(), "journal header says journal " + h.journalId()
                    + " of " + h.blocks() + " blocks, the superblock journal " + region.journalId() + " of " + region.blocks());
        }
    }

    /** Writes an empty journal (mkfs): the header and nothing in the ring that could be replayed. */
    public static void format(BlockDevice device, JournalRegion region) {
        ByteBuffer block = ByteBuffer.allocate(region.blockSize());
        new JournalHeader(region.journalId(), region.blocks()).encode(block, region.firstBlock(), region.fsId());
        device.write(region.firstBlock() * region.blockSize(), block.clear());
        // A fresh ring must hold no commit of this filesystem; zero its first block so that the
        // writer's first tail marker is the only commit at mount.
        ByteBuffer zero = ByteBuffer.allocate(region.blockSize());
        device.write(region.ringBlock(0) * region.blockSize(), zero);
    }

    public ReplayResult replayAtOpen() {
        return replay;
    }

    public JournalRegion region() {
        return region;
    }

    /** The most blocks one transaction may log; callers commit before they grow past it. */
    public int maxTransactionBlocks() {
        return (region.ringSize() - 4) / 2;
    }

    /** The newest committed image of {@code block} not yet written in place, read-only, or null. */
    public synchronized ByteBuffer committedImage(long block) {
        ByteBuffer b = committed.get(block);
        return b == null ? null : b.asReadOnlyBuffer().clear();
    }

    /**
     * The committed image of {@code block} itself, not a view of it (null if none): the same object
     * for as long as that image stays committed, so a caller can tell by identity whether it
     * changed. The caller must neither change it nor move its position or limit.
     */
    public synchronized ByteBuffer committedImageShared(long block) {
        return committed.get(block);
    }

    /** True when some committed image is not yet written in place (a checkpoint would write it). */
    public synchronized boolean hasUnwrittenImages() {
        return !committed.isEmpty();
    }

    /** True when an image of {@code block} lies in the live part of the log (a free must revoke it). */
    public synchronized boolean inWindow(long block) {
        return committed.containsKey(block);
    }

    /** Commits {@code tx} durably; returns its sequence number (0 when there was nothing to log). */
    public synchronized long commit(LoggedTransaction tx) {
        return commit(tx, true);
    }

    /**
     * As {@link #commit(LoggedTransaction)}, for a caller that hands its images over: it never
     * changes them afterwards, so the journal keeps them as they are (until the checkpoint writes
     * them in place) instead of a copy of each.
     */
    public synchronized long commitHandingOver(LoggedTransaction tx) {
        return commit(tx, false);
    }

    private long commit(LoggedTransaction tx, boolean copyImages) {
        if (tx.isEmpty()) {
            if (tx.orderedData()) {
                device.flush();
            }
            return 0;
        }
        int bs = region.blockSize();
        List<Long> blocks = new ArrayList<>(tx.images().keySet());
        int perList = LogBlockList.capacity(bs);
        int descriptors = (blocks.size() + perList - 1) / perList;
        List<Long> revokes = new ArrayList<>(tx.revokes());
        int revokeBlocks = (revokes.size() + perList - 1) / perList;
        int length = descriptors + blocks.size() + revokeBlocks;
        if (length + 1 > maxTransactionBlocks()) {
            throw new IllegalArgumentException("transaction of " + length + " blocks exceeds the journal's limit of " + maxTransactionBlocks());
        }
        if (free() < length + 2) {
            checkpointLocked();
        }
        if (tx.orderedData()) {
            device.flush();
        }
        ByteBuffer out = ByteBuffer.allocate((length + 1) * bs);
        int start = head;
        int at = 0;
        for (int d = 0; d < descriptors; d++) {
            List<Long> part = blocks.subList(d * perList, Math.min(blocks.size(), (d + 1) * perList));
            long[] numbers = part.stream().mapToLong(Long::longValue).toArray();
            new LogBlockList(BlockType.LOG_DESCRIPTOR, sequence, numbers).encode(slot(out, at), region.ringBlock(start + at), region.journalId(), region.fsId());
            at++;
            for (long b : numbers) {
                ByteBuffer image = tx.images().get(b);
                if (image.capacity() != bs) {
                    throw new IllegalArgumentException("image of block " + b + " is " + image.capacity() + " bytes, not " + bs);
                }
                slot(out, at).put(image.duplicate().clear());
                at++;
            }
        }
        for (int r = 0; r < revokeBlocks; r++) {
            List<Long> part = revokes.subList(r * perList, Math.min(revokes.size(), (r + 1) * perList));
            new LogBlockList(BlockType.LOG_REVOKE, sequence, part.stream().mapToLong(Long::longValue).toArray())
                    .encode(slot(out, at), region.ringBlock(start + at), region.journalId(), region.fsId());
            at++;
        }
        CRC32C crc = new CRC32C();
        crc.update(out.duplicate().position(0).limit(length * bs));
        LogCommit commit = new LogCommit(sequence, start, length, (int) crc.getValue(), tailSequence, tailIndex, nanosNow());
        commit.encode(slot(out, at), region.ringBlock(start + at), region.journalId(), region.fsId());
        writeRing(start, out);
        device.flush();
        for (long b : blocks) {
            ByteBuffer image = tx.images().get(b);
            committed.put(b, copyImages ? copyOf(image) : image);
        }
        for (long b : revokes) {
            if (!tx.images().containsKey(b)) {
                committed.remove(b);
            }
        }
        head = region.next(start, length + 1);
        commits++;
        return sequence++;
    }

    /** Writes every committed image in place, flushes, and empties the log (a tail marker). */
    public synchronized void checkpoint() {
        checkpointLocked();
    }

    public synchronized long commits() {
        return commits;
    }

    public synchronized long checkpoints() {
        return checkpoints;
    }

    /** Checkpoints, so that a clean unmount leaves nothing to replay. */
    @Override
    public synchronized void close() {
        checkpointLocked();
    }

    private void checkpointLocked() {
        if (!committed.isEmpty()) {
            int bs = region.blockSize();
            committed.entrySet().stream().sorted(Map.Entry.comparingByKey())
                    .forEach(e -> device.write(e.getKey() * bs, e.getValue().duplicate().clear()));
            device.flush();
            committed.clear();
        }
        writeTailMarker();
        checkpoints++;
    }

    private void writeTailMarker() {
        ByteBuffer block = ByteBuffer.allocate(region.blockSize());
        tailIndex = head;
        tailSequence = sequence;
        new LogCommit(sequence, head, 0, (int) new CRC32C().getValue(), tailSequence, tailIndex, nanosNow())
                .encode(block, region.ringBlock(head), region.journalId(), region.fsId());
        writeRing(head, block);
        device.flush();
        head = region.next(head, 1);
        sequence++;
    }

    private int free() {
        int used = region.next(head, -tailIndex);
        return region.ringSize() - used;
    }

    private void writeRing(int start, ByteBuffer out) {
        int bs = region.blockSize();
        int total = out.capacity() / bs;
        int first = Math.min(total, region.ringSize() - start);
        device.write(region.ringBlock(start) * bs, out.duplicate().position(0).limit(first * bs));
        if (first < total) {
            device.write(region.ringBlock(0) * bs, out.duplicate().position(first * bs).limit(total * bs));
        }
    }

    private ByteBuffer slot(ByteBuffer out, int index) {
        int bs = region.blockSize();
        return out.duplicate().position(index * bs).limit((index + 1) * bs).slice();
    }

    private static ByteBuffer copyOf(ByteBuffer image) {
        ByteBuffer copy = ByteBuffer.allocate(image.capacity());
        copy.put(image.duplicate().clear());
        return copy.clear();
    }

    private long nanosNow() {
        var now = clock.instant();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }
}
