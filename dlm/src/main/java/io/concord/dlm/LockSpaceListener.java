package io.concord.dlm;

import io.concord.dlm.membership.Member;

/**
 * What a {@link ClusterLockSpace} tells its owner (the filesystem). Calls come one at a time from
 * a thread of the lock space's own; they may block (a journal replay takes a while).
 */
public interface LockSpaceListener {
    /**
     * The recovery hook: {@code member} left without being recovered. Its locks stay in force and
     * no new lock is granted in this lock space until some node calls
     * {@link ClusterLockSpace#recovered(Member)} for it, after fencing it and replaying its journal.
     * Called on every survivor, once per departed incarnation.
     */
    void nodeFailed(Member member, long epoch);

    /** The ZooKeeper connection is suspended: this node may no longer be a member. Stop writing to shared storage. */
    default void suspended() {}

    /** The connection is back and this node is still a member. */
    default void resumed() {}

    /**
     * This node is out of the cluster (its session expired or the lock space could not go on): every
     * lock is gone and requests fail with {@link ExpelledException}. Stop writing to shared storage at once.
     */
    default void expelled(String why) {}

    /** Logs what happens and leaves every recovery to someone else. */
    LockSpaceListener LOGGING = new LockSpaceListener() {
        private static final System.Logger LOG = System.getLogger(LockSpaceListener.class.getName());

        @Override
        public void nodeFailed(Member member, long epoch) {
            LOG.log(System.Logger.Level.WARNING, "node " + member.name() + " (incarnation " + member.incarnation()
                    + ") left at epoch " + epoch + " and awaits recovery; lock grants are frozen until then");
        }

        @Override
        public void expelled(String why) {
            LOG.log(System.Logger.Level.ERROR, "expelled from the cluster: " + why);
        }
    };
}
