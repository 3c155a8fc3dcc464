package io.concord.dlm.membership;

import java.util.List;

/**
 * One epoch of a lock space, as written to ZooKeeper by the coordinator.
 *
 * @param epoch       increases by one on every change of {@code members}
 * @param members     the live members, by incarnation
 * @param unrecovered members of earlier epochs that left and have not been marked recovered
 */
public record EpochView(long epoch, List<Member> members, List<Member> unrecovered) {
    public EpochView {
        members = List.copyOf(members);
        unrecovered = List.copyOf(unrecovered);
    }
}
