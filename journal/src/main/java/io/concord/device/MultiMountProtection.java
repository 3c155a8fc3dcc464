package io.concord.device;

import io.concord.errors.ConcordException;
import io.concord.errors.CorruptBlockException;
import io.concord.errors.FormatException;
import io.concord.format.HeartbeatBlock;
import io.concord.format.HeartbeatBlock.State;
import io.concord.format.LockProtocol;
import io.concord.format.Superblock;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Multi-mount protection, as ext4's MMP: keeps a {@code nolock} mount from running while any other
 * mount of the filesystem is live, and a cluster mount from running while a {@code nolock} one is,
 * on this machine or another, by what is on the shared device alone (the DLM cannot help: a
 * {@code nolock} mount never joins it).
 *
 * <h2>The protocol</h2>
 * Each node slot has a {@link HeartbeatBlock} ({@link Superblock#heartbeatBlock}). A mount's
 * block is ACTIVE with a sequence it changes every {@link #interval}; a clean unmount writes
 * CLEAN. A block <em>conflicts</em> with a newcomer when it is ACTIVE and either side mounts
 * {@code nolock} (two cluster mounts are kept apart by the DLM, which also gave the newcomer its
 * slot, so a cluster block in that slot is a recovered dead node's). A newcomer:
 * <ol>
 * <li>reads every slot's block. If any conflicts, it watches them for twice the interval each
 *     holder wrote into its block (and half a second more): one that moved, or a conflicting block
 *     that appeared meanwhile, is a live mount and the newcomer is refused, naming it. Those that
 *     stood still belong to crashed mounts (kill -9, power loss): they are overwritten CLEAN (if
 *     still unchanged), so the next newcomer does not wait for them again.
 * <li>writes its own block ACTIVE, from a random sequence;
 * <li>reads every block again. A conflicting block it has not seen before (or its own slot with
 *     someone else's claim) is another newcomer that started at the same moment: refused. Because
 *     each newcomer writes before it reads, of two simultaneous newcomers at least one sees the
 *     other, so they cannot both go on; both may be refused (then either may simply retry).
 * <li>heartbeats: every interval it reads its block back and, if it is still its own last write,
 *     writes the next sequence. If someone else wrote it (a newcomer that took this mount for dead
 *     after it stalled past the watch, or a racing claim of the same slot), the mount is lost and
 *     {@code onLost} hears why: the filesystem must stop writing at once.
 * </ol>
 * A clean filesystem therefore costs a newcomer one read, one write and one read, with no wait; a
 * crashed holder costs one watch of about two and a half seconds.
 *
 * <p>What remains: the reads and writes must reach the shared medium, which is why the device given
 * here should be opened O_DIRECT (one machine shares its page cache, two do not). A holder that
 * stalls longer than the watch (a frozen VM) is taken for dead; it finds out at its next heartbeat
 * and is withdrawn, but between the newcomer's mount and that heartbeat both may write. A
 * refused newcomer writes its block CLEAN only if it still holds its own claim, read just before;
 * a same-slot racer that wrote in between loses its claim and is withdrawn at its first heartbeat
 * (safe, and needs two mounts of one slot within the same milliseconds). Read-only mounts watch
 * and refuse as above but write nothing, so they do not keep others out (as ext4's).
 */
public final class MultiMountProtection implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(MultiMountProtection.class.getName());

    /** How often a holder heartbeats; a newcomer watches a suspect for about twice the interval its block gives. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(1);
    private static final Duration WATCH_MARGIN = Duration.ofMillis(500);
    /** Bounds what a (damaged or hostile) block's interval can make a newcomer wait. */
    private static final int MIN_INTERVAL_MS = 100;
    private static final int MAX_INTERVAL_MS = 60_000;

    /** Who is mounting: what goes into its heartbeat block and into refusals others print. */
    public record Claimant(LockProtocol protocol, String node, String host, long pid) {
    }

    private final BlockDevice device;
    private final Superblock sb;
    private final int slot;
    private final Consumer<String> onLost;
    private final ScheduledExecutorService heart;
    private HeartbeatBlock written; // heartbeat thread, and close() after it stopped

    private MultiMountProtection(BlockDevice device, Superblock sb, int slot, HeartbeatBlock written,
            Consumer<String> onLost) {
        this.device = device;
        this.sb = sb;
        this.slot = slot;
        this.written = written;
        this.onLost = onLost;
        this.heart = written == null ? null
                : Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("concord-mmp-slot" + slot).factory());
    }

    /**
     * Claims slot {@code slot} for {@code me} and starts heartbeating into it (unless
     * {@code readOnly}). A filesystem without heartbeat blocks (made before they existed) is
     * mounted unprotected, as before.
     *
     * @param onLost hears, once, that another mount overwrote this one's block
     * @throws ConcordException naming the live holder when the filesystem is in use
     */
    public static MultiMountProtection claim(BlockDevice device, Superblock sb, int slot, Claimant me, boolean readOnly,
            Duration interval, Consumer<String> onLost) {
        if (!sb.hasHeartbeats()) {
            LOG.log(System.Logger.Level.WARNING, device.name() + " has no heartbeat blocks (made before multi-mount protection): "
                    + "nothing keeps another node from mounting it at the same time");
            return new MultiMountProtection(device, sb, slot, null, onLost);
        }
        MultiMountProtection m = new MultiMountProtection(device, sb, slot, null, onLost);
        List<HeartbeatBlock> stale = m.watchSuspects(me);
        if (readOnly) {
            return m;
        }
        m.clearStale(stale, me);
        HeartbeatBlock mine = new HeartbeatBlock(slot, State.ACTIVE, me.protocol(), ThreadLocalRandom.current().nextLong(),
                System.currentTimeMillis(), (int) interval.toMillis(), me.pid(), me.node(), me.host());
        m.write(mine);
        List<HeartbeatBlock> after = m.readAll();
        for (HeartbeatBlock b : after) {
            boolean mySlotTaken = b.slot() == slot && !b.equals(mine);
            if (mySlotTaken || (b.slot() != slot && conflicts(b, me) && !stale.contains(b))) {
                m.withdrawClaim(mine);
                throw new ConcordException("another mount of " + device.name() + " started at the same time: " + b.describeHolder()
                        + " on slot " + b.slot() + "; try again");
            }
        }
        MultiMountProtection running = new MultiMountProtection(device, sb, slot, mine, onLost);
        long ms = interval.toMillis();
        running.heart.scheduleWithFixedDelay(running::beat, ms, ms, TimeUnit.MILLISECONDS);
        return running;
    }

    /** Steps 1: the conflicting blocks that stood still through the watch; refuses if one moved. */
    private List<HeartbeatBlock> watchSuspects(Claimant me) {
        List<HeartbeatBlock> suspects = readAll().stream().filter(b -> conflicts(b, me)).toList();
        if (suspects.isEmpty()) {
            return List.of();
        }
        long watchMs = suspects.stream().mapToLong(b -> 2L * clampedInterval(b)).max().orElseThrow() + WATCH_MARGIN.toMillis();
        LOG.log(System.Logger.Level.INFO, "slot(s) " + suspects.stream().map(b -> String.valueOf(b.slot())).toList()
                + " of " + device.name() + " were left active (" + suspects.getFirst().describeHolder() + "): watching "
                + watchMs + " ms for a heartbeat");
        sleep(watchMs);
        for (HeartbeatBlock b : readAll()) {
            if (conflicts(b, me) && !suspects.contains(b)) {
                throw new ConcordException(device.name() + " is in use by " + b.describeHolder() + " on slot " + b.slot()
                        + " (its heartbeat is running)");
            }
        }
        LOG.log(System.Logger.Level.WARNING, "the heartbeat of " + suspects.stream().map(HeartbeatBlock::describeHolder).toList()
                + " stood still for " + watchMs + " ms: taken as crashed");
        return suspects;
    }

    /** Overwrites the blocks of crashed holders CLEAN, each only if it still holds what was watched. */
    private void clearStale(List<HeartbeatBlock> stale, Claimant me) {
        for (HeartbeatBlock dead : stale) {
            if (read(dead.slot()).equals(dead)) {
                write(new HeartbeatBlock(dead.slot(), State.CLEAN, me.protocol(), dead.sequence() + 1, System.currentTimeMillis(), 0,
                        me.pid(), me.node(), me.host()));
            }
        }
    }

    private void withdrawClaim(HeartbeatBlock mine) {
        if (read(slot).equals(mine)) {
            write(mine.withState(State.CLEAN));
        }
    }

    private static boolean conflicts(HeartbeatBlock b, Claimant me) {
        return b.state() == State.ACTIVE && (b.protocol() == LockProtocol.NOLOCK || me.protocol() == LockProtocol.NOLOCK);
    }

    private static long clampedInterval(HeartbeatBlock b) {
        return Math.clamp(b.intervalMillis(), MIN_INTERVAL_MS, MAX_INTERVAL_MS);
    }

    /** One heartbeat: on the heartbeat thread. */
    private void beat() {
        try {
            HeartbeatBlock now = read(slot);
            if (!now.equals(written)) {
                heart.shutdown();
                String why = "multi-mount protection: slot " + slot + " of " + device.name() + " was taken over by "
                        + now.describeHolder() + " (" + now.state() + ")";
                LOG.log(System.Logger.Level.ERROR, why);
                onLost.accept(why);
                return;
            }
            HeartbeatBlock next = written.next(System.currentTimeMillis());
            write(next);
            written = next;
        } catch (RuntimeException e) {
            // A failed heartbeat is retried at the next interval; too many in a row and newcomers take us for dead.
            LOG.log(System.Logger.Level.WARNING, "heartbeat of slot " + slot + " failed: " + e.getMessage());
        }
    }

    /** Stops heartbeating and writes the block CLEAN (if it is still this mount's): the unmount is clean. */
    @Override
    public void close() {
        if (heart == null) {
            return;
        }
        heart.shutdown();
        try {
            if (!heart.awaitTermination(10, TimeUnit.SECONDS)) {
                LOG.log(System.Logger.Level.WARNING, "heartbeat of slot " + slot + " did not stop; leaving its block as it is");
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        if (read(slot).equals(written)) {
            write(written.next(System.currentTimeMillis()).withState(State.CLEAN));
        }
    }

    private List<HeartbeatBlock> readAll() {
        List<HeartbeatBlock> all = new ArrayList<>(sb.journalCount());
        for (int j = 0; j < sb.journalCount(); j++) {
            all.add(read(j));
        }
        return all;
    }

    /** Slot {@code j}'s block; an unreadable one as an active holder whose sequence is its checksum, so a change shows. */
    private HeartbeatBlock read(int j) {
        long at = sb.heartbeatBlock(j);
        ByteBuffer block = ByteBuffer.allocate(sb.blockSize());
        device.read(at * sb.blockSize(), block);
        try {
            return HeartbeatBlock.decode(block.clear(), at, sb.fsId());
        } catch (CorruptBlockException | FormatException e) {
            return new HeartbeatBlock(j, State.ACTIVE, LockProtocol.NOLOCK, io.concord.format.MetaBlocks.crcOf(block), 0,
                    (int) DEFAULT_INTERVAL.toMillis(), 0, "(unreadable heartbeat block: " + e.getMessage() + ")", "?");
        }
    }

    private void write(HeartbeatBlock b) {
        long at = sb.heartbeatBlock(b.slot());
        ByteBuffer block = ByteBuffer.allocate(sb.blockSize());
        b.encode(block, at, sb.fsId());
        device.write(at * sb.blockSize(), block.clear());
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConcordException("interrupted while watching the heartbeat blocks");
        }
    }
}
