package io.concord.dlm;

import static io.concord.dlm.LockMode.CR;
import static io.concord.dlm.LockMode.EX;
import static io.concord.dlm.LockMode.NL;
import static io.concord.dlm.LockMode.PR;
import static io.concord.dlm.LockMode.PW;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The public API as the filesystem sees it, over the single-node manager. */
@Timeout(20)
class NoLockManagerTest {
    private static final Duration LONG = Duration.ofSeconds(10);
    private static final ResourceName INODE = new ResourceName(ResourceName.INODE, 42);

    private final NoLockManager manager = new NoLockManager();
    private final NoLockSpace space = (NoLockSpace) manager.openLockSpace("fs");

    @AfterEach
    void closeSpace() {
        space.resources().checkInvariants();
        space.close();
    }

    @Test
    void twoLocksOnOneResourceConflictInOneProcess() {
        Lock writer = space.newLock(INODE, null);
        Lock reader = space.newLock(INODE, null);
        assertEquals(EX, writer.lock(EX, LONG));
        assertThrows(LockTimeoutException.class, () -> reader.lock(PR, Duration.ofMillis(50)));
        assertNull(reader.grantedMode());

        writer.unlock();
        assertNull(reader.grantedMode(), "the timed-out request was cancelled, not left queued");
        Lock other = space.newLock(INODE, null);
        assertEquals(EX, other.request(EX, Set.of(LockFlag.NOQUEUE)).join(), "nothing is queued in front");
    }

    @Test
    void blockedLockIsGrantedWhenTheHolderReleasesOnAnotherThread() throws Exception {
        Lock holder = space.newLock(INODE, null);
        Lock waiter = space.newLock(INODE, null);
        holder.lock(PR, LONG);
        CompletableFuture<LockMode> blocked = CompletableFuture.supplyAsync(() -> waiter.lock(EX, LONG));
        Thread.sleep(50);
        assertFalse(blocked.isDone(), "EX must wait for the PR holder");
        holder.unlock();
        assertEquals(EX, blocked.get(LONG.toMillis(), TimeUnit.MILLISECONDS));
    }

    @Test
    void bastCarriesTheWantedModeAndTheHolderMayUnlockFromInsideIt() throws Exception {
        BlockingQueue<LockMode> told = new LinkedBlockingQueue<>();
        Lock holder = space.newLock(INODE, (lock, wanted) -> {
            told.add(wanted);
            lock.unlock();
        });
        holder.lock(PW, LONG);
        Lock waiter = space.newLock(INODE, null);
        CompletableFuture<LockMode> granted = CompletableFuture.supplyAsync(() -> waiter.lock(PR, LONG));
        assertEquals(PR, granted.get(LONG.toMillis(), TimeUnit.MILLISECONDS));
        assertEquals(PR, told.poll(LONG.toMillis(), TimeUnit.MILLISECONDS));
        assertNull(holder.grantedMode());
        assertTrue(told.isEmpty(), "exactly one BAST");
    }

    @Test
    void holderMayDownConvertFromInsideItsBast() {
        Lock holder = space.newLock(INODE, (lock, wanted) -> lock.request(NL));
        holder.lock(EX, LONG);
        Lock waiter = space.newLock(INODE, null);
        assertEquals(EX, waiter.lock(EX, LONG));
        assertEquals(NL, holder.grantedMode());
    }

    @Test
    void valueBlockPassesFromWriterToReaderThroughLockHandles() {
        Lock writer = space.newLock(INODE, null);
        Lock reader = space.newLock(INODE, null);
        assertNull(writer.valueBlock(), "nothing read before the first grant");
        writer.lock(EX, LONG);
        assertEquals(LockValueBlock.EMPTY, writer.valueBlock());
        assertThrows(IllegalStateException.class, () -> reader.setValueBlock(new byte[32]), "not held");
        byte[] value = new byte[LockValueBlock.SIZE];
        value[31] = 7;
        writer.setValueBlock(value);
        writer.unlock();

        reader.lock(PR, LONG);
        assertEquals(7, reader.valueBlock().value()[31]);
        assertEquals(1, reader.valueBlock().sequence());
        assertThrows(IllegalStateException.class, () -> reader.setValueBlock(value), "PR may not write");
    }

    @Test
    void conversionDeadlockSurfacesFromTheBlockingFacade() {
        Lock a = space.newLock(INODE, null);
        Lock b = space.newLock(INODE, null);
        a.lock(PR, LONG);
        b.lock(PR, LONG);
        CompletableFuture<LockMode> first = a.request(EX);
        assertThrows(ConversionDeadlockException.class, () -> b.lock(EX, LONG));
        assertEquals(PR, b.grantedMode());
        b.unlock();
        assertEquals(EX, first.join());
    }

    @Test
    void secondRequestWhileOneIsInFlightIsRefused() {
        Lock holder = space.newLock(INODE, null);
        Lock waiter = space.newLock(INODE, null);
        holder.lock(EX, LONG);
        waiter.request(PR);
        assertThrows(IllegalStateException.class, () -> waiter.request(CR));
        assertTrue(waiter.cancel());
    }

    @Test
    void unusedResourcesAreDroppedButOnesWithAValueBlockAreKept() {
        Lock plain = space.newLock(INODE, null);
        plain.lock(PR, LONG);
        plain.unlock();
        assertEquals(0, space.resources().size(), "an unlocked resource without a value block is dropped");

        Lock rgrp = space.newLock(new ResourceName(ResourceName.RESOURCE_GROUP, 3), null);
        rgrp.lock(PW, LONG);
        rgrp.setValueBlock(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                       17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32});
        rgrp.unlock();
        assertEquals(1, space.resources().size());
        rgrp.lock(PR, LONG);
        assertEquals(32, rgrp.valueBlock().value()[31]);
    }

    @Test
    void unlockingWhatIsNotHeldDoesNothing() {
        Lock lock = space.newLock(INODE, null);
        assertTrue(lock.unlock().isDone());
        assertNull(lock.grantedMode());
    }

    @Test
    void closeFailsRequestsInFlightReleasesLocksAndRefusesNewOnes() throws Exception {
        Lock holder = space.newLock(INODE, null);
        Lock waiter = space.newLock(INODE, null);
        holder.lock(EX, LONG);
        CompletableFuture<LockMode> waiting = waiter.request(PR);

        space.close();
        ExecutionException e = assertThrows(ExecutionException.class, () -> waiting.get(LONG.toMillis(), TimeUnit.MILLISECONDS));
        assertInstanceOf(LockSpaceClosedException.class, e.getCause());
        assertNull(holder.grantedMode());
        assertThrows(LockSpaceClosedException.class, () -> space.newLock(INODE, null));
        ExecutionException late = assertThrows(ExecutionException.class, () -> holder.request(EX).get(LONG.toMillis(), TimeUnit.MILLISECONDS));
        assertInstanceOf(LockSpaceClosedException.class, late.getCause());
        assertThrows(LockSpaceClosedException.class, () -> holder.lock(EX, LONG));
        assertEquals(0, space.resources().size());

        try (LockSpace reopened = manager.openLockSpace("fs")) {
            assertEquals(EX, reopened.newLock(INODE, null).lock(EX, LONG), "the closed space's locks are gone");
        }
    }

    @Test
    void lockSpacesDoNotConflictWithEachOther() {
        try (LockSpace other = manager.openLockSpace("other-fs")) {
            space.newLock(INODE, null).lock(EX, LONG);
            assertEquals(EX, other.newLock(INODE, null).request(EX, Set.of(LockFlag.NOQUEUE)).join());
        }
    }

    @Test
    void aNameCanBeOpenOnlyOnceAtATime() {
        assertThrows(IllegalStateException.class, () -> manager.openLockSpace("fs"));
        assertThrows(IllegalArgumentException.class, () -> manager.openLockSpace(" "));
    }
}
