package io.concord.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.errors.ConcordException;
import io.concord.format.HeartbeatBlock;
import io.concord.format.HeartbeatBlock.State;
import io.concord.format.LockProtocol;
import io.concord.format.Superblock;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The heartbeat protocol on a real image file, with several claimants in one process as several
 * machines would be (each its own O_DIRECT handle on the file).
 */
@Timeout(60)
class MultiMountProtectionTest {
    private static final int BS = 4096;
    private static final int SLOTS = 3;
    private static final Duration INTERVAL = Duration.ofMillis(100);
    private static final MultiMountProtection.Claimant NOLOCK_A = new MultiMountProtection.Claimant(LockProtocol.NOLOCK, "a", "host-a", 101);
    private static final MultiMountProtection.Claimant NOLOCK_B = new MultiMountProtection.Claimant(LockProtocol.NOLOCK, "b", "host-b", 202);
    private static final MultiMountProtection.Claimant DLM_C = new MultiMountProtection.Claimant(LockProtocol.DLM, "c", "host-c", 303);
    private static final MultiMountProtection.Claimant DLM_D = new MultiMountProtection.Claimant(LockProtocol.DLM, "d", "host-d", 404);

    @TempDir
    Path tmp;

    private Path image;
    private Superblock sb;
    private BlockDevice device;

    @BeforeEach
    void cleanImage() throws Exception {
        image = tmp.resolve("mmp.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(64L * BS);
        }
        long journals = Superblock.heartbeatAreaEnd(BS, SLOTS);
        sb = new Superblock(Superblock.FORMAT_VERSION, 0, 0, Superblock.INCOMPAT_MMP, UUID.randomUUID(), BS, 64, "t:mmp", LockProtocol.DLM, "",
                SLOTS, 16, journals, journals + 16 * SLOTS, 16, 1, journals + 16 * SLOTS + 2, 0, 0, new long[SLOTS]);
        device = handle();
        for (int j = 0; j < SLOTS; j++) {
            put(HeartbeatBlock.clean(j));
        }
    }

    @AfterEach
    void closeDevice() {
        device.close();
    }

    /** A handle of its own, as another machine would have. */
    private BlockDevice handle() {
        return FileBlockDevice.open(image, false, true);
    }

    private void put(HeartbeatBlock b) {
        ByteBuffer block = ByteBuffer.allocate(BS);
        long at = sb.heartbeatBlock(b.slot());
        b.encode(block, at, sb.fsId());
        device.write(at * BS, block.clear());
    }

    private HeartbeatBlock get(int slot) {
        ByteBuffer block = ByteBuffer.allocate(BS);
        long at = sb.heartbeatBlock(slot);
        device.read(at * BS, block);
        return HeartbeatBlock.decode(block.clear(), at, sb.fsId());
    }

    private MultiMountProtection claim(BlockDevice on, int slot, MultiMountProtection.Claimant me) {
        return MultiMountProtection.claim(on, sb, slot, me, false, INTERVAL, why -> { });
    }

    @Test
    void aCleanFilesystemIsClaimedWithoutWaitingAndACleanUnmountLeavesItClean() {
        long start = System.nanoTime();
        try (MultiMountProtection m = claim(device, 0, NOLOCK_A)) {
            assertTrue(System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(INTERVAL.toMillis()), "a clean claim waits for nothing");
            HeartbeatBlock b = get(0);
            assertEquals(State.ACTIVE, b.state());
            assertEquals("a", b.node());
            assertEquals(101, b.pid());
        }
        assertEquals(State.CLEAN, get(0).state());
    }

    @Test
    void theHolderHeartbeats() throws Exception {
        try (MultiMountProtection m = claim(device, 1, NOLOCK_A)) {
            long first = get(1).sequence();
            Thread.sleep(INTERVAL.toMillis() * 4);
            assertTrue(get(1).sequence() - first >= 2, "the sequence moves every interval");
        }
    }

    @Test
    void aSecondNolockMountIsRefusedNamingTheHolderOnAnySlot() {
        try (BlockDevice other = handle(); MultiMountProtection held = claim(device, 0, NOLOCK_A)) {
            ConcordException sameSlot = assertThrows(ConcordException.class, () -> claim(other, 0, NOLOCK_B));
            assertTrue(sameSlot.getMessage().contains("in use by node a (host host-a, pid 101), mounted nolock"), sameSlot.getMessage());
            ConcordException otherSlot = assertThrows(ConcordException.class, () -> claim(other, 2, NOLOCK_B));
            assertTrue(otherSlot.getMessage().contains("node a (host host-a, pid 101)"), otherSlot.getMessage());
            assertEquals("a", get(0).node(), "the refused newcomer left the holder's block alone");
            assertEquals(State.CLEAN, get(2).state(), "the refused newcomer claimed nothing");
        }
    }

    @Test
    void clusterMountsOfDifferentSlotsCoexistAndKeepNolockOut() {
        try (BlockDevice second = handle(); BlockDevice third = handle();
                MultiMountProtection c = claim(device, 0, DLM_C); MultiMountProtection d = claim(second, 1, DLM_D)) {
            ConcordException e = assertThrows(ConcordException.class, () -> claim(third, 2, NOLOCK_A));
            assertTrue(e.getMessage().contains("mounted dlm"), e.getMessage());
            assertEquals(State.ACTIVE, get(0).state());
            assertEquals(State.ACTIVE, get(1).state());
        }
    }

    @Test
    void aClusterMountIsRefusedWhileANolockMountHoldsTheFilesystem() {
        try (BlockDevice other = handle(); MultiMountProtection held = claim(device, 2, NOLOCK_A)) {
            ConcordException e = assertThrows(ConcordException.class, () -> claim(other, 0, DLM_C));
            assertTrue(e.getMessage().contains("in use by node a (host host-a, pid 101), mounted nolock on slot 2"), e.getMessage());
        }
    }

    @Test
    void aCrashedHoldersBlockIsTakenOverAfterTheWatchAndCleared() {
        // Written once and never again: what kill -9 leaves.
        put(new HeartbeatBlock(1, State.ACTIVE, LockProtocol.NOLOCK, 77, 0, (int) INTERVAL.toMillis(), 999, "gone", "host-gone"));
        long start = System.nanoTime();
        try (MultiMountProtection m = claim(device, 0, NOLOCK_B)) {
            long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(waitedMs >= 2 * INTERVAL.toMillis(), "watched the stale block for two intervals, not " + waitedMs + " ms");
            assertEquals(State.CLEAN, get(1).state(), "the crashed holder's block is cleared for the next newcomer");
            assertEquals(State.ACTIVE, get(0).state());
        }
    }

    @Test
    void aNewcomerThatWritesAtTheSameMomentIsSeenAfterTheClaim() {
        // The other newcomer's write lands between this one's first read and its write: only the read after the write can see it.
        AtomicBoolean raced = new AtomicBoolean();
        BlockDevice own = handle();
        BlockDevice racing = new BlockDevice() {
            @Override
            public void write(long offset, ByteBuffer src) {
                own.write(offset, src);
                if (raced.compareAndSet(false, true)) {
                    put(new HeartbeatBlock(2, State.ACTIVE, LockProtocol.NOLOCK, 5, 0, (int) INTERVAL.toMillis(), 202, "b", "host-b"));
                }
            }

            @Override
            public void read(long offset, ByteBuffer dst) {
                own.read(offset, dst);
            }

            @Override
            public String name() {
                return own.name();
            }

            @Override
            public long size() {
                return own.size();
            }

            @Override
            public void flush() {
                own.flush();
            }

            @Override
            public boolean readOnly() {
                return false;
            }

            @Override
            public void close() {
                own.close();
            }
        };
        ConcordException e = assertThrows(ConcordException.class, () -> claim(racing, 0, NOLOCK_A));
        assertTrue(e.getMessage().contains("started at the same time: node b"), e.getMessage());
        assertEquals(State.CLEAN, get(0).state(), "the refused claim was withdrawn");
        racing.close();
    }

    @Test
    void aHolderWhoseBlockIsOverwrittenHearsItHasLostTheFilesystem() throws Exception {
        CompletableFuture<String> lost = new CompletableFuture<>();
        try (MultiMountProtection m = MultiMountProtection.claim(device, sb, 0, NOLOCK_A, false, INTERVAL, lost::complete)) {
            put(new HeartbeatBlock(0, State.ACTIVE, LockProtocol.NOLOCK, 1, 0, 100, 202, "b", "host-b"));
            String why = lost.get(5, TimeUnit.SECONDS);
            assertTrue(why.contains("taken over by node b"), why);
        }
        assertEquals("b", get(0).node(), "the holder that lost its slot does not write it CLEAN on close");
    }

    @Test
    void aFilesystemWithoutHeartbeatBlocksMountsUnprotected() {
        Superblock old = new Superblock(sb.formatVersion(), 0, 0, 0, sb.uuid(), BS, 64, "t:mmp", LockProtocol.NOLOCK, "", SLOTS, 16, 1,
                1 + 16 * SLOTS, 16, 1, 2 + 16 * SLOTS, 0, 0, new long[SLOTS]);
        try (MultiMountProtection a = MultiMountProtection.claim(device, old, 0, NOLOCK_A, false, INTERVAL, w -> { });
                MultiMountProtection b = MultiMountProtection.claim(device, old, 0, NOLOCK_B, false, INTERVAL, w -> { })) {
            assertEquals(State.CLEAN, get(0).state(), "nothing was written where the heartbeat blocks would be");
        }
    }
}
