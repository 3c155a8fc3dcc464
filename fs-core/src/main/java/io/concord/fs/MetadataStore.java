package io.concord.fs;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.concord.device.BlockDevice;
import io.concord.format.BlockType;
import io.concord.format.LogBlockList;
import io.concord.format.MetaBlocks;
import io.concord.journal.Journal;
import io.concord.journal.LoggedTransaction;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Set;
import java.util.function.LongPredicate;

/**
 * Where metadata blocks are read and changed. A read looks, newest first, at the running
 * transaction, at images the journal has committed but not yet written in place, at the cache of
 * verified clean blocks, and finally at the device, verifying the block it reads. A change goes
 * into the running transaction only; the journal is the sole writer of metadata to the device.
 *
 * <p>The clean cache is a Caffeine cache bounded by bytes. Its entries are trusted only while
 * this node holds the glock that covers them: a glock's invalidate drops them ({@link #invalidate}).
 *
 * <p>A read-only mount has no journal ({@code journal} is null) and never changes anything.
 *
 * <p>Not thread-safe on its own: callers hold the filesystem lock (shared for reads, exclusive for
 * changes and commits).
 */
final class MetadataStore {
    private final BlockDevice device;
    private final Journal journal;
    private final int blockSize;
    private final int journalId;
    private final long fsId;
    private final Cache<Long, ByteBuffer> clean;
    private RunningTransaction running = new RunningTransaction();
    /** Images the current operation replaced (null value: the block was not in the transaction). */
    private final java.util.HashMap<Long, ByteBuffer> undo = new java.util.HashMap<>();
    private final java.util.ArrayList<Long> undoFreed = new java.util.ArrayList<>();
    private final java.util.ArrayList<Long> undoRevokes = new java.util.ArrayList<>();
    private boolean undoOrdered;
    private boolean inOperation;
    /** Told when the running transaction commits or an operation rolls back (the allocator's views). */
    private final java.util.List<Runnable> resetListeners = new java.util.ArrayList<>();

    MetadataStore(BlockDevice device, Journal journal, int blockSize, int journalId, long fsId, long cacheBytes, boolean decodedCache) {
        this.decoded = new Decoded[decodedCache ? DECODED_SLOTS : 0];
        this.device = device;
        this.journal = journal;
        this.blockSize = blockSize;
        this.journalId = journalId;
        this.fsId = fsId;
        this.clean = Caffeine.newBuilder()
                .maximumWeight(Math.max(cacheBytes, 16L * blockSize))
                .weigher((Long k, ByteBuffer v) -> v.capacity())
                .build();
    }

    int blockSize() {
        return blockSize;
    }

    int journalId() {
        return journalId;
    }

    long fsId() {
        return fsId;
    }

    /** A read-only mount has no journal: nothing is committed but not yet in place. */
    private ByteBuffer committedImage(long block) {
        return journal == null ? null : journal.committedImage(block);
    }

    /** The current image of a metadata block of type {@code type}, read-only, verified. */
    ByteBuffer read(long block, BlockType type) {
        return image(block, type).asReadOnlyBuffer().clear();
    }

    /**
     * The current image of {@code block} as stored (not a view: the caller must neither change it
     * nor move its position), verified. Images from the running transaction, the journal and the
     * cache were verified or built here; checking their CRC again on every read would cost more
     * than it could find. A block fresh from the device is verified whole before it is kept.
     */
    ByteBuffer image(long block, BlockType type) {
        ByteBuffer b = running.images.get(block);
        if (b == null && journal != null) {
            b = journal.committedImageShared(block);
        }
        if (b == null) {
            b = clean.getIfPresent(block);
        }
        return b != null ? b : fromDevice(block, type);
    }

    /** Reads {@code block} from the device, verifies it whole, and keeps it as clean. */
    private ByteBuffer fromDevice(long block, BlockType type) {
        ByteBuffer fresh = ByteBuffer.allocate(blockSize);
        device.read(block * blockSize, fresh);
        fresh.clear();
        MetaBlocks.verify(fresh, type, block, fsId);
        ByteBuffer b = fresh.asReadOnlyBuffer();
        clean.put(block, b);
        return b;
    }

    /**
     * As {@link #read}, for a caller that holds no lock covering the block: a clean cached copy
     * is not trusted but read again from the device (another node may have changed the block).
     */
    ByteBuffer readUncached(long block, BlockType type) {
        ByteBuffer b = running.images.get(block);
        if (b == null && journal != null) {
            b = journal.committedImageShared(block);
        }
        if (b == null) {
            b = fromDevice(block, type);
        }
        return b.asReadOnlyBuffer().clear();
    }

    // ---- decoded images ----
    //
    // Decoding an inode or a tree node copies every field and value out of the block; a create
    // decoded the directory's leaf four times over. So the decoded form of a recent image is kept
    // with the very image object it came from. Images are never changed in place (a change puts a
    // new image: write, forget, rollback and commit all replace the object), so while a block's
    // current image is that same object, its decoded form is still right. The table is
    // direct-mapped and races are harmless: a slot holds an immutable entry, and a lost update
    // only costs a decode. The decoded objects are shared, so nobody may change their arrays.

    private static final int DECODED_SLOTS = 1 << 10;

    /**
     * {@code source} is what was decoded: a stored image, or an inode's fork (a tree's root);
     * {@code tag} tells apart decodings of one source that check different things (a node's owner).
     */
    private record Decoded(long block, Object source, BlockType type, long tag, Object value) {
    }

    private final Decoded[] decoded; // empty: no table, every read decodes

    /** {@code image} (block's current image, from {@link #image}) decoded by {@code decoder} from a read-only view. */
    <T> T decoded(long block, ByteBuffer image, BlockType type, long tag, java.util.function.Function<ByteBuffer, T> decoder) {
        return decoded(block, image, type, tag, () -> decoder.apply(image.asReadOnlyBuffer().clear()));
    }

    /**
     * What {@code decoder} makes of {@code source}, which must never change (a stored image, an
     * inode's fork array): from the table when the same source was decoded the same way before.
     */
    @SuppressWarnings("unchecked")
    <T> T decoded(long block, Object source, BlockType type, long tag, java.util.function.Supplier<T> decoder) {
        if (decoded.length == 0) {
            return decoder.get();
        }
        int slot = (int) (block ^ (block >>> 10) ^ (tag * 0x9E3779B97F4A7C15L >>> 40)) & (DECODED_SLOTS - 1);
        Decoded d = decoded[slot];
        if (d != null && d.source == source && d.block == block && d.type == type && d.tag == tag) {
            return (T) d.value;
        }
        T value = decoder.get();
        decoded[slot] = new Decoded(block, source, type, tag, value);
        return value;
    }

    /** The block's current bytes without any check (for telling a stale handle from corruption). */
    ByteBuffer rawRead(long block) {
        ByteBuffer b = running.images.get(block);
        if (b == null) {
            b = committedImage(block);
        }
        if (b != null) {
            return b.asReadOnlyBuffer().clear();
        }
        ByteBuffer fresh = ByteBuffer.allocate(blockSize);
        device.read(block * blockSize, fresh);
        return fresh.clear();
    }

    /** A fresh zeroed block buffer for building an image to {@link #write}. */
    ByteBuffer newImage() {
        return ByteBuffer.allocate(blockSize);
    }

    /** A writable copy of the current image of {@code block}. */
    ByteBuffer copyOf(long block, BlockType type) {
        ByteBuffer copy = ByteBuffer.allocate(blockSize);
        copy.put(read(block, type));
        return copy.clear();
    }

    /**
     * Puts a sealed image of {@code block} into the running transaction. The image is the store's
     * from now on: the caller never changes it again (the journal and the decoded table keep it).
     */
    void write(long block, ByteBuffer sealedImage) {
        remember(block);
        running.images.put(block, sealedImage.clear());
        clean.invalidate(block);
    }

    /**
     * Forgets a freed metadata block: its image leaves the running transaction, and if the journal
     * still holds an older image of it, that image is revoked so replay never writes it back over
     * whatever the block becomes next.
     */
    void forget(long block) {
        remember(block);
        running.images.remove(block);
        clean.invalidate(block);
        if (journal != null && journal.inWindow(block) && running.revokes.add(block) && inOperation) {
            undoRevokes.add(block);
        }
    }

    /** Records that blocks were freed in the running transaction (not reusable until it commits). */
    void freed(long start, long count) {
        for (long b = start; b < start + count; b++) {
            if (running.freed.add(b) && inOperation) {
                undoFreed.add(b);
            }
        }
    }

    void onTransactionReset(Runnable listener) {
        resetListeners.add(listener);
    }

    /** Blocks in [from, to) freed by the running transaction. */
    void forEachUncommittedFree(long from, long to, java.util.function.LongConsumer action) {
        for (long b : running.freed) {
            if (b >= from && b < to) {
                action.accept(b);
            }
        }
    }

    boolean hasUncommittedFrees() {
        return !running.freed.isEmpty();
    }

    boolean freedUncommitted(long block) {
        return running.freed.contains(block);
    }

    LongPredicate uncommittedFrees() {
        Set<Long> f = running.freed;
        return f::contains;
    }

    /** Notes that file data was written in place for the running transaction (data=ordered). */
    void orderedData() {
        running.orderedData = true;
    }

    // ---- one operation's all-or-nothing: an operation that fails part-way leaves no trace ----

    void beginOperation() {
        undo.clear();
        undoFreed.clear();
        undoRevokes.clear();
        undoOrdered = running.orderedData;
        inOperation = true;
    }

    void endOperation() {
        inOperation = false;
        undo.clear();
        undoFreed.clear();
        undoRevokes.clear();
    }

    /** Puts the running transaction back as it was at {@link #beginOperation()}. */
    void rollbackOperation() {
        for (var e : undo.entrySet()) {
            if (e.getValue() == null) {
                running.images.remove(e.getKey());
            } else {
                running.images.put(e.getKey(), e.getValue());
            }
        }
        undoFreed.forEach(running.freed::remove);
        undoRevokes.forEach(running.revokes::remove);
        running.orderedData = undoOrdered;
        endOperation();
        resetListeners.forEach(Runnable::run);
    }

    private void remember(long block) {
        if (inOperation && !undo.containsKey(block)) {
            undo.put(block, running.images.get(block));
        }
    }

    int runningLogBlocks() {
        return running.logBlocks(LogBlockList.capacity(blockSize));
    }

    int maxTransactionBlocks() {
        return journal == null ? 0 : journal.maxTransactionBlocks();
    }

    boolean hasUncommitted() {
        return !running.isEmpty();
    }

    /** Commits the running transaction through the journal and starts a new one. */
    long commit() {
        RunningTransaction tx = running;
        if (tx.isEmpty()) {
            return 0;
        }
        if (journal == null) {
            throw new io.concord.errors.FsException(io.concord.errors.FsException.Kind.READ_ONLY, "read-only filesystem");
        }
        // Images are never changed once written here (every change writes a new one), so the
        // journal may keep these very buffers.
        long seq = journal.commitHandingOver(new LoggedTransaction(Map.copyOf(tx.images), Set.copyOf(tx.revokes), tx.orderedData));
        running = new RunningTransaction();
        // A commit inside an operation makes what came before it permanent.
        undo.clear();
        undoFreed.clear();
        undoRevokes.clear();
        undoOrdered = false;
        resetListeners.forEach(Runnable::run);
        return seq;
    }

    /** Drops the clean cached blocks of an inode: the inode block, its tree nodes and xattr block. */
    void invalidateInode(long ino) {
        clean.invalidate(ino);
        clean.asMap().entrySet().removeIf(e -> {
            ByteBuffer b = e.getValue();
            int type = io.concord.format.BlockHeader.typeCodeOf(b);
            return (type == BlockType.BTREE_NODE.code() || type == BlockType.XATTR.code()) && MetaBlocks.ownerOf(b) == ino;
        });
    }

    /** Drops the clean cached copies of blocks [first, first + count), one by one (a short range). */
    void invalidateBlocks(long first, int count) {
        for (long b = first; b < first + count; b++) {
            clean.invalidate(b);
        }
    }

    /** Drops the clean cached blocks in [first, first + count). */
    void invalidateRange(long first, long count) {
        clean.asMap().keySet().removeIf(b -> b >= first && b < first + count);
    }

    void invalidateAll() {
        clean.invalidateAll();
        java.util.Arrays.fill(decoded, null);
    }

    long cachedBlocks() {
        return clean.estimatedSize();
    }
}
