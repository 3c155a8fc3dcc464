package io.concord.dlm.membership;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Epochs, coordinator hand-over and recovery bookkeeping, over a real ZooKeeper server. */
@Timeout(60)
class ZkMembershipTest {
    private ZkFixture zk;

    @BeforeEach
    void startZooKeeper() throws Exception {
        zk = new ZkFixture();
    }

    @AfterEach
    void stopZooKeeper() throws Exception {
        zk.close();
    }

    private record Node(String name, CuratorFramework client, ZkMembership membership,
                        RecordingListener events, Member self) {}

    private Node join(String name) throws Exception {
        CuratorFramework client = zk.client();
        RecordingListener events = new RecordingListener(name);
        ZkMembership membership = zk.membership(client, name, events);
        return new Node(name, client, membership, events, membership.join());
    }

    private static boolean membersAre(EpochView view, Member... members) {
        return view.members().equals(List.of(members));
    }

    @Test
    void threeMembersAgreeOnTheFinalEpochAndTheFirstEpochIsOne() throws Exception {
        Node a = join("a");
        EpochView first = a.events().awaitEpoch(v -> true);
        assertEquals(new EpochView(1, List.of(a.self()), List.of()), first);

        Node b = join("b");
        Node c = join("c");
        assertTrue(a.self().incarnation() < b.self().incarnation() && b.self().incarnation() < c.self().incarnation(),
                "incarnations grow with join order");
        EpochView seenByA = a.events().awaitEpoch(v -> membersAre(v, a.self(), b.self(), c.self()));
        EpochView seenByB = b.events().awaitEpoch(v -> membersAre(v, a.self(), b.self(), c.self()));
        EpochView seenByC = c.events().awaitEpoch(v -> membersAre(v, a.self(), b.self(), c.self()));

        assertEquals(seenByA, seenByB);
        assertEquals(seenByA, seenByC);
        assertTrue(seenByA.epoch() >= 2 && seenByA.epoch() <= 3, "one epoch per change at most: " + seenByA);
        assertEquals(ZkFixture.address("b"), seenByA.members().get(1).address());
        assertEquals(seenByA.epoch(), a.membership().epochsWritten(), "the oldest member wrote every epoch");
        assertEquals(0, b.membership().epochsWritten() + c.membership().epochsWritten());
        for (Node n : List.of(a, b, c)) {
            n.events().assertNoViolations();
        }
    }

    @Test
    void abruptlyDeadMemberStaysUnrecoveredUntilMarkedAndTheNextEpochDropsIt() throws Exception {
        Node a = join("a");
        Node b = join("b");
        a.events().awaitEpoch(v -> membersAre(v, a.self(), b.self()));

        b.client().close(); // no ZkMembership.close(): the session just ends
        EpochView afterDeath = a.events().awaitEpoch(v -> membersAre(v, a.self()));
        assertEquals(List.of(b.self()), afterDeath.unrecovered());

        a.membership().markRecovered(b.self().incarnation());
        RecordingListener.Recovered recovered = a.events().await(RecordingListener.Recovered.class, r -> true);
        assertEquals(Set.of(b.self().incarnation()), recovered.incarnations());
        a.membership().markRecovered(b.self().incarnation()); // idempotent

        Node c = join("c");
        EpochView afterJoin = a.events().awaitEpoch(v -> membersAre(v, a.self(), c.self()));
        assertEquals(List.of(), afterJoin.unrecovered());
        assertEquals(afterDeath.epoch() + 1, afterJoin.epoch());
        // A newcomer learns the recovered set at once, not only later changes.
        assertEquals(Set.of(b.self().incarnation()),
                c.events().await(RecordingListener.Recovered.class, r -> true).incarnations());
        a.events().assertNoViolations();
        c.events().assertNoViolations();
    }

    @Test
    void unrecoveredMembersAccumulateAcrossEpochs() throws Exception {
        Node a = join("a");
        Node b = join("b");
        Node c = join("c");
        a.events().awaitEpoch(v -> membersAre(v, a.self(), b.self(), c.self()));

        b.client().close();
        a.events().awaitEpoch(v -> membersAre(v, a.self(), c.self()));
        c.client().close();
        EpochView view = a.events().awaitEpoch(v -> membersAre(v, a.self()));
        assertEquals(List.of(b.self(), c.self()), view.unrecovered());
    }

    @Test
    void nextOldestMemberTakesOverWhenTheCoordinatorDies() throws Exception {
        Node a = join("a");
        Node b = join("b");
        Node c = join("c");
        c.events().awaitEpoch(v -> membersAre(v, a.self(), b.self(), c.self()));
        assertEquals(0, b.membership().epochsWritten());

        zk.expireSession(a.client());
        EpochView view = c.events().awaitEpoch(v -> membersAre(v, b.self(), c.self()));
        assertEquals(List.of(a.self()), view.unrecovered());
        assertEquals(1, b.membership().epochsWritten(), "b, now the oldest, wrote the epoch");
        assertEquals(0, c.membership().epochsWritten());

        // And b keeps the job for the next change.
        Node d = join("d");
        d.events().awaitEpoch(v -> membersAre(v, b.self(), c.self(), d.self()));
        assertEquals(2, b.membership().epochsWritten());
        b.events().assertNoViolations();
        c.events().assertNoViolations();
    }

    @Test
    void cleanLeaveNeedsNoRecoveryAndCloseIsIdempotent() throws Exception {
        Node a = join("a");
        Node b = join("b");
        a.events().awaitEpoch(v -> membersAre(v, a.self(), b.self()));
        b.membership().claimJournalSlot(4);

        b.membership().close();
        b.membership().close();
        // The marker comes before the member znode goes, so the epoch never lists b as unrecovered.
        assertEquals(Set.of(b.self().incarnation()),
                a.events().await(RecordingListener.Recovered.class, r -> true).incarnations());
        EpochView view = a.events().awaitEpoch(v -> membersAre(v, a.self()));
        assertEquals(List.of(), view.unrecovered());
        assertEquals(List.of(), a.client().getChildren().forPath("/concord/alpha/fs1/slots"),
                "the clean leaver released its journal slot");
        long before = b.events().history.size();
        Node c = join("c");
        a.events().awaitEpoch(v -> membersAre(v, a.self(), c.self()));
        assertEquals(before, b.events().history.size(), "a closed member hears nothing more");
    }

    @Test
    void failingListenerDoesNotStopLaterEvents() throws Exception {
        Node a = join("a");
        a.events().awaitEpoch(v -> true);
        CuratorFramework client = zk.client();
        RecordingListener recorder = new RecordingListener("b");
        MembershipListener throwing = new MembershipListener() {
            @Override public void epochChanged(EpochView view) {
                recorder.epochChanged(view);
                throw new IllegalStateException("listener bug");
            }
            @Override public void recoveredChanged(Set<Long> incarnations) { recorder.recoveredChanged(incarnations); }
            @Override public void suspended() { recorder.suspended(); }
            @Override public void reconnected() { recorder.reconnected(); }
            @Override public void lost(String why) { recorder.lost(why); }
        };
        ZkMembership b = zk.membership(client, "b", throwing);
        Member bSelf = b.join();
        recorder.awaitEpoch(v -> membersAre(v, a.self(), bSelf));
        Node c = join("c");
        recorder.awaitEpoch(v -> membersAre(v, a.self(), bSelf, c.self()));
        recorder.assertNoViolations();
    }
}
