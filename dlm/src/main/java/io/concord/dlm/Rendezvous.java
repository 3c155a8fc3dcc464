package io.concord.dlm;

import java.util.Arrays;
import java.util.Collection;

/**
 * Chooses each resource's master by rendezvous (highest random weight) hashing over the members'
 * incarnations: every member scores the resource, the highest score masters it. Every node
 * computes the same answer from the same member list with no coordination, and a member joining
 * or leaving moves only the resources it wins or won, about 1/N of them. Immutable.
 */
final class Rendezvous {
    private final long[] members;

    Rendezvous(Collection<Long> incarnations) {
        this.members = incarnations.stream().mapToLong(Long::longValue).sorted().toArray();
        if (members.length == 0) {
            throw new IllegalArgumentException("no members to master resources");
        }
    }

    /** The incarnation of {@code resource}'s master. */
    long master(ResourceName resource) {
        long key = mix(resource.number() * 0x9E3779B97F4A7C15L + resource.type());
        long best = members[0];
        long bestScore = Long.MIN_VALUE;
        for (long member : members) {
            long score = mix(key ^ mix(member));
            // Ties are astronomically unlikely; breaking them by incarnation keeps the choice total.
            if (score > bestScore || score == bestScore && member > best) {
                best = member;
                bestScore = score;
            }
        }
        return best;
    }

    // The finaliser of SplitMix64: a bijection that spreads every input bit over the output.
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override
    public String toString() {
        return "Rendezvous" + Arrays.toString(members);
    }
}
