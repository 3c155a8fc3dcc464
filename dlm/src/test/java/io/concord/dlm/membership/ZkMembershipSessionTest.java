package io.concord.dlm.membership;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What a member hears when its ZooKeeper session wobbles or ends. */
@Timeout(60)
class ZkMembershipSessionTest {
    private ZkFixture zk;

    @BeforeEach
    void startZooKeeper() throws Exception {
        zk = new ZkFixture();
    }

    @AfterEach
    void stopZooKeeper() throws Exception {
        zk.close();
    }

    @Test
    void sessionExpiryIsReportedAsLostExactlyOnceAndTheMemberStaysOut() throws Exception {
        CuratorFramework clientA = zk.client();
        RecordingListener a = new RecordingListener("a");
        ZkMembership membershipA = zk.membership(clientA, "a", a);
        Member selfA = membershipA.join();
        RecordingListener b = new RecordingListener("b");
        Member selfB = zk.membership(zk.client(), "b", b).join();
        b.awaitEpoch(v -> v.members().equals(List.of(selfA, selfB)));

        zk.expireSession(clientA);
        a.await(RecordingListener.Lost.class, l -> true);
        EpochView afterLoss = b.awaitEpoch(v -> v.members().equals(List.of(selfB)));
        assertEquals(List.of(selfA), afterLoss.unrecovered());

        // Curator reconnects with a fresh session; the old incarnation must not come back.
        assertTrue(clientA.blockUntilConnected(10, java.util.concurrent.TimeUnit.SECONDS));
        a.assertNothingMore(Duration.ofMillis(1500));
        assertEquals(1, a.count(RecordingListener.Lost.class));
        assertEquals(List.of("b"), clientA.getChildren().forPath("/concord/alpha/fs1/members"));
        assertThrows(MembershipException.class, () -> membershipA.claimJournalSlot(2));
        a.assertNoViolations();
        membershipA.close(); // after a loss: stops threads, touches nothing
        assertTrue(clientA.getChildren().forPath("/concord/alpha/fs1/recovered").isEmpty(),
                "a lost member must not declare its own journal clean");
    }

    @Test
    void serverRestartWithinTheSessionTimeoutSuspendsAndReconnectsWithoutLoss() throws Exception {
        CuratorFramework clientA = zk.client();
        RecordingListener a = new RecordingListener("a");
        ZkMembership membershipA = zk.membership(clientA, "a", a);
        Member selfA = membershipA.join();
        EpochView before = a.awaitEpoch(v -> v.members().equals(List.of(selfA)));

        zk.server.restart();
        a.await(RecordingListener.Suspended.class, s -> true);
        a.await(RecordingListener.Reconnected.class, r -> true);
        // Longer than the session timeout: a wrongly armed LOST timer would have fired by now.
        a.assertNothingMore(Duration.ofMillis(ZkFixture.SESSION_MS + 1000));
        assertEquals(0, a.count(RecordingListener.Lost.class));

        // Still a member, same incarnation, same epoch; and still able to act.
        assertEquals(1, membershipA.claimJournalSlot(2, 1));
        RecordingListener b = new RecordingListener("b");
        Member selfB = zk.membership(zk.client(), "b", b).join();
        EpochView after = a.awaitEpoch(v -> v.members().equals(List.of(selfA, selfB)));
        assertEquals(before.epoch() + 1, after.epoch());
        a.assertNoViolations();
    }

    @Test
    void closingTheClientUnderneathIsReportedAsLost() throws Exception {
        CuratorFramework clientA = zk.client();
        RecordingListener a = new RecordingListener("a");
        Member selfA = zk.membership(clientA, "a", a).join();
        a.awaitEpoch(v -> v.members().equals(List.of(selfA)));
        clientA.close();
        RecordingListener.Lost lost = a.await(RecordingListener.Lost.class, l -> true);
        assertTrue(lost.why().contains("closed"), lost.why());
        a.assertNoViolations();
    }

    @Test
    void listenerMayCloseTheMembershipFromLost() throws Exception {
        CuratorFramework clientA = zk.client();
        RecordingListener a = new RecordingListener("a");
        ZkMembership[] holder = new ZkMembership[1];
        java.util.concurrent.CompletableFuture<Long> closedIn = new java.util.concurrent.CompletableFuture<>();
        MembershipListener closing = new MembershipListener() {
            @Override public void epochChanged(EpochView view) { a.epochChanged(view); }
            @Override public void recoveredChanged(java.util.Set<Long> incarnations) { a.recoveredChanged(incarnations); }
            @Override public void suspended() { a.suspended(); }
            @Override public void reconnected() { a.reconnected(); }
            @Override public void lost(String why) {
                long start = System.nanoTime();
                holder[0].close();
                closedIn.complete(System.nanoTime() - start);
            }
        };
        holder[0] = zk.membership(clientA, "a", closing);
        Member selfA = holder[0].join();
        a.awaitEpoch(v -> v.members().equals(List.of(selfA)));
        zk.expireSession(clientA);
        long nanos = closedIn.get(15, java.util.concurrent.TimeUnit.SECONDS);
        assertTrue(nanos < Duration.ofSeconds(2).toNanos(), "close from the listener thread must not wait on itself");
    }
}
