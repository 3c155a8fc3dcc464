package io.concord.dlm.membership;

import java.util.regex.Pattern;

/**
 * Where one lock space keeps its membership state in ZooKeeper:
 *
 * <pre>
 * /concord/&lt;cluster&gt;/&lt;fs&gt;/
 *     members/&lt;node&gt;          EPHEMERAL   {@link MemberZnode}
 *     epoch                   PERSISTENT  {@link EpochZnode}
 *     recovered/&lt;incarnation&gt; PERSISTENT  empty; the incarnation's journal has been replayed
 *     slots/&lt;jid&gt;             PERSISTENT  {@link SlotClaim}
 * </pre>
 *
 * Names are restricted to one token of {@code [A-Za-z0-9._-]} so they are valid path components and
 * need no quoting in the text formats.
 */
record LockSpacePaths(String cluster, String fs) {
    static final String ROOT = "/concord";
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,254}");

    LockSpacePaths {
        checkName("cluster", cluster);
        checkName("filesystem", fs);
    }

    static String checkName(String what, String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(
                    what + " name must match " + NAME.pattern() + ": " + name);
        }
        return name;
    }

    String root() {
        return ROOT + "/" + cluster + "/" + fs;
    }

    String members() {
        return root() + "/members";
    }

    String member(String node) {
        return members() + "/" + node;
    }

    String epoch() {
        return root() + "/epoch";
    }

    String recovered() {
        return root() + "/recovered";
    }

    String recovered(long incarnation) {
        return recovered() + "/" + incarnation;
    }

    String slots() {
        return root() + "/slots";
    }

    String slot(int jid) {
        return slots() + "/" + jid;
    }

    @Override
    public String toString() {
        return cluster + ":" + fs;
    }
}
