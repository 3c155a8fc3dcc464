package io.concord.dlm.wire;

import static java.util.Objects.requireNonNull;

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
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The byte form of a {@link Frame}. Big-endian throughout.
 *
 * <pre>
 * offset size  field
 *      0    4  length      u32: bytes that follow this field (so a frame is length + 4 bytes);
 *                          at least {@value #HEADER_LENGTH} - 4, at most {@value #MAX_FRAME_LENGTH} - 4
 *      4    1  version     u8 = {@value #VERSION}; anything else is refused
 *      5    1  type        u8: the message type, table below
 *      6    2  reserved    u16 = 0; refused if not zero, so a later version can give it meaning
 *      8    4  lockSpace   i32 ({@link Frame#lockSpaceId})
 *     12    8  epoch       i64
 *     20    8  sender      i64
 *     28    .  body        the message's fields in record order, encoded as below; nothing may follow
 * </pre>
 *
 * Field encodings:
 * <ul>
 *   <li>lockId: i64.
 *   <li>resource ({@link ResourceName}): u8 type (an ASCII letter) + i64 number.
 *   <li>mode ({@link LockMode}): u8 ordinal, 0 (NL) to 5 (EX). A nullable mode uses 0xFF for null.
 *   <li>flag (noQueue): u8, 0 or 1.
 *   <li>reason ({@link Reason}): u8 ordinal.
 *   <li>value block ({@link LockValueBlock}): 32 value bytes + i64 sequence (&gt;= 0) + u8 valid (0 or 1).
 *       A nullable one is preceded by a u8 presence byte (0 absent and nothing follows, 1 present).
 *   <li>publish (nullable byte[32]): u8 presence (0 or 1) + 32 bytes when present.
 * </ul>
 *
 * Message types and bodies:
 * <pre>
 *  1 Request       lockId, resource, mode, noQueue
 *  2 Convert       lockId, resource, mode, noQueue, publish?
 *  3 Cancel        lockId, resource
 *  4 Unlock        lockId, resource, publish?
 *  5 Granted       lockId, resource, mode, valueBlock
 *  6 Refused       lockId, resource, mode, reason
 *  7 Unlocked      lockId, resource
 *  8 Blocking      lockId, resource, wanted (mode)
 *  9 Resend        lockId, resource, granted (mode?), requested (mode?), noQueue, read (value block?), publish?
 * 10 MasterState   resource, valueBlock
 * 11 RecoveryDone  (empty)
 * 12 RecoveryReady (empty)
 * </pre>
 *
 * <p>Encoding a message whose non-nullable field is null, or whose publish value is not 32 bytes,
 * is a bug in the sender and throws {@link NullPointerException} or {@link IllegalArgumentException}.
 * Decoding never throws anything but {@link MalformedFrameException}, whatever the bytes.
 *
 * <p>Version 1: the first version.
 */
public final class MessageCodec {
    public static final int VERSION = 1;
    /** Length prefix through sender: the bytes before the body. */
    public static final int HEADER_LENGTH = 28;
    /** The largest frame, length prefix included. Messages are at most a few hundred bytes. */
    public static final int MAX_FRAME_LENGTH = 4096;

    static final int REQUEST = 1;
    static final int CONVERT = 2;
    static final int CANCEL = 3;
    static final int UNLOCK = 4;
    static final int GRANTED = 5;
    static final int REFUSED = 6;
    static final int UNLOCKED = 7;
    static final int BLOCKING = 8;
    static final int RESEND = 9;
    static final int MASTER_STATE = 10;
    static final int RECOVERY_DONE = 11;
    static final int RECOVERY_READY = 12;

    private static final int NO_MODE = 0xFF;
    private static final int RESOURCE_LENGTH = 1 + 8;
    private static final int VALUE_BLOCK_LENGTH = LockValueBlock.SIZE + 8 + 1;
    private static final LockMode[] MODES = LockMode.values();
    private static final Reason[] REASONS = Reason.values();

    private MessageCodec() {}

    /** The frame's encoded size, length prefix included. */
    public static int encodedLength(Frame frame) {
        return HEADER_LENGTH + bodyLength(frame.message());
    }

    public static byte[] encode(Frame frame) {
        var bytes = new byte[encodedLength(frame)];
        encode(frame, ByteBuffer.wrap(bytes));
        return bytes;
    }

    /** Writes the frame at {@code out}'s position and advances it; {@code out} needs {@link #encodedLength} bytes. */
    public static void encode(Frame frame, ByteBuffer out) {
        var message = frame.message();
        int length = encodedLength(frame);
        if (length > MAX_FRAME_LENGTH) {
            throw new IllegalArgumentException("frame of " + length + " bytes exceeds " + MAX_FRAME_LENGTH);
        }
        out = out.duplicate().order(ByteOrder.BIG_ENDIAN);
        int start = out.position();
        out.putInt(length - 4);
        out.put((byte) VERSION);
        out.put((byte) typeOf(message));
        out.putShort((short) 0);
        out.putInt(frame.lockSpace());
        out.putLong(frame.epoch());
        out.putLong(frame.sender());
        switch (message) {
            case Request m -> {
                head(out, m.lockId(), m.resource());
                mode(out, m.mode(), "Request.mode");
                out.put(flag(m.noQueue()));
            }
            case Convert m -> {
                head(out, m.lockId(), m.resource());
                mode(out, m.mode(), "Convert.mode");
                out.put(flag(m.noQueue()));
                publish(out, m.publish());
            }
            case Cancel m -> head(out, m.lockId(), m.resource());
            case Unlock m -> {
                head(out, m.lockId(), m.resource());
                publish(out, m.publish());
            }
            case Granted m -> {
                head(out, m.lockId(), m.resource());
                mode(out, m.mode(), "Granted.mode");
                valueBlock(out, requireNonNull(m.valueBlock(), "Granted.valueBlock"));
            }
            case Refused m -> {
                head(out, m.lockId(), m.resource());
                mode(out, m.mode(), "Refused.mode");
                out.put((byte) requireNonNull(m.reason(), "Refused.reason").ordinal());
            }
            case Unlocked m -> head(out, m.lockId(), m.resource());
            case Blocking m -> {
                head(out, m.lockId(), m.resource());
                mode(out, m.wanted(), "Blocking.wanted");
            }
            case Resend m -> {
                head(out, m.lockId(), m.resource());
                out.put(m.granted() == null ? (byte) NO_MODE : (byte) m.granted().ordinal());
                out.put(m.requested() == null ? (byte) NO_MODE : (byte) m.requested().ordinal());
                out.put(flag(m.noQueue()));
                if (m.read() == null) {
                    out.put((byte) 0);
                } else {
                    out.put((byte) 1);
                    valueBlock(out, m.read());
                }
                publish(out, m.publish());
            }
            case MasterState m -> {
                resource(out, m.resource());
                valueBlock(out, requireNonNull(m.valueBlock(), "MasterState.valueBlock"));
            }
            case RecoveryDone _ -> {}
            case RecoveryReady _ -> {}
        }
        assert out.position() - start == length;
    }

    /** Decodes the single frame that is all of {@code bytes}. */
    public static Frame decode(byte[] bytes) {
        return decode(ByteBuffer.wrap(bytes));
    }

    /**
     * Decodes the frame that is exactly {@code in}'s remaining bytes, length prefix included; bytes
     * after the frame's length are malformed too. Reads through a duplicate: {@code in} is not moved.
     */
    public static Frame decode(ByteBuffer in) {
        var r = new Reader(in);
        try {
            return decodeFrame(r);
        } catch (BufferUnderflowException e) {
            // Every read is length-checked first, so this is a bug here, still reported as the contract says.
            throw new MalformedFrameException(r.offset(), "truncated frame");
        }
    }

    private static Frame decodeFrame(Reader r) {
        if (r.remaining() < 4) {
            throw r.malformed("truncated frame: " + r.remaining() + " bytes, no room for the length field");
        }
        long length = r.u32();
        if (length < HEADER_LENGTH - 4 || length > MAX_FRAME_LENGTH - 4) {
            throw r.malformed("frame length " + length + " outside [" + (HEADER_LENGTH - 4) + ", " + (MAX_FRAME_LENGTH - 4) + "]");
        }
        if (r.remaining() != length) {
            throw r.malformed("frame length says " + length + " bytes follow but " + r.remaining() + " do");
        }
        int version = r.u8();
        if (version != VERSION) {
            throw r.malformed("unknown frame version " + version + " (this code reads " + VERSION + ")");
        }
        int type = r.u8();
        int reserved = r.u16();
        if (reserved != 0) {
            throw r.malformed("reserved field is 0x%04x, not zero".formatted(reserved));
        }
        int lockSpace = r.i32();
        long epoch = r.i64();
        long sender = r.i64();
        Message message = switch (type) {
            case REQUEST -> new Request(r.i64(), r.resource(), r.mode(), r.flag());
            case CONVERT -> new Convert(r.i64(), r.resource(), r.mode(), r.flag(), r.publish());
            case CANCEL -> new Cancel(r.i64(), r.resource());
            case UNLOCK -> new Unlock(r.i64(), r.resource(), r.publish());
            case GRANTED -> new Granted(r.i64(), r.resource(), r.mode(), r.valueBlock());
            case REFUSED -> new Refused(r.i64(), r.resource(), r.mode(), r.reason());
            case UNLOCKED -> new Unlocked(r.i64(), r.resource());
            case BLOCKING -> new Blocking(r.i64(), r.resource(), r.mode());
            case RESEND -> new Resend(r.i64(), r.resource(), r.optionalMode(), r.optionalMode(), r.flag(),
                    r.optionalValueBlock(), r.publish());
            case MASTER_STATE -> new MasterState(r.resource(), r.valueBlock());
            case RECOVERY_DONE -> new RecoveryDone();
            case RECOVERY_READY -> new RecoveryReady();
            default -> throw r.malformed("unknown message type " + type);
        };
        if (r.remaining() != 0) {
            throw r.malformed(r.remaining() + " trailing bytes after a " + message.getClass().getSimpleName());
        }
        return new Frame(lockSpace, epoch, sender, message);
    }

    private static int typeOf(Message message) {
        return switch (message) {
            case Request _ -> REQUEST;
            case Convert _ -> CONVERT;
            case Cancel _ -> CANCEL;
            case Unlock _ -> UNLOCK;
            case Granted _ -> GRANTED;
            case Refused _ -> REFUSED;
            case Unlocked _ -> UNLOCKED;
            case Blocking _ -> BLOCKING;
            case Resend _ -> RESEND;
            case MasterState _ -> MASTER_STATE;
            case RecoveryDone _ -> RECOVERY_DONE;
            case RecoveryReady _ -> RECOVERY_READY;
        };
    }

    private static int bodyLength(Message message) {
        int head = 8 + RESOURCE_LENGTH;
        return switch (message) {
            case Request _ -> head + 1 + 1;
            case Convert m -> head + 1 + 1 + publishLength(m.publish());
            case Cancel _ -> head;
            case Unlock m -> head + publishLength(m.publish());
            case Granted _ -> head + 1 + VALUE_BLOCK_LENGTH;
            case Refused _ -> head + 1 + 1;
            case Unlocked _ -> head;
            case Blocking _ -> head + 1;
            case Resend m -> head + 1 + 1 + 1 + (m.read() == null ? 1 : 1 + VALUE_BLOCK_LENGTH) + publishLength(m.publish());
            case MasterState _ -> RESOURCE_LENGTH + VALUE_BLOCK_LENGTH;
            case RecoveryDone _ -> 0;
            case RecoveryReady _ -> 0;
        };
    }

    private static int publishLength(byte[] publish) {
        return publish == null ? 1 : 1 + LockValueBlock.SIZE;
    }

    private static void head(ByteBuffer out, long lockId, ResourceName resource) {
        out.putLong(lockId);
        resource(out, resource);
    }

    private static void resource(ByteBuffer out, ResourceName resource) {
        requireNonNull(resource, "resource");
        out.put((byte) resource.type());
        out.putLong(resource.number());
    }

    private static void mode(ByteBuffer out, LockMode mode, String field) {
        out.put((byte) requireNonNull(mode, field).ordinal());
    }

    private static byte flag(boolean value) {
        return value ? (byte) 1 : (byte) 0;
    }

    private static void publish(ByteBuffer out, byte[] publish) {
        if (publish == null) {
            out.put((byte) 0);
            return;
        }
        if (publish.length != LockValueBlock.SIZE) {
            throw new IllegalArgumentException("a published value is " + LockValueBlock.SIZE + " bytes, not " + publish.length);
        }
        out.put((byte) 1);
        out.put(publish);
    }

    private static void valueBlock(ByteBuffer out, LockValueBlock block) {
        out.put(block.buffer());
        out.putLong(block.sequence());
        out.put(flag(block.valid()));
    }

    /** Bounds-checked big-endian reads; each failure names its offset from the frame's start. */
    private static final class Reader {
        private final ByteBuffer in;
        private final int start;

        Reader(ByteBuffer in) {
            this.in = in.duplicate().order(ByteOrder.BIG_ENDIAN);
            this.start = in.position();
        }

        int offset() {
            return in.position() - start;
        }

        int remaining() {
            return in.remaining();
        }

        MalformedFrameException malformed(String message) {
            return new MalformedFrameException(offset(), message);
        }

        private void need(int bytes) {
            if (in.remaining() < bytes) {
                throw malformed("truncated frame: needs " + bytes + " more bytes, has " + in.remaining());
            }
        }

        int u8() {
            need(1);
            return in.get() & 0xFF;
        }

        int u16() {
            need(2);
            return in.getShort() & 0xFFFF;
        }

        int i32() {
            need(4);
            return in.getInt();
        }

        long u32() {
            return i32() & 0xFFFF_FFFFL;
        }

        long i64() {
            need(8);
            return in.getLong();
        }

        boolean flag() {
            int at = offset();
            int b = u8();
            if (b > 1) {
                throw new MalformedFrameException(at, "flag byte is " + b + ", not 0 or 1");
            }
            return b == 1;
        }

        ResourceName resource() {
            int at = offset();
            int type = u8();
            long number = i64();
            if (!(type >= 'A' && type <= 'Z' || type >= 'a' && type <= 'z')) {
                throw new MalformedFrameException(at, "resource type 0x%02x is not an ASCII letter".formatted(type));
            }
            return new ResourceName((char) type, number);
        }

        LockMode mode() {
            int at = offset();
            int b = u8();
            if (b >= MODES.length) {
                throw new MalformedFrameException(at, "lock mode " + b + " out of range");
            }
            return MODES[b];
        }

        LockMode optionalMode() {
            int at = offset();
            int b = u8();
            if (b == NO_MODE) {
                return null;
            }
            if (b >= MODES.length) {
                throw new MalformedFrameException(at, "lock mode " + b + " out of range (0xff is none)");
            }
            return MODES[b];
        }

        Reason reason() {
            int at = offset();
            int b = u8();
            if (b >= REASONS.length) {
                throw new MalformedFrameException(at, "refusal reason " + b + " out of range");
            }
            return REASONS[b];
        }

        byte[] publish() {
            if (!flag()) {
                return null;
            }
            need(LockValueBlock.SIZE);
            var value = new byte[LockValueBlock.SIZE];
            in.get(value);
            return value;
        }

        LockValueBlock valueBlock() {
            need(VALUE_BLOCK_LENGTH);
            var value = new byte[LockValueBlock.SIZE];
            in.get(value);
            int at = offset();
            long sequence = in.getLong();
            if (sequence < 0) {
                throw new MalformedFrameException(at, "negative value block sequence " + sequence);
            }
            boolean valid = flag();
            return new LockValueBlock(value, sequence, valid);
        }

        LockValueBlock optionalValueBlock() {
            return flag() ? valueBlock() : null;
        }
    }
}
