package io.concord.dlm.check;

import static io.concord.dlm.LockMode.CR;
import static io.concord.dlm.LockMode.EX;
import static io.concord.dlm.LockMode.NL;
import static io.concord.dlm.LockMode.PR;
import static io.concord.dlm.LockMode.PW;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.dlm.LockFlag;
import io.concord.dlm.LockMode;
import io.concord.dlm.LockValueBlock;
import io.concord.dlm.ResourceName;
import io.concord.dlm.check.LockHistory.Bast;
import io.concord.dlm.check.LockHistory.DownconvertStarted;
import io.concord.dlm.check.LockHistory.Granted;
import io.concord.dlm.check.LockHistory.Kind;
import io.concord.dlm.check.LockHistory.NodeDead;
import io.concord.dlm.check.LockHistory.Reason;
import io.concord.dlm.check.LockHistory.Recovered;
import io.concord.dlm.check.LockHistory.Refused;
import io.concord.dlm.check.LockHistory.ReleaseStarted;
import io.concord.dlm.check.LockHistory.Released;
import io.concord.dlm.check.LockHistory.Requested;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Hand-built histories, each right or wrong in one known way. */
class LockCheckerTest {
    private static final ResourceName R = new ResourceName(ResourceName.INODE, 1);
    private static final ResourceName S = new ResourceName(ResourceName.RESOURCE_GROUP, 2);
    private static final byte[] V1 = filled(1);
    private static final byte[] V2 = filled(2);

    private final LockHistory history = LockHistory.inMemory(new AtomicLong()::incrementAndGet);

    private static byte[] filled(int b) {
        byte[] v = new byte[LockValueBlock.SIZE];
        Arrays.fill(v, (byte) b);
        return v;
    }

    private static LockValueBlock lvb(byte[] value, long sequence) {
        return new LockValueBlock(value, sequence, true);
    }

    private void on(ResourceName r, String node, long handle, Kind kind) {
        history.record(node, 1, handle, r, kind);
    }

    private void on(String node, long handle, Kind kind) {
        on(R, node, handle, kind);
    }

    private void grant(String node, long handle, LockMode mode, LockValueBlock read) {
        on(node, handle, new Requested(mode, Set.of()));
        on(node, handle, new Granted(mode, read));
    }

    private void release(String node, long handle, LockMode held, byte[] published) {
        on(node, handle, new ReleaseStarted(held, published));
        on(node, handle, new Released());
    }

    private String violations() {
        LockChecker.Report report = LockChecker.analyze(history.events());
        assertTrue(!report.passed(), "the checker let a broken history through");
        assertThrows(AssertionError.class, () -> LockChecker.check(history));
        return String.join("\n", report.violations());
    }

    @Test
    void acceptsACorrectHistoryAndCountsIt() {
        grant("a", 1, EX, LockValueBlock.EMPTY);
        on("b", 2, new Requested(PR, Set.of()));
        on("a", 1, new Bast(PR));
        on("c", 3, new Requested(CR, Set.of(LockFlag.NOQUEUE)));
        on("c", 3, new Refused(CR, Reason.WOULD_BLOCK));
        release("a", 1, EX, V1);
        on("b", 2, new Granted(PR, lvb(V1, 1)));
        grant("c", 3, CR, lvb(V1, 1)); // CR and PR together
        on("b", 2, new Requested(EX, Set.of())); // up: keeps PR until granted
        on("c", 3, new Bast(EX));
        release("c", 3, CR, null);
        on("b", 2, new Granted(EX, lvb(V1, 1)));
        on("b", 2, new DownconvertStarted(EX, NL, V2));
        on("b", 2, new Granted(NL, lvb(V2, 2)));
        grant("a", 1, PW, lvb(V2, 2)); // NL lets PW in
        // d dies holding PW on S: its lock lasts until recovery, then the value block is stale.
        on(S, "d", 4, new Requested(PW, Set.of()));
        on(S, "d", 4, new Granted(PW, LockValueBlock.EMPTY));
        on(S, "e", 5, new Requested(EX, Set.of()));
        history.recordNode("e", 2, new NodeDead("d"));
        history.recordNode("e", 2, new Recovered("d"));
        on(S, "e", 5, new Granted(EX, LockValueBlock.EMPTY.invalidated()));
        on(S, "e", 5, new ReleaseStarted(EX, V1));
        on(S, "e", 5, new Released());
        release("a", 1, PW, null);
        release("b", 2, NL, null);

        LockChecker.Report report = LockChecker.check(history);
        assertEquals(8, report.grants());
        assertEquals(1, report.refusals());
        assertEquals(2, report.basts());
        assertEquals(3, report.publications());
        assertEquals(2, report.maxConcurrentHolders());
    }

    @Test
    void catchesTwoExclusiveHoldersAtOnce() {
        grant("a", 1, EX, LockValueBlock.EMPTY);
        grant("b", 2, EX, LockValueBlock.EMPTY);
        release("a", 1, EX, null);
        release("b", 2, EX, null);
        String found = violations();
        assertTrue(found.contains("safety") && found.contains("b/h2 holds EX") && found.contains("a/h1 holds EX"), found);
    }

    @Test
    void catchesAHolderThatDownConvertedTooLittle() {
        grant("a", 1, EX, LockValueBlock.EMPTY);
        on("a", 1, new DownconvertStarted(EX, PR, null));
        on("a", 1, new Granted(PR, LockValueBlock.EMPTY));
        grant("b", 2, PW, LockValueBlock.EMPTY); // PR and PW conflict
        assertTrue(violations().contains("b/h2 holds PW on I:1 while a/h1 holds PR"));
    }

    @Test
    void catchesARequestThatWasNeverAnswered() {
        grant("a", 1, EX, LockValueBlock.EMPTY);
        on("b", 2, new Requested(PR, Set.of()));
        release("a", 1, EX, null);
        String found = violations();
        assertTrue(found.contains("liveness") && found.contains("b/h2") && found.contains("Requested[mode=PR"), found);
    }

    @Test
    void exemptsTheRequestsOfADeadNode() {
        grant("a", 1, EX, LockValueBlock.EMPTY);
        on("b", 2, new Requested(PR, Set.of()));
        history.recordNode("a", 2, new NodeDead("b"));
        release("a", 1, EX, null);
        LockChecker.check(history);
    }

    @Test
    void catchesAWrongValueBlock() {
        grant("a", 1, PW, LockValueBlock.EMPTY);
        release("a", 1, PW, V1);
        grant("b", 2, EX, lvb(V2, 1)); // right sequence, value nobody published
        release("b", 2, EX, null);
        assertTrue(violations().contains("value block"));
    }

    @Test
    void catchesAValueBlockThatMissedAPublication() {
        grant("a", 1, PW, LockValueBlock.EMPTY);
        release("a", 1, PW, V1);
        grant("b", 2, PR, LockValueBlock.EMPTY); // PR conflicts with PW: it must see V1
        assertTrue(violations().contains("is none of what the publications allow"));
    }

    @Test
    void catchesAnInvalidValueBlockWithoutADeath() {
        grant("a", 1, EX, LockValueBlock.EMPTY);
        release("a", 1, EX, V1);
        grant("b", 2, EX, lvb(V1, 1).invalidated());
        assertTrue(violations().contains("value block read invalid"));
    }

    @Test
    void catchesAGrantThatConflictsWithADeadNodesLockBeforeRecovery() {
        grant("d", 4, EX, LockValueBlock.EMPTY);
        history.recordNode("a", 2, new NodeDead("d"));
        // d's own records stop at its death; the lock manager must still keep its EX until recovery.
        on("d", 4, new ReleaseStarted(EX, null));
        grant("a", 1, PR, LockValueBlock.EMPTY.invalidated());
        history.recordNode("a", 2, new Recovered("d"));
        assertTrue(violations().contains("dead-node rule: PR granted on I:1 before the recovery of d/h4"));
    }

    @Test
    void catchesAGrantWithoutARequestAndAGrantOfTheWrongMode() {
        on("a", 1, new Granted(EX, LockValueBlock.EMPTY));
        on("b", 2, new Requested(CR, Set.of()));
        on(S, "b", 3, new Requested(PR, Set.of()));
        on(S, "b", 3, new Granted(PW, LockValueBlock.EMPTY));
        String found = violations();
        assertTrue(found.contains("granted without a request in flight") && found.contains("granted PW for"), found);
    }
}
