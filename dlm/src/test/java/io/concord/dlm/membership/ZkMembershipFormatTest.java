package io.concord.dlm.membership;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The znode formats and the epoch arithmetic, without ZooKeeper. */
class ZkMembershipFormatTest {
    private static final Member A = new Member("a", 10, new InetSocketAddress("10.0.0.1", 7000));
    private static final Member B = new Member("node-b.example", 16, InetSocketAddress.createUnresolved("b.example", 7001));
    private static final Member C = new Member("c", 22, new InetSocketAddress("::1", 7002));

    @Test
    void epochRoundTripsWithIpv4Ipv6AndHostNames() {
        EpochView view = new EpochView(42, List.of(A, C), List.of(B));
        byte[] data = EpochZnode.encode(view);
        assertEquals(view, EpochZnode.decode(data));
        assertTrue(new String(data, StandardCharsets.UTF_8).startsWith("concord-epoch 1\nepoch 42\n"));
    }

    @Test
    void hostNamesAreNotResolvedOnDecode() {
        Member decoded = EpochZnode.decode(EpochZnode.encode(new EpochView(1, List.of(B), List.of()))).members().getFirst();
        assertTrue(decoded.address().isUnresolved());
        assertEquals("b.example", decoded.address().getHostString());
    }

    @Test
    void unknownVersionAndMalformedLinesAreRefused() {
        byte[] future = "concord-epoch 2\nepoch 1\n".getBytes(StandardCharsets.UTF_8);
        assertThrows(MembershipException.class, () -> EpochZnode.decode(future));
        byte[] badLine = "concord-epoch 1\nepoch 1\nmember 10 a\n".getBytes(StandardCharsets.UTF_8);
        assertThrows(MembershipException.class, () -> EpochZnode.decode(badLine));
        byte[] badPort = "concord-epoch 1\nepoch 1\nmember 10 a 10.0.0.1:99999\n".getBytes(StandardCharsets.UTF_8);
        assertThrows(MembershipException.class, () -> EpochZnode.decode(badPort));
        assertThrows(MembershipException.class, () -> MemberZnode.decode(new byte[0]));
        assertThrows(MembershipException.class, () -> SlotClaim.decode("concord-slot 1\nowner a x\n".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void memberAndSlotZnodesRoundTrip() {
        MemberZnode m = new MemberZnode("a", new InetSocketAddress("10.0.0.1", 7000));
        assertEquals(m, MemberZnode.decode(m.encode()));
        SlotClaim s = new SlotClaim("a", 1L << 40);
        assertEquals(s, SlotClaim.decode(s.encode()));
    }

    @Test
    void nextEpochMovesDepartedMembersToUnrecoveredAndDropsRecoveredOnes() {
        EpochView previous = new EpochView(5, List.of(A, B), List.of(C));
        Map<Long, Member> live = new TreeMap<>(Map.of(A.incarnation(), A));
        EpochView next = ZkMembership.nextEpoch(previous, live, Set.of(C.incarnation()));
        assertEquals(new EpochView(6, List.of(A), List.of(B)), next);
        assertEquals(new EpochView(1, List.of(A), List.of()), ZkMembership.nextEpoch(null, live, Set.of()));
    }

    @Test
    void namesMustBeSinglePathComponents() {
        assertThrows(IllegalArgumentException.class, () -> new LockSpacePaths("a/b", "fs"));
        assertThrows(IllegalArgumentException.class, () -> new LockSpacePaths("alpha", ".."));
        assertThrows(IllegalArgumentException.class, () -> new LockSpacePaths("alpha", "with space"));
        assertFalse(new LockSpacePaths("alpha", "fs1").epoch().contains("//"));
    }
}
