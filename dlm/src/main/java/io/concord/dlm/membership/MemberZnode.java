package io.concord.dlm.membership;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * The data of {@code members/<node>}. The incarnation is not stored: it is the znode's creation
 * zxid, which ZooKeeper assigns and no one can forge or reuse.
 *
 * <pre>
 * concord-member 1
 * name &lt;node&gt;
 * address &lt;host&gt;:&lt;port&gt;
 * </pre>
 */
record MemberZnode(String name, InetSocketAddress address) {
    static final String MAGIC = "concord-member";
    static final int VERSION = 1;

    byte[] encode() {
        StringBuilder text = new StringBuilder()
                .append(MAGIC).append(' ').append(VERSION).append('\n')
                .append("name ").append(name).append('\n')
                .append("address ").append(ZnodeText.address(address)).append('\n');
        return ZnodeText.bytes(text);
    }

    static MemberZnode decode(byte[] data) {
        String what = "member znode";
        List<String> body = ZnodeText.body(data, MAGIC, VERSION, what);
        if (body.size() != 2) {
            throw new MembershipException(what + ": expected 2 lines after the header, found " + body.size());
        }
        String[] name = ZnodeText.fields(body.get(0), 2, what);
        String[] address = ZnodeText.fields(body.get(1), 2, what);
        if (!name[0].equals("name") || !address[0].equals("address")) {
            throw new MembershipException(what + ": expected 'name' then 'address' lines");
        }
        return new MemberZnode(name[1], ZnodeText.address(address[1], what));
    }

    Member member(long incarnation) {
        return new Member(name, incarnation, address);
    }
}
