package io.concord.dlm.membership;

import java.util.List;

/**
 * The data of {@code slots/<jid>}: which incarnation owns journal {@code jid}.
 *
 * <pre>
 * concord-slot 1
 * owner &lt;node&gt; &lt;incarnation&gt;
 * </pre>
 */
record SlotClaim(String owner, long incarnation) {
    static final String MAGIC = "concord-slot";
    static final int VERSION = 1;

    byte[] encode() {
        StringBuilder text = new StringBuilder()
                .append(MAGIC).append(' ').append(VERSION).append('\n')
                .append("owner ").append(owner).append(' ').append(incarnation).append('\n');
        return ZnodeText.bytes(text);
    }

    static SlotClaim decode(byte[] data) {
        String what = "journal slot znode";
        List<String> body = ZnodeText.body(data, MAGIC, VERSION, what);
        if (body.size() != 1) {
            throw new MembershipException(what + ": expected 1 line after the header, found " + body.size());
        }
        String[] owner = ZnodeText.fields(body.getFirst(), 3, what);
        if (!owner[0].equals("owner")) {
            throw new MembershipException(what + ": expected an 'owner' line");
        }
        return new SlotClaim(owner[1], ZnodeText.number(owner[2], what));
    }
}
