package io.concord.dlm.membership;

import java.util.List;
import java.util.OptionalInt;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;

/**
 * Ownership of {@code slots/<jid>}: one journal per slot, one slot per live incarnation.
 *
 * <p>A claim is PERSISTENT, naming its owner's incarnation ({@link SlotClaim}), because an
 * ephemeral one would vanish with a crashed owner's session, before anyone replayed its journal.
 * An existing claim may be taken over only when its owner is no longer live (no member znode with
 * that creation zxid) <em>and</em> {@code recovered/<incarnation>} exists. The takeover is a
 * setData on the version that was judged, so two claimants cannot both win: the loser re-judges.
 */
final class JournalSlots {
    private final CuratorFramework zk;
    private final LockSpacePaths paths;
    private final List<ACL> acl;

    JournalSlots(CuratorFramework zk, LockSpacePaths paths, List<ACL> acl) {
        this.zk = zk;
        this.paths = paths;
        this.acl = acl;
    }

    /** Null if journal slot {@code jid} is now {@code me}'s; otherwise who holds it, for a message. */
    String tryClaim(int jid, Member me) throws Exception {
        String path = paths.slot(jid);
        byte[] ours = new SlotClaim(me.name(), me.incarnation()).encode();
        while (true) {
            try {
                zk.create().creatingParentsIfNeeded().withMode(CreateMode.PERSISTENT).withACL(acl, true)
                        .forPath(path, ours);
                return null;
            } catch (KeeperException.NodeExistsException taken) {
                // Judge the existing claim below.
            }
            Stat stat = new Stat();
            SlotClaim claim;
            try {
                claim = SlotClaim.decode(zk.getData().storingStatIn(stat).forPath(path));
            } catch (KeeperException.NoNodeException releasedMeanwhile) {
                continue;
            }
            if (claim.incarnation() == me.incarnation()) {
                return null;
            }
            Stat owner = zk.checkExists().forPath(paths.member(claim.owner()));
            if (owner != null && owner.getCzxid() == claim.incarnation()) {
                return "held by live member " + claim.owner() + " (incarnation " + claim.incarnation() + ")";
            }
            if (zk.checkExists().forPath(paths.recovered(claim.incarnation())) == null) {
                return "held by dead member " + claim.owner() + " (incarnation " + claim.incarnation()
                        + ") whose journal is not yet recovered";
            }
            try {
                zk.setData().withVersion(stat.getVersion()).forPath(path, ours);
                return null;
            } catch (KeeperException.BadVersionException | KeeperException.NoNodeException changedMeanwhile) {
                // Claimed or released by someone else between our judging and our write: judge again.
            }
        }
    }

    /** The slot claimed by {@code incarnation}, if any: where a survivor finds a dead node's journal. */
    OptionalInt slotOf(long incarnation) throws Exception {
        for (String child : zk.getChildren().forPath(paths.slots())) {
            try {
                if (SlotClaim.decode(zk.getData().forPath(paths.slots() + "/" + child)).incarnation() == incarnation) {
                    return OptionalInt.of(Integer.parseInt(child));
                }
            } catch (KeeperException.NoNodeException releasedMeanwhile) {
                // Not the one we look for: a dead incarnation's claim stays until it is taken over.
            }
        }
        return OptionalInt.empty();
    }

    /** Deletes {@code me}'s claim on {@code jid}; false if the claim was no longer {@code me}'s. */
    boolean release(int jid, Member me) throws Exception {
        try {
            Stat stat = new Stat();
            SlotClaim claim = SlotClaim.decode(zk.getData().storingStatIn(stat).forPath(paths.slot(jid)));
            if (claim.incarnation() != me.incarnation()) {
                return false;
            }
            zk.delete().withVersion(stat.getVersion()).forPath(paths.slot(jid));
            return true;
        } catch (KeeperException.NoNodeException | KeeperException.BadVersionException e) {
            return false;
        }
    }
}
