package io.concord.dlm;

import static io.concord.dlm.LockMode.CR;
import static io.concord.dlm.LockMode.CW;
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

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The engine driven directly, single-threaded: each operation delivers its own completions and
 * BASTs before it returns, so every outcome can be asserted right after the call. Holders sit on
 * different nodes, as on a master.
 */
@Timeout(10)
class ResourceQueuesTest {
    private final ResourceQueues queues = new ResourceQueues(new ResourceName('I', 7));
    private long nextNode = 1;

    @AfterEach
    void invariantsHold() {
        queues.checkInvariants();
    }

    // ---- granting order ----

    @Test
    void compatibleRequestsAreGrantedTogether() {
        Holder a = holder(), b = holder(), c = holder();
        assertGranted(PR, a.request(PR));
        assertGranted(PR, b.request(PR));
        assertGranted(CR, c.request(CR));
    }

    @Test
    void waiterBehindAnIncompatibleWaiterIsNotGrantedPastIt() {
        Holder reader = holder(), writer = holder(), lateReader = holder();
        assertGranted(PR, reader.request(PR));
        var write = writer.request(EX);
        var lateRead = lateReader.request(PR);
        assertPending(write);
        assertPending(lateRead); // compatible with the granted PR, but behind the EX

        reader.unlock();
        assertGranted(EX, write);
        assertPending(lateRead);

        writer.unlock();
        assertGranted(PR, lateRead);
    }

    @Test
    void cancellingTheHeadWaiterLetsCompatibleWaitersBehindItIn() {
        Holder reader = holder(), writer = holder(), lateReader = holder();
        reader.request(PR);
        var write = writer.request(EX);
        var lateRead = lateReader.request(PR);

        assertTrue(writer.cancel());
        assertFails(LockCancelledException.class, write);
        assertGranted(PR, lateRead);
        assertNull(queues.grantedMode(writer.id));
    }

    @Test
    void upConversionIsGrantedAtOnceWhenCompatibleAndQueuedOtherwise() {
        Holder a = holder(), b = holder();
        a.request(CR);
        b.request(CR);
        assertGranted(PW, a.convert(PW)); // PW is compatible with b's CR
        var toEx = b.convert(EX);
        assertPending(toEx);
        assertEquals(CR, queues.grantedMode(b.id), "a queued conversion keeps its mode");

        a.unlock();
        assertGranted(EX, toEx);
    }

    @Test
    void downConversionIsGrantedAtOnceAndLetsWaitersIn() {
        Holder writer = holder(), reader = holder();
        writer.request(EX);
        var read = reader.request(PR);
        assertPending(read);

        assertGranted(PR, writer.convert(PR));
        assertGranted(PR, read);
    }

    @Test
    void queuedConversionIsGrantedBeforeEarlierWaiters() {
        Holder a = holder(), b = holder(), waiter = holder();
        a.request(PR);
        b.request(PR);
        var waited = waiter.request(EX);     // queued first
        var converted = a.convert(EX);       // queued later, blocked by b's PR
        assertPending(waited);
        assertPending(converted);

        b.unlock();
        assertGranted(EX, converted);
        assertPending(waited);

        a.unlock();
        assertGranted(EX, waited);
    }

    @Test
    void newRequestWaitsWhileAConversionIsQueuedEvenIfCompatibleWithHolders() {
        Holder a = holder(), b = holder(), c = holder();
        a.request(PR);
        b.request(PR);
        var converted = a.convert(EX);
        var nullLock = c.request(NL); // compatible with everything held, but behind the conversion
        assertPending(converted);
        assertPending(nullLock);

        b.unlock();
        assertGranted(EX, converted);
        assertGranted(NL, nullLock);
    }

    @Test
    void secondOfTwoPrToExConversionsFailsWithDeadlockAndKeepsPr() {
        Holder a = holder(), b = holder();
        a.request(PR);
        b.request(PR);
        var first = a.convert(EX);
        var second = b.convert(EX);
        assertPending(first);
        assertFails(ConversionDeadlockException.class, second);
        assertEquals(PR, queues.grantedMode(b.id));

        b.unlock(); // what a holder does on -EDEADLK
        assertGranted(EX, first);
    }

    @Test
    void conversionThatDoesNotBlockTheQueuedOneIsNotADeadlock() {
        Holder a = holder(), b = holder(), c = holder();
        a.request(CR);
        b.request(PR);
        c.request(CR);
        var aToEx = a.convert(EX);       // blocked by b and c
        var cToPr = c.convert(PR);       // granted at once: compatible with a's CR and b's PR
        assertPending(aToEx);
        assertGranted(PR, cToPr);
        var bToPw = b.convert(PW);       // blocked by c's PR; b's PR blocks a's EX: deadlock
        assertFails(ConversionDeadlockException.class, bToPw);
    }

    // ---- NOQUEUE and cancel ----

    @Test
    void noQueueRequestFailsAtOnceLeavesNothingQueuedAndSendsNoBast() {
        Holder writer = holder(), tryer = holder();
        writer.request(EX);
        var attempt = tryer.requestNoQueue(PR);
        assertFails(WouldBlockException.class, attempt);
        assertNull(queues.grantedMode(tryer.id));
        assertEquals(List.of(), writer.basts);

        writer.unlock();
        assertNull(queues.grantedMode(tryer.id), "a refused request must not be granted later");
        assertTrue(queues.retireIfUnused(), "nothing may be left on the queues");
    }

    @Test
    void noQueueRequestIsGrantedWhenPossible() {
        Holder a = holder(), b = holder();
        a.request(PR);
        assertGranted(PR, b.requestNoQueue(PR));
    }

    @Test
    void noQueueConversionFailsAndKeepsTheGrantedMode() {
        Holder a = holder(), b = holder();
        a.request(PR);
        b.request(PR);
        assertFails(WouldBlockException.class, queues.convert(a.id, EX, true));
        assertEquals(PR, queues.grantedMode(a.id));
        assertEquals(List.of(), b.basts, "a refused try-conversion tells no one");

        var queued = a.convert(EX); // the same conversion without NOQUEUE waits as usual
        assertPending(queued);
        b.unlock();
        assertGranted(EX, queued);
    }

    @Test
    void cancelledConversionRevertsToThePreviousMode() {
        Holder a = holder(), b = holder();
        a.request(PR);
        b.request(PR);
        var toEx = a.convert(EX);
        assertTrue(a.cancel());
        assertFails(LockCancelledException.class, toEx);
        assertEquals(PR, queues.grantedMode(a.id));
        assertFalse(a.cancel(), "nothing left in flight");

        b.unlock();
        assertEquals(PR, queues.grantedMode(a.id), "the cancelled conversion must not be granted later");
    }

    @Test
    void cancelWithNothingInFlightReturnsFalse() {
        Holder a = holder();
        assertFalse(a.cancel());
        a.request(EX);
        assertFalse(a.cancel());
        assertEquals(EX, queues.grantedMode(a.id));
    }

    @Test
    void unlockCancelsARequestInFlight() {
        Holder a = holder(), b = holder();
        a.request(EX);
        var waiting = b.request(EX);
        assertTrue(queues.unlock(b.id));
        assertFails(LockCancelledException.class, waiting);
        assertFalse(queues.unlock(b.id), "already gone");
    }

    @Test
    void secondRequestOrConversionInFlightIsRefused() {
        Holder a = holder(), b = holder();
        a.request(EX);
        b.request(PR);
        assertThrows(IllegalStateException.class, () -> b.request(CR));
        assertThrows(IllegalStateException.class, () -> queues.convert(b.id, CR, false), "not granted yet");
        var toPw = queues.convert(a.id, PW, false); // the other lock is still free to convert
        assertGranted(PW, toPw);
    }

    @Test
    void firstRequestByAHolderThatHoldsIsRefused() {
        Holder a = holder();
        a.request(PR);
        assertThrows(IllegalStateException.class, () -> a.request(EX));
    }

    // ---- BASTs ----

    @Test
    void bastNamesTheWantedModeOncePerEpisodeAndAgainForAStrongerMode() {
        Holder holder = holder(), r1 = holder(), r2 = holder(), w = holder();
        holder.request(PW);
        r1.request(PR);
        assertEquals(List.of(PR), holder.basts);
        r2.request(PR);
        assertEquals(List.of(PR), holder.basts, "same mode again: no second BAST");
        w.request(EX);
        assertEquals(List.of(PR, EX), holder.basts, "a stronger mode is worth telling");
        w.cancel();
        r2.cancel();
        r2.request(PR);
        assertEquals(List.of(PR, EX), holder.basts, "still the same grant");
    }

    @Test
    void newGrantStartsANewBlockingEpisode() {
        Holder holder = holder(), writer = holder();
        holder.request(PR);
        writer.request(EX);
        assertEquals(List.of(EX), holder.basts);
        holder.convert(CR); // down-convert, still in the way
        assertEquals(List.of(EX, EX), holder.basts);
    }

    @Test
    void bastGoesOnlyToHoldersThatBlock() {
        Holder cr = holder(), pr = holder(), w = holder(), nl = holder();
        cr.request(CR);
        nl.request(NL);
        assertGranted(PR, pr.request(PR));
        assertEquals(List.of(), cr.basts, "PR did not wait, so no one is told");
        w.request(PW);
        assertEquals(List.of(), cr.basts, "CR does not block PW");
        assertEquals(List.of(PW), pr.basts);
        assertEquals(List.of(), nl.basts, "NL blocks nothing");
    }

    @Test
    void holderNewlyGrantedInFrontOfAWaiterIsTold() {
        Holder first = holder(), reader = holder(), writer = holder();
        first.request(EX);
        var read = reader.request(PR);
        writer.request(EX);
        first.unlock();
        assertGranted(PR, read);
        assertEquals(List.of(EX), reader.basts, "the reader now blocks the writer");
    }

    @Test
    void holderMayUnlockFromInsideItsBast() {
        HolderId holderId = new HolderId(nextNode++, 1);
        List<LockMode> told = new ArrayList<>();
        queues.request(holderId, EX, false, wanted -> {
            told.add(wanted);
            queues.unlock(holderId);
        });
        Holder w = holder();
        var write = w.request(EX);
        assertGranted(EX, write); // delivered by the same loop that ran the BAST
        assertEquals(List.of(EX), told);
        assertNull(queues.grantedMode(holderId));
    }

    // ---- value block ----

    @Test
    void exUnlockPublishesStagedValueToTheNextReader() {
        Holder writer = holder(), reader = holder();
        writer.request(EX);
        assertEquals(LockValueBlock.EMPTY, queues.valueBlock(writer.id));
        queues.stageValue(writer.id, value(1));
        writer.unlock();

        reader.request(PR);
        LockValueBlock read = queues.valueBlock(reader.id);
        assertEquals(1, read.sequence());
        assertTrue(read.valid());
        assertEquals(1, read.value()[0]);
    }

    @Test
    void pwDownConversionPublishesAndTheWriterReadsItsOwnValue() {
        Holder writer = holder(), reader = holder();
        writer.request(PW);
        queues.stageValue(writer.id, value(1));
        writer.convert(CR);
        assertEquals(1, queues.valueBlock(writer.id).value()[0]);
        assertEquals(1, queues.valueBlock(writer.id).sequence());

        writer.convert(PW);
        queues.stageValue(writer.id, value(2));
        writer.convert(NL);
        reader.request(PR);
        assertEquals(2, queues.valueBlock(reader.id).sequence(), "one increment per publication");
        assertEquals(2, queues.valueBlock(reader.id).value()[0]);
    }

    @Test
    void exToPwDoesNotPublishButALaterDropDoes() {
        Holder writer = holder(), reader = holder();
        writer.request(EX);
        queues.stageValue(writer.id, value(3));
        writer.convert(PW);
        assertEquals(0, queues.valueBlock(writer.id).sequence());
        writer.convert(PR);
        assertEquals(1, queues.valueBlock(writer.id).sequence());
        reader.request(PR);
        assertEquals(3, queues.valueBlock(reader.id).value()[0]);
    }

    @Test
    void releasingWithoutStagingLeavesValueAndSequenceAlone() {
        Holder writer = holder(), reader = holder();
        writer.request(EX);
        queues.stageValue(writer.id, value(4));
        writer.unlock();
        writer.request(EX);
        writer.unlock();
        reader.request(PR);
        assertEquals(1, queues.valueBlock(reader.id).sequence());
        assertEquals(4, queues.valueBlock(reader.id).value()[0]);
    }

    @Test
    void onlyPwAndExHoldersMayStageAValue() {
        Holder reader = holder(), nobody = holder();
        reader.request(PR);
        assertThrows(IllegalStateException.class, () -> queues.stageValue(reader.id, value(1)));
        assertThrows(IllegalStateException.class, () -> queues.stageValue(nobody.id, value(1)));
        reader.convert(EX);
        assertThrows(IllegalArgumentException.class, () -> queues.stageValue(reader.id, new byte[8]));
    }

    @Test
    void invalidatedValueBlockStaysInvalidUntilTheNextWriterPublishes() {
        Holder writer = holder(), reader = holder();
        writer.request(EX);
        queues.stageValue(writer.id, value(5));
        writer.unlock();
        queues.invalidateValueBlock();

        reader.request(PR);
        assertFalse(queues.valueBlock(reader.id).valid());
        assertEquals(1, queues.valueBlock(reader.id).sequence());
        reader.unlock();

        writer.request(PW);
        assertFalse(queues.valueBlock(writer.id).valid());
        writer.unlock(); // wrote nothing: still invalid
        reader.request(PR);
        assertFalse(queues.valueBlock(reader.id).valid());
        reader.unlock();

        writer.request(EX);
        queues.stageValue(writer.id, value(6));
        writer.unlock();
        reader.request(PR);
        assertTrue(queues.valueBlock(reader.id).valid());
        assertEquals(2, queues.valueBlock(reader.id).sequence());
    }

    // ---- node purge and retirement ----

    @Test
    void purgingANodeDropsOnlyItsLocksAndGrantsWhatTheyBlocked() {
        HolderId deadHolder = new HolderId(9, 1), deadWaiter = new HolderId(9, 2);
        queues.request(deadHolder, EX, false, m -> { });
        Holder live = holder();
        var liveRead = live.request(PR);
        var deadRead = queues.request(deadWaiter, EX, false, m -> { });
        assertPending(liveRead);

        queues.purgeNode(9, () -> new LockSpaceClosedException("node 9 died"));
        assertGranted(PR, liveRead);
        assertFails(LockSpaceClosedException.class, deadRead);
        assertNull(queues.grantedMode(deadHolder));
        assertNull(queues.grantedMode(deadWaiter));
    }

    @Test
    void purgeDoesNotPublishADeadWritersStagedValue() {
        HolderId dead = new HolderId(9, 1);
        queues.request(dead, EX, false, m -> { });
        queues.stageValue(dead, value(7));
        queues.purgeNode(9, () -> new LockSpaceClosedException("x"));
        Holder reader = holder();
        reader.request(PR);
        assertEquals(LockValueBlock.EMPTY, queues.valueBlock(reader.id));
    }

    @Test
    void engineRetiresOnlyWhenItHoldsNothingAndRefusesNewLocksAfterwards() {
        Holder a = holder();
        a.request(PR);
        assertFalse(queues.retireIfUnused());
        a.unlock();
        assertTrue(queues.retireIfUnused());
        assertThrows(ResourceQueues.Retired.class, () -> a.request(PR));
        assertThrows(ResourceQueues.Retired.class, queues::invalidateValueBlock);
    }

    @Test
    void engineWithAPublishedValueBlockIsNotRetired() {
        Holder a = holder();
        a.request(EX);
        queues.stageValue(a.id, value(1));
        a.unlock();
        assertFalse(queues.retireIfUnused(), "retiring would lose the value block");
    }

    // ---- helpers ----

    private Holder holder() {
        return new Holder(new HolderId(nextNode++, 1));
    }

    private static byte[] value(int first) {
        byte[] value = new byte[LockValueBlock.SIZE];
        Arrays.fill(value, (byte) first);
        return value;
    }

    private static void assertGranted(LockMode mode, CompletableFuture<LockMode> future) {
        assertTrue(future.isDone() && !future.isCompletedExceptionally(), "expected a grant of " + mode + ", got " + future);
        assertEquals(mode, future.join());
    }

    private static void assertPending(CompletableFuture<LockMode> future) {
        assertFalse(future.isDone(), "expected to be still queued: " + future);
    }

    private static void assertFails(Class<? extends LockException> type, CompletableFuture<LockMode> future) {
        assertTrue(future.isCompletedExceptionally(), "expected " + type.getSimpleName() + ", got " + future);
        CompletionException e = assertThrows(CompletionException.class, future::join);
        assertInstanceOf(type, e.getCause());
    }

    /** One lock on the engine, and the BASTs it has been sent. */
    private final class Holder {
        final HolderId id;
        final List<LockMode> basts = new ArrayList<>();
        final Consumer<LockMode> onBlocking = basts::add;

        Holder(HolderId id) {
            this.id = id;
        }

        CompletableFuture<LockMode> request(LockMode mode) {
            return queues.request(id, mode, false, onBlocking);
        }

        CompletableFuture<LockMode> requestNoQueue(LockMode mode) {
            return queues.request(id, mode, true, onBlocking);
        }

        CompletableFuture<LockMode> convert(LockMode mode) {
            return queues.convert(id, mode, false);
        }

        boolean cancel() {
            return queues.cancel(id);
        }

        void unlock() {
            queues.unlock(id);
        }
    }
}
