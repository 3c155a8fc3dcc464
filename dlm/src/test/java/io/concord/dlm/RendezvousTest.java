package io.concord.dlm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class RendezvousTest {
    private static final int RESOURCES = 100_000;

    @Test
    void aJoiningMemberTakesAboutItsShareAndNothingElseMoves() {
        Rendezvous three = new Rendezvous(List.of(11L, 22L, 33L));
        Rendezvous four = new Rendezvous(List.of(11L, 22L, 33L, 44L));
        int moved = 0;
        for (int i = 0; i < RESOURCES; i++) {
            ResourceName r = new ResourceName(i % 3 == 0 ? 'R' : 'I', i);
            long before = three.master(r);
            long after = four.master(r);
            if (before != after) {
                moved++;
                assertEquals(44L, after, r + " moved between two old members");
            }
        }
        double share = moved / (double) RESOURCES;
        assertTrue(share > 0.23 && share < 0.27, "moved " + share + " of the resources; 1/4 expected");
    }

    @Test
    void aLeavingMembersResourcesSpreadOverTheRestAndNothingElseMoves() {
        Rendezvous four = new Rendezvous(List.of(11L, 22L, 33L, 44L));
        Rendezvous three = new Rendezvous(List.of(11L, 22L, 44L));
        int[] gained = new int[3];
        for (int i = 0; i < RESOURCES; i++) {
            ResourceName r = new ResourceName('I', i);
            long before = four.master(r);
            long after = three.master(r);
            if (before != 33L) {
                assertEquals(before, after, r + " moved though its master stayed");
            } else {
                gained[after == 11L ? 0 : after == 22L ? 1 : 2]++;
            }
        }
        for (int g : gained) {
            assertTrue(g > RESOURCES / 4 / 3 * 0.9 && g < RESOURCES / 4 / 3 * 1.1, "uneven spread of the departed member's resources: " + java.util.Arrays.toString(gained));
        }
    }

    @Test
    void everyNodeComputesTheSameMasterWhateverTheOrderOfTheList() {
        Rendezvous one = new Rendezvous(List.of(5L, 9L, 7L));
        Rendezvous other = new Rendezvous(List.of(7L, 5L, 9L));
        for (int i = 0; i < 10_000; i++) {
            ResourceName r = new ResourceName('J', i);
            assertEquals(one.master(r), other.master(r));
        }
    }
}
