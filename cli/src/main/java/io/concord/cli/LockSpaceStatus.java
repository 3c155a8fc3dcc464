package io.concord.cli;

import io.concord.errors.ConcordException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * What ZooKeeper says about one lock space, read once: its live members, the journal slot each
 * holds, and the current epoch. Only reads; a node is never disturbed by an operator looking.
 *
 * <p>The znodes are the ones {@code io.concord.dlm.membership.LockSpacePaths} lays out, in the text
 * formats of {@code MemberZnode}, {@code EpochZnode} and {@code SlotClaim}. Their decoders are
 * private to the dlm module, so this reads the few fields it shows itself, checking each header,
 * and refuses (one line) a format version it was not written for rather than guess.
 *
 * @param members     live members by incarnation (the creation zxid of their member znode)
 * @param slots       journal id to its claim, live owner or not
 * @param epoch       the epoch znode, or null before the first epoch was written
 */
record LockSpaceStatus(String table, Map<Long, Member> members, Map<Integer, Claim> slots, Epoch epoch) {
    record Member(String name, long incarnation, String address) {
    }

    record Claim(String owner, long incarnation) {
    }

    record Epoch(long number, List<String> members, List<String> unrecovered) {
    }

    static LockSpaceStatus read(CuratorFramework zk, String cluster, String fs) throws Exception {
        String root = "/concord/" + cluster + "/" + fs;
        String table = cluster + ":" + fs;
        if (zk.checkExists().forPath(root) == null) {
            throw new ConcordException("ZooKeeper has no lock space " + table + " (no node has joined it)");
        }
        Map<Long, Member> members = new TreeMap<>();
        for (String child : children(zk, root + "/members")) {
            Stat stat = new Stat();
            byte[] data = dataOrNull(zk, root + "/members/" + child, stat);
            if (data != null) {
                String address = valueOf(body(data, "concord-member", "member znode " + child), "address");
                members.put(stat.getCzxid(), new Member(child, stat.getCzxid(), address));
            }
        }
        Map<Integer, Claim> slots = new TreeMap<>();
        for (String child : children(zk, root + "/slots")) {
            byte[] data = dataOrNull(zk, root + "/slots/" + child, new Stat());
            if (data != null) {
                String[] owner = valueOf(body(data, "concord-slot", "slot znode " + child), "owner").split(" ");
                slots.put(Integer.parseInt(child), new Claim(owner[0], Long.parseLong(owner[1])));
            }
        }
        byte[] epochData = dataOrNull(zk, root + "/epoch", new Stat());
        return new LockSpaceStatus(table, members, slots, epochData == null ? null : epoch(epochData));
    }

    void print(PrintStream out) {
        out.println("lock space " + table + ": " + (epoch == null ? "no epoch yet"
                : "epoch " + epoch.number() + ", members " + String.join(" ", epoch.members())
                        + (epoch.unrecovered().isEmpty() ? "" : ", awaiting recovery " + String.join(" ", epoch.unrecovered()))));
        if (members.isEmpty()) {
            out.println("no live members");
        } else {
            out.printf("%-16s %-8s %-22s %s%n", "member", "journal", "dlm address", "incarnation");
            for (Member m : members.values()) {
                out.printf("%-16s %-8s %-22s 0x%x%n", m.name(), journalOf(m.incarnation()), m.address(), m.incarnation());
            }
        }
        slots.forEach((jid, claim) -> {
            if (!members.containsKey(claim.incarnation())) {
                out.println("journal " + jid + " is still claimed by " + claim.owner() + " (incarnation 0x"
                        + Long.toHexString(claim.incarnation()) + "), which is no longer a member: it awaits recovery");
            }
        });
    }

    private String journalOf(long incarnation) {
        return slots.entrySet().stream().filter(e -> e.getValue().incarnation() == incarnation)
                .map(e -> String.valueOf(e.getKey())).findFirst().orElse("-");
    }

    private static Epoch epoch(byte[] data) {
        List<String> body = body(data, "concord-epoch", "epoch znode");
        long number = Long.parseLong(valueOf(body, "epoch"));
        List<String> members = new ArrayList<>();
        List<String> unrecovered = new ArrayList<>();
        for (String line : body) {
            // "member|unrecovered <incarnation> <node> <host:port>"
            String[] f = line.split(" ");
            if (f.length == 4 && f[0].equals("member")) {
                members.add(f[2]);
            } else if (f.length == 4 && f[0].equals("unrecovered")) {
                unrecovered.add(f[2] + "@0x" + Long.toHexString(Long.parseLong(f[1])));
            }
        }
        return new Epoch(number, members, unrecovered);
    }

    private static List<String> body(byte[] data, String magic, String what) {
        List<String> lines = new String(data, StandardCharsets.UTF_8).lines().toList();
        String header = magic + " 1";
        if (lines.isEmpty() || !lines.getFirst().equals(header)) {
            throw new ConcordException(what + " is in a format this version cannot read (expected '" + header + "', found '"
                    + (lines.isEmpty() ? "" : lines.getFirst()) + "')");
        }
        return lines.subList(1, lines.size());
    }

    /** The rest of the first line that starts with {@code key}. */
    private static String valueOf(List<String> body, String key) {
        for (String line : body) {
            if (line.startsWith(key + " ")) {
                return line.substring(key.length() + 1);
            }
        }
        throw new ConcordException("a znode of this lock space has no '" + key + "' line");
    }

    private static List<String> children(CuratorFramework zk, String path) throws Exception {
        try {
            return zk.getChildren().forPath(path);
        } catch (KeeperException.NoNodeException none) {
            return List.of();
        }
    }

    private static byte[] dataOrNull(CuratorFramework zk, String path, Stat stat) throws Exception {
        try {
            return zk.getData().storingStatIn(stat).forPath(path);
        } catch (KeeperException.NoNodeException goneMeanwhile) {
            return null;
        }
    }
}
