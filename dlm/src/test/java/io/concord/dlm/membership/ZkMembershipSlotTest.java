package io.concord.dlm.membership;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Duplicate names and journal slot ownership. */
@Timeout(60)
class ZkMembershipSlotTest {
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
    void secondLiveMemberWithTheSameNameIsRefused() throws Exception {
        zk.membership(zk.client(), "a", new RecordingListener("a")).join();
        ZkMembership twin = zk.membership(zk.client(), "a", new RecordingListener("a2"));
        MembershipException e = assertThrows(MembershipException.class, twin::join);
        assertTrue(e.getMessage().contains("already a live member"), e.getMessage());
        // The refused one is not half-joined.
        assertThrows(MembershipException.class, () -> twin.claimJournalSlot(2));
    }

    @Test
    void aNameHeldByAProcessThatAnswersIsRefusedWithoutWaitingOutTheStaleWait() throws Exception {
        try (java.net.ServerSocket live = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            InetSocketAddress at = new InetSocketAddress("127.0.0.1", live.getLocalPort());
            zk.track(new ZkMembership(zk.client(), ZkFixture.CLUSTER, ZkFixture.FS, "a", at, new RecordingListener("a"))).join();
            ZkMembership twin = zk.membership(zk.client(), "a", new RecordingListener("a2"));
            long start = System.nanoTime();
            MembershipException e = assertThrows(MembershipException.class, () -> twin.join(Duration.ofSeconds(30)));
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            assertTrue(e.getMessage().contains("another process holds this node name"), e.getMessage());
            assertTrue(e.getMessage().contains("127.0.0.1:" + live.getLocalPort()), e.getMessage());
            assertTrue(tookMs < 5_000, "refused after " + tookMs + " ms, not at once");
        }
    }

    /** A restarted node finds its crashed life still registered (nothing answers there) and waits for the session to expire. */
    @Test
    void aRestartedNodeWaitsForItsOldSessionInsteadOfFailing() throws Exception {
        InetSocketAddress dead;
        try (java.net.ServerSocket gone = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            dead = new InetSocketAddress("127.0.0.1", gone.getLocalPort());
        }
        CuratorFramework oldLife = zk.client();
        Member old = zk.track(new ZkMembership(oldLife, ZkFixture.CLUSTER, ZkFixture.FS, "a", dead, new RecordingListener("a"))).join();
        ZkMembership again = zk.membership(zk.client(), "a", new RecordingListener("a'"));
        Thread expiry = Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(1500);
                oldLife.close(); // the old session ends, as its expiry would end it
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Member rejoined = again.join(Duration.ofSeconds(20));
        expiry.join();
        assertTrue(rejoined.incarnation() > old.incarnation());
    }

    @Test
    void nameCanRejoinAsANewIncarnationAfterItsSessionEnds() throws Exception {
        CuratorFramework first = zk.client();
        Member old = zk.membership(first, "a", new RecordingListener("a")).join();
        first.close();
        Member again = zk.membership(zk.client(), "a", new RecordingListener("a'")).join();
        assertTrue(again.incarnation() > old.incarnation());
    }

    @Test
    void deadMembersSlotStaysTakenUntilItsRecoveryIsMarked() throws Exception {
        CuratorFramework clientA = zk.client();
        ZkMembership a = zk.membership(clientA, "a", new RecordingListener("a"));
        Member selfA = a.join();
        ZkMembership b = zk.membership(zk.client(), "b", new RecordingListener("b"));
        b.join();
        ZkMembership c = zk.membership(zk.client(), "c", new RecordingListener("c"));
        c.join();

        assertEquals(0, a.claimJournalSlot(2));
        assertEquals(0, a.claimJournalSlot(2), "claiming again returns the slot already held");
        assertEquals(1, b.claimJournalSlot(2));
        MembershipException full = assertThrows(MembershipException.class, () -> c.claimJournalSlot(2));
        assertTrue(full.getMessage().contains("live member a"), full.getMessage());
        MembershipException taken = assertThrows(MembershipException.class, () -> c.claimJournalSlot(2, 1));
        assertTrue(taken.getMessage().contains("live member b"), taken.getMessage());

        clientA.close(); // a dies with journal 0 unreplayed
        MembershipException unrecovered = assertThrows(MembershipException.class, () -> c.claimJournalSlot(2, 0));
        assertTrue(unrecovered.getMessage().contains("not yet recovered"), unrecovered.getMessage());
        assertThrows(MembershipException.class, () -> c.claimJournalSlot(2));

        assertEquals(java.util.OptionalInt.of(0), b.journalSlotOf(selfA.incarnation()), "survivors find a's journal");
        b.markRecovered(selfA.incarnation());
        assertEquals(0, c.claimJournalSlot(2));
        assertEquals(java.util.OptionalInt.empty(), b.journalSlotOf(selfA.incarnation()));
        assertEquals(0, c.journalSlot());
    }

    @Test
    void markingALiveMemberRecoveredIsRefused() throws Exception {
        ZkMembership a = zk.membership(zk.client(), "a", new RecordingListener("a"));
        a.join();
        ZkMembership b = zk.membership(zk.client(), "b", new RecordingListener("b"));
        Member selfB = b.join();
        assertThrows(MembershipException.class, () -> a.markRecovered(selfB.incarnation()));
    }

    @Test
    void releasedSlotIsFreeForOthersAndWantedSlotIsHonoured() throws Exception {
        ZkMembership a = zk.membership(zk.client(), "a", new RecordingListener("a"));
        a.join();
        ZkMembership b = zk.membership(zk.client(), "b", new RecordingListener("b"));
        b.join();
        assertEquals(2, a.claimJournalSlot(3, 2));
        assertThrows(MembershipException.class, () -> a.claimJournalSlot(3, 1), "one slot per member");
        a.releaseJournalSlot();
        assertEquals(-1, a.journalSlot());
        assertEquals(2, b.claimJournalSlot(3, 2));
        assertEquals(List.of("2"), zk.client().getChildren().forPath("/concord/alpha/fs1/slots"));
    }
}
