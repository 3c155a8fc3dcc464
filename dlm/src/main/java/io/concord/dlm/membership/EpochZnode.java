package io.concord.dlm.membership;

import java.util.ArrayList;
import java.util.List;

/**
 * The data of the {@code epoch} znode: one {@link EpochView}.
 *
 * <pre>
 * concord-epoch 1
 * epoch &lt;n&gt;
 * member &lt;incarnation&gt; &lt;node&gt; &lt;host&gt;:&lt;port&gt;        (zero or more, by incarnation)
 * unrecovered &lt;incarnation&gt; &lt;node&gt; &lt;host&gt;:&lt;port&gt;   (zero or more, by incarnation)
 * </pre>
 *
 * The {@code epoch} line comes first; member and unrecovered lines may interleave on reading.
 */
final class EpochZnode {
    static final String MAGIC = "concord-epoch";
    static final int VERSION = 1;

    private EpochZnode() {}

    static byte[] encode(EpochView view) {
        StringBuilder text = new StringBuilder()
                .append(MAGIC).append(' ').append(VERSION).append('\n')
                .append("epoch ").append(view.epoch()).append('\n');
        for (Member m : view.members()) {
            line(text, "member", m);
        }
        for (Member m : view.unrecovered()) {
            line(text, "unrecovered", m);
        }
        return ZnodeText.bytes(text);
    }

    private static void line(StringBuilder text, String key, Member m) {
        text.append(key).append(' ').append(m.incarnation()).append(' ').append(m.name()).append(' ')
                .append(ZnodeText.address(m.address())).append('\n');
    }

    static EpochView decode(byte[] data) {
        String what = "epoch znode";
        List<String> body = ZnodeText.body(data, MAGIC, VERSION, what);
        if (body.isEmpty()) {
            throw new MembershipException(what + ": no 'epoch' line");
        }
        String[] epochLine = ZnodeText.fields(body.getFirst(), 2, what);
        if (!epochLine[0].equals("epoch")) {
            throw new MembershipException(what + ": the first line after the header must be 'epoch'");
        }
        long epoch = ZnodeText.number(epochLine[1], what);
        List<Member> members = new ArrayList<>();
        List<Member> unrecovered = new ArrayList<>();
        for (String line : body.subList(1, body.size())) {
            String[] f = ZnodeText.fields(line, 4, what);
            Member m = new Member(f[2], ZnodeText.number(f[1], what), ZnodeText.address(f[3], what));
            switch (f[0]) {
                case "member" -> members.add(m);
                case "unrecovered" -> unrecovered.add(m);
                default -> throw new MembershipException(what + ": unknown line '" + line + "'");
            }
        }
        return new EpochView(epoch, members, unrecovered);
    }
}
