package io.concord.dlm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.dlm.wire.Message;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A new master rebuilding a resource from resent views, without the network: the cases a review
 * found wrong, each as the old master left them.
 */
class RemasterTest {
    private static final ResourceName R = new ResourceName('I', 42);

    @Test
    void conversionsGrantedBeforeTheChangeAreSettledWithoutGrantingIncompatibleModes() {
        HolderId x = new HolderId(1, 1);
        HolderId y = new HolderId(2, 1);
        ResourceQueues old = new ResourceQueues(R);
        old.request(x, LockMode.CW, false, m -> { });
        assertEquals(LockMode.PR, old.convert(x, LockMode.PR, false).getNow(null)); // its answer is lost
        assertEquals(LockMode.PR, old.request(y, LockMode.PR, false, m -> { }).getNow(null));
        assertFalse(old.convert(y, LockMode.EX, false).isDone());
        // Both orders of arrival at the new master.
        for (boolean yFirst : new boolean[] {true, false}) {
            ResourceQueues fresh = new ResourceQueues(R, () -> true);
            var xAnswer = new java.util.concurrent.CompletableFuture<LockMode>();
            if (yFirst) {
                fresh.install(y, LockMode.PR, LockMode.EX, m -> { }, null);
                xAnswer = fresh.install(x, LockMode.CW, LockMode.PR, m -> { }, null);
            } else {
                xAnswer = fresh.install(x, LockMode.CW, LockMode.PR, m -> { }, null);
                fresh.install(y, LockMode.PR, LockMode.EX, m -> { }, null);
            }
            fresh.settleConflicts();
            List<LockMode> held = fresh.heldModes(n -> true);
            for (int i = 0; i < held.size(); i++) {
                for (int j = i + 1; j < held.size(); j++) {
                    assertTrue(held.get(i).compatibleWith(held.get(j)), "settled into " + held + (yFirst ? " (y first)" : " (x first)"));
                }
            }
            assertEquals(LockMode.PR, xAnswer.getNow(null), "x's conversion was granted before the change");
            assertEquals(LockMode.PR, fresh.grantedMode(y), "y keeps PR and still waits for EX");
        }
    }

    @Test
    void aValueResentWithALostUnlockDoesNotMakeABlockRebuiltFromStaleReadsValid() {
        byte[] v1 = filled(1);
        byte[] v2 = filled(2);
        List<Message> toA = new ArrayList<>();
        MasterRole oldMaster = new MasterRole(() -> false, (holder, m) -> {
            if (holder == 1) {
                toA.add(m);
            }
        });
        oldMaster.request(1, new Message.Request(7, R, LockMode.EX, false));
        LockValueBlock aRead = ((Message.Granted) toA.getFirst()).valueBlock();
        oldMaster.unlock(1, new Message.Unlock(7, R, v1)); // arrives; its Unlocked is lost with the master
        oldMaster.request(3, new Message.Request(9, R, LockMode.EX, false));
        oldMaster.unlock(3, new Message.Unlock(9, R, v2)); // the newest value; its holder is idle after
        MasterRole newMaster = new MasterRole(() -> true, (holder, m) -> { });
        newMaster.beginRemaster(r -> 5, 5, node -> node == 2, (to, state) -> { });
        newMaster.install(1, new Message.Resend(7, R, null, null, false, aRead, v1));
        newMaster.finishRemaster();
        LockValueBlock rebuilt = newMaster.valueBlock(R);
        assertTrue(!rebuilt.valid() || Arrays.equals(v2, rebuilt.value()), "an older value came back valid: " + rebuilt);
    }

    private static byte[] filled(int b) {
        byte[] v = new byte[LockValueBlock.SIZE];
        Arrays.fill(v, (byte) b);
        return v;
    }
}
