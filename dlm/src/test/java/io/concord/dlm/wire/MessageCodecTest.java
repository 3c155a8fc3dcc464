package io.concord.dlm.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.concord.dlm.LockMode;
import io.concord.dlm.LockValueBlock;
import io.concord.dlm.ResourceName;
import io.concord.dlm.wire.Message.Blocking;
import io.concord.dlm.wire.Message.Cancel;
import io.concord.dlm.wire.Message.Convert;
import io.concord.dlm.wire.Message.Granted;
import io.concord.dlm.wire.Message.MasterState;
import io.concord.dlm.wire.Message.Reason;
import io.concord.dlm.wire.Message.RecoveryDone;
import io.concord.dlm.wire.Message.RecoveryReady;
import io.concord.dlm.wire.Message.Refused;
import io.concord.dlm.wire.Message.Request;
import io.concord.dlm.wire.Message.Resend;
import io.concord.dlm.wire.Message.Unlock;
import io.concord.dlm.wire.Message.Unlocked;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MessageCodecTest {
    private static final ResourceName INODE = new ResourceName(ResourceName.INODE, 0xFFFF_FFFF_FFFF_FFF0L);
    private static final ResourceName GROUP = new ResourceName('z', 7);

    static byte[] value(int seed) {
        var v = new byte[LockValueBlock.SIZE];
        for (int i = 0; i < v.length; i++) {
            v[i] = (byte) (seed * 31 + i);
        }
        return v;
    }

    /** At least one of every message type, with every nullable field both null and present. */
    static List<Message> samples() {
        var lvb = new LockValueBlock(value(1), 42, true);
        var stale = new LockValueBlock(value(2), Long.MAX_VALUE, false);
        var all = new ArrayList<Message>();
        for (var mode : LockMode.values()) {
            all.add(new Request(mode.ordinal(), INODE, mode, mode.ordinal() % 2 == 0));
            all.add(new Blocking(-1L, GROUP, mode));
        }
        all.add(new Convert(Long.MIN_VALUE, INODE, LockMode.NL, true, value(3)));
        all.add(new Convert(5, GROUP, LockMode.EX, false, null));
        all.add(new Cancel(6, INODE));
        all.add(new Unlock(7, INODE, value(4)));
        all.add(new Unlock(8, GROUP, null));
        all.add(new Granted(9, INODE, LockMode.PW, lvb));
        all.add(new Granted(10, INODE, LockMode.CR, stale));
        for (var reason : Reason.values()) {
            all.add(new Refused(11, GROUP, LockMode.PR, reason));
        }
        all.add(new Unlocked(12, INODE));
        all.add(new Resend(13, INODE, null, null, false, null, null));
        all.add(new Resend(14, INODE, LockMode.PR, LockMode.EX, true, lvb, value(5)));
        all.add(new Resend(15, GROUP, LockMode.NL, null, false, stale, null));
        all.add(new Resend(16, GROUP, null, LockMode.CW, true, null, value(6)));
        all.add(new MasterState(INODE, lvb));
        all.add(new MasterState(GROUP, LockValueBlock.EMPTY));
        all.add(new RecoveryDone());
        all.add(new RecoveryReady());
        return all;
    }

    static List<byte[]> sampleFrames() {
        var frames = new ArrayList<byte[]>();
        long epoch = 1;
        for (var m : samples()) {
            frames.add(MessageCodec.encode(new Frame(Frame.lockSpaceId("fs" + epoch), epoch, -epoch * 1_000_003, m)));
            epoch++;
        }
        return frames;
    }

    /** Records with byte[] components compare arrays by identity; this compares them by content. */
    static String describe(Object o) {
        if (o instanceof byte[] b) {
            return Arrays.toString(b);
        }
        if (o instanceof Record r) {
            var sb = new StringBuilder(r.getClass().getSimpleName()).append('(');
            for (var c : r.getClass().getRecordComponents()) {
                try {
                    sb.append(c.getName()).append('=').append(describe(c.getAccessor().invoke(r))).append(',');
                } catch (ReflectiveOperationException e) {
                    throw new AssertionError(e);
                }
            }
            return sb.append(')').toString();
        }
        return String.valueOf(o);
    }

    @Test
    void everyMessageTypeRoundTrips() {
        Set<Class<?>> seen = new HashSet<>();
        for (var m : samples()) {
            var frame = new Frame(0x8000_0001, Long.MAX_VALUE, 123_456_789_012L, m);
            byte[] bytes = MessageCodec.encode(frame);
            assertEquals(MessageCodec.encodedLength(frame), bytes.length);
            assertEquals(bytes.length - 4, ByteBuffer.wrap(bytes).getInt(), "length field");
            Frame back = MessageCodec.decode(bytes);
            assertEquals(describe(frame), describe(back));
            assertArrayEquals(bytes, MessageCodec.encode(back));
            seen.add(m.getClass());
        }
        assertEquals(Message.class.getPermittedSubclasses().length, seen.size(), "a sample of every message type");
    }

    @Test
    void headerLayoutIsAsDocumented() {
        byte[] bytes = MessageCodec.encode(new Frame(0x01020304, 0x1112131415161718L, -2, new Cancel(9, GROUP)));
        var b = ByteBuffer.wrap(bytes);
        assertEquals(bytes.length - 4, b.getInt(0));
        assertEquals(MessageCodec.VERSION, b.get(4));
        assertEquals(MessageCodec.CANCEL, b.get(5));
        assertEquals(0, b.getShort(6));
        assertEquals(0x01020304, b.getInt(8));
        assertEquals(0x1112131415161718L, b.getLong(12));
        assertEquals(-2, b.getLong(20));
        assertEquals(9, b.getLong(28));
        assertEquals('z', b.get(36));
        assertEquals(7, b.getLong(37));
        assertEquals(MessageCodec.HEADER_LENGTH + 8 + 9, bytes.length);
    }

    @Test
    void everyTruncationIsMalformed() {
        for (byte[] bytes : sampleFrames()) {
            for (int n = 0; n < bytes.length; n++) {
                byte[] cut = Arrays.copyOf(bytes, n);
                assertThrows(MalformedFrameException.class, () -> MessageCodec.decode(cut), "first " + n + " bytes");
                // A length field adjusted to match the truncation must not make it decodable either.
                if (n >= 4) {
                    ByteBuffer.wrap(cut).putInt(0, n - 4);
                    assertThrows(MalformedFrameException.class, () -> MessageCodec.decode(cut), "first " + n + " bytes, length fixed");
                }
            }
        }
    }

    @Test
    void trailingBytesAreMalformed() {
        byte[] bytes = MessageCodec.encode(new Frame(1, 1, 1, new RecoveryDone()));
        byte[] longer = Arrays.copyOf(bytes, bytes.length + 1);
        assertMalformed(longer, "says");
        ByteBuffer.wrap(longer).putInt(0, longer.length - 4);
        assertMalformed(longer, "trailing");
    }

    @Test
    void eachBadFieldIsNamed() {
        byte[] request = MessageCodec.encode(new Frame(1, 2, 3, new Request(4, INODE, LockMode.PR, false)));
        assertMalformed(with(request, 4, 2), "version");
        assertMalformed(with(request, 5, 0), "message type");
        assertMalformed(with(request, 5, 99), "message type");
        assertMalformed(with(request, 7, 1), "reserved");
        assertMalformed(with(request, 28 + 8, '1'), "resource type");
        assertMalformed(with(request, 28 + 17, 6), "lock mode");
        assertMalformed(with(request, 28 + 18, 2), "flag");

        byte[] resend = MessageCodec.encode(new Frame(1, 2, 3, new Resend(4, INODE, LockMode.PR, null, false, null, null)));
        assertEquals(null, ((Resend) MessageCodec.decode(resend).message()).requested());
        assertMalformed(with(resend, 28 + 17, 0xFE), "lock mode");

        byte[] granted = MessageCodec.encode(new Frame(1, 2, 3, new Granted(4, INODE, LockMode.EX, LockValueBlock.EMPTY)));
        int sequenceAt = 28 + 8 + 9 + 1 + 32;
        assertMalformed(with(granted, sequenceAt, 0x80), "negative value block sequence");
        assertMalformed(with(granted, sequenceAt + 8, 2), "flag");

        byte[] refused = MessageCodec.encode(new Frame(1, 2, 3, new Refused(4, INODE, LockMode.EX, Reason.CANCELLED)));
        assertMalformed(with(refused, refused.length - 1, Reason.values().length), "reason");
    }

    @Test
    void lengthFieldLiesAreMalformed() {
        byte[] bytes = MessageCodec.encode(new Frame(1, 2, 3, new Cancel(4, INODE)));
        for (int lie : new int[] {0, 1, 23, bytes.length - 5, bytes.length - 3, MessageCodec.MAX_FRAME_LENGTH, -1, Integer.MIN_VALUE}) {
            byte[] copy = bytes.clone();
            ByteBuffer.wrap(copy).putInt(0, lie);
            assertThrows(MalformedFrameException.class, () -> MessageCodec.decode(copy), "length " + lie);
        }
        assertMalformed(new byte[0], "truncated");
        assertMalformed(new byte[MessageCodec.MAX_FRAME_LENGTH + 10], "outside");
    }

    @Test
    void encodingRefusesNullRequiredFieldsAndWrongPublishSize() {
        assertThrows(NullPointerException.class, () -> MessageCodec.encode(new Frame(1, 1, 1, new Request(1, INODE, null, false))));
        assertThrows(NullPointerException.class, () -> MessageCodec.encode(new Frame(1, 1, 1, new Cancel(1, null))));
        assertThrows(NullPointerException.class, () -> MessageCodec.encode(new Frame(1, 1, 1, new Granted(1, INODE, LockMode.EX, null))));
        assertThrows(IllegalArgumentException.class, () -> MessageCodec.encode(new Frame(1, 1, 1, new Unlock(1, INODE, new byte[31]))));
    }

    @Test
    void decodeReadsOnlyTheBufferRemainderAndDoesNotMoveIt() {
        byte[] frame = MessageCodec.encode(new Frame(5, 6, 7, new Unlocked(8, GROUP)));
        byte[] padded = new byte[frame.length + 10];
        System.arraycopy(frame, 0, padded, 3, frame.length);
        var buffer = ByteBuffer.wrap(padded, 3, frame.length);
        assertEquals(describe(new Frame(5, 6, 7, new Unlocked(8, GROUP))), describe(MessageCodec.decode(buffer)));
        assertEquals(3, buffer.position());
    }

    /**
     * Random damage to valid frames decodes or is refused as malformed, and nothing else escapes.
     * A failure prints the seed; rerun with -Dconcord.fuzz.seed=N.
     */
    @Test
    void fuzzedFramesDecodeOrAreMalformed() {
        long seed = Long.getLong("concord.fuzz.seed", System.nanoTime());
        int rounds = Integer.getInteger("concord.fuzz.rounds", 200_000);
        var random = new Random(seed);
        var frames = sampleFrames();
        int decoded = 0;
        for (int round = 0; round < rounds; round++) {
            byte[] bytes = mutate(frames.get(random.nextInt(frames.size())), random);
            try {
                Frame frame = MessageCodec.decode(bytes);
                // Whatever decodes must be canonical: encoding gives back the same bytes.
                assertArrayEquals(bytes, MessageCodec.encode(frame), "seed " + seed + " round " + round);
                decoded++;
            } catch (MalformedFrameException expected) {
                // refused: fine
            } catch (Throwable t) {
                fail("seed " + seed + " round " + round + ": " + t + " on " + Arrays.toString(bytes), t);
            }
        }
        assertTrue(decoded > 0 && decoded < rounds, "seed " + seed + ": mutations should sometimes survive, sometimes not; decoded " + decoded);
    }

    private static byte[] mutate(byte[] original, Random random) {
        byte[] b = original.clone();
        switch (random.nextInt(7)) {
            case 0 -> { // bit flips
                for (int i = 1 + random.nextInt(3); i > 0; i--) {
                    b[random.nextInt(b.length)] ^= (byte) (1 << random.nextInt(8));
                }
            }
            case 1 -> b = Arrays.copyOf(b, random.nextInt(b.length)); // truncation
            case 2 -> { // random bytes, with a plausible length
                b = new byte[random.nextInt(200)];
                random.nextBytes(b);
                if (b.length >= 8 && random.nextBoolean()) {
                    ByteBuffer.wrap(b).putInt(0, b.length - 4).put(4, (byte) 1).put(5, (byte) (1 + random.nextInt(12))).putShort(6, (short) 0);
                }
            }
            case 3 -> ByteBuffer.wrap(b).putInt(0, random.nextInt(3) == 0 ? random.nextInt() : b.length - 4 + random.nextInt(9) - 4);
            case 4 -> { // a byte of the body set to an edge value
                int at = MessageCodec.HEADER_LENGTH + random.nextInt(Math.max(1, b.length - MessageCodec.HEADER_LENGTH));
                if (at < b.length) {
                    b[at] = (byte) new int[] {0, 1, 2, 5, 6, 0x7F, 0x80, 0xFE, 0xFF}[random.nextInt(9)];
                }
            }
            case 5 -> { // another message type on this body, length kept honest
                b[5] = (byte) random.nextInt(14);
            }
            default -> { // extend with random bytes and a matching length
                int extra = 1 + random.nextInt(40);
                b = Arrays.copyOf(b, b.length + extra);
                for (int i = b.length - extra; i < b.length; i++) {
                    b[i] = (byte) random.nextInt();
                }
                ByteBuffer.wrap(b).putInt(0, b.length - 4);
            }
        }
        return b;
    }

    private static byte[] with(byte[] bytes, int at, int value) {
        byte[] copy = bytes.clone();
        copy[at] = (byte) value;
        return copy;
    }

    private static void assertMalformed(byte[] bytes, String expectedInMessage) {
        var e = assertThrows(MalformedFrameException.class, () -> MessageCodec.decode(bytes));
        assertTrue(e.getMessage().contains(expectedInMessage), "'" + e.getMessage() + "' should mention '" + expectedInMessage + "'");
    }
}
