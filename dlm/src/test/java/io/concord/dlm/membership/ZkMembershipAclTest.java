package io.concord.dlm.membership;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** With digest credentials, the cluster's znodes belong to whoever holds them, and to no one else. */
@Timeout(60)
class ZkMembershipAclTest {
    private static final String CREDENTIALS = "concord:s3cret";
    private static final String FS = "/concord/alpha/fs1";

    private ZkFixture zk;

    @BeforeEach
    void startZooKeeper() throws Exception {
        zk = new ZkFixture();
    }

    @AfterEach
    void stopZooKeeper() throws Exception {
        zk.close();
    }

    private ZkMembership member(CuratorFramework client, String name, RecordingListener events) {
        return zk.track(new ZkMembership(client, ZkFixture.CLUSTER, ZkFixture.FS, name,
                ZkFixture.address(name), events, ZkMembership.CREATOR_ONLY));
    }

    @Test
    void withoutTheCredentialsNothingCanBeReadWrittenOrDeleted() throws Exception {
        RecordingListener events = new RecordingListener("a");
        ZkMembership a = member(zk.client(CREDENTIALS), "a", events);
        Member self = a.join();
        events.awaitEpoch(v -> v.members().equals(List.of(self)));
        a.claimJournalSlot(2);

        CuratorFramework intruder = zk.client();
        byte[] junk = "junk".getBytes(StandardCharsets.UTF_8);
        assertThrows(KeeperException.NoAuthException.class, () -> intruder.setData().forPath(FS + "/epoch", junk));
        assertThrows(KeeperException.NoAuthException.class, () -> intruder.getData().forPath(FS + "/epoch"));
        assertThrows(KeeperException.NoAuthException.class, () -> intruder.delete().forPath(FS + "/members/a"));
        assertThrows(KeeperException.NoAuthException.class, () -> intruder.delete().forPath(FS + "/slots/0"));
        assertThrows(KeeperException.NoAuthException.class,
                () -> intruder.create().forPath(FS + "/recovered/" + self.incarnation()));
        assertThrows(KeeperException.NoAuthException.class,
                () -> intruder.create().withMode(CreateMode.EPHEMERAL).forPath(FS + "/members/mallory"));
        // An intruder's own membership fails as a whole, with ZooKeeper's reason attached.
        MembershipException refused = assertThrows(MembershipException.class,
                () -> zk.membership(intruder, "mallory", new RecordingListener("mallory")).join());
        assertEquals(KeeperException.NoAuthException.class, rootCause(refused).getClass());
        assertEquals(ZooDefs.Ids.CREATOR_ALL_ACL.getFirst().getPerms(),
                zk.client(CREDENTIALS).getACL().forPath(FS + "/epoch").getFirst().getPerms());
    }

    @Test
    void withTheCredentialsAnotherNodeJoinsAndCanWrite() throws Exception {
        RecordingListener eventsA = new RecordingListener("a");
        Member selfA = member(zk.client(CREDENTIALS), "a", eventsA).join();
        CuratorFramework friend = zk.client(CREDENTIALS);
        RecordingListener eventsB = new RecordingListener("b");
        Member selfB = member(friend, "b", eventsB).join();
        eventsA.awaitEpoch(v -> v.members().equals(List.of(selfA, selfB)));

        friend.create().withMode(CreateMode.PERSISTENT).withACL(ZkMembership.CREATOR_ONLY)
                .forPath(FS + "/scratch", new byte[] {1});
        friend.setData().forPath(FS + "/scratch", new byte[] {2});
        friend.delete().forPath(FS + "/scratch");
        assertEquals(List.of("a", "b"), friend.getChildren().forPath(FS + "/members").stream().sorted().toList());
    }

    @Test
    void anotherClusterWithOtherCredentialsCanShareTheEnsemble() throws Exception {
        member(zk.client(CREDENTIALS), "a", new RecordingListener("a")).join();
        ZkMembership other = zk.track(new ZkMembership(zk.client("other:pw"), "beta", "fs1", "a",
                ZkFixture.address("a"), new RecordingListener("beta/a"), ZkMembership.CREATOR_ONLY));
        other.join();
        assertEquals(List.of("alpha", "beta"), zk.client().getChildren().forPath("/concord").stream().sorted().toList());
    }

    private static Throwable rootCause(Throwable t) {
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
