package io.concord.fuse;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * One request from the kernel: its {@code fuse_in_header} fields and its body, little-endian.
 * The body is read with {@link #body()}; names are NUL-terminated byte strings.
 *
 * <pre>
 * fuse_in_header: 0 len u32, 4 opcode u32, 8 unique u64, 16 nodeid u64, 24 uid u32, 28 gid u32,
 *                 32 pid u32, 36 total_extlen u16, 38 padding u16
 * </pre>
 */
final class Request {
    final int opcode;
    final long unique;
    final long nodeId;
    final int uid;
    final int gid;
    final int pid;
    /** The /dev/fuse fd this request was read from: its reply must be written there. */
    final int fd;
    private final ByteBuffer body;

    private Request(int opcode, long unique, long nodeId, int uid, int gid, int pid, int fd, ByteBuffer body) {
        this.opcode = opcode;
        this.unique = unique;
        this.nodeId = nodeId;
        this.uid = uid;
        this.gid = gid;
        this.pid = pid;
        this.fd = fd;
        this.body = body;
    }

    /**
     * Parses {@code length} bytes read from /dev/fuse.
     *
     * @throws MalformedRequestException when the header does not add up
     */
    static Request parse(byte[] bytes, int length, int fd) {
        return parse(ByteBuffer.wrap(bytes, 0, length), length, fd);
    }

    /**
     * Parses the first {@code length} bytes of {@code bytes} (from its position 0), without
     * copying: the request's body is a view of {@code bytes}, valid only as long as they are.
     *
     * @throws MalformedRequestException when the header does not add up
     */
    static Request parse(ByteBuffer bytes, int length, int fd) {
        if (length < Fuse.IN_HEADER) {
            throw new MalformedRequestException(0, "request of " + length + " bytes is shorter than its header");
        }
        ByteBuffer b = bytes.duplicate().clear().limit(length).order(ByteOrder.LITTLE_ENDIAN);
        int len = b.getInt(0);
        long unique = b.getLong(8);
        if (len != length) {
            throw new MalformedRequestException(unique, "header says " + len + " bytes, read " + length);
        }
        int extlen = Short.toUnsignedInt(b.getShort(36)) * 8;
        int bodyEnd = length - extlen;
        if (bodyEnd < Fuse.IN_HEADER) {
            throw new MalformedRequestException(unique, "extensions longer than the request");
        }
        ByteBuffer body = b.duplicate().position(Fuse.IN_HEADER).limit(bodyEnd).slice().order(ByteOrder.LITTLE_ENDIAN);
        return new Request(b.getInt(4), unique, b.getLong(16), b.getInt(24), b.getInt(28), b.getInt(32), fd, body);
    }

    /**
     * This request with its body copied to the heap: for a request served after the buffer it was
     * read into has been reused.
     */
    Request detached() {
        ByteBuffer copy = ByteBuffer.allocate(body.capacity());
        copy.put(body.duplicate().clear()).clear();
        return new Request(opcode, unique, nodeId, uid, gid, pid, fd, copy.order(ByteOrder.LITTLE_ENDIAN));
    }

    /** A fresh view of the body from its start. */
    ByteBuffer body() {
        return body.duplicate().order(ByteOrder.LITTLE_ENDIAN).clear();
    }

    /** The body must hold at least {@code bytes} (the fixed part of the opcode's input struct). */
    ByteBuffer body(int bytes) {
        ByteBuffer b = body();
        if (b.remaining() < bytes) {
            throw new MalformedRequestException(unique, Fuse.opcodeName(opcode) + " body of " + b.remaining() + " bytes, need " + bytes);
        }
        return b;
    }

    /** A NUL-terminated name starting at {@code at} in {@code b}; advances past the NUL. */
    static byte[] name(ByteBuffer b, long unique) {
        int start = b.position();
        int end = start;
        while (end < b.limit() && b.get(end) != 0) {
            end++;
        }
        if (end >= b.limit()) {
            throw new MalformedRequestException(unique, "name is not NUL-terminated");
        }
        byte[] name = new byte[end - start];
        b.get(start, name);
        b.position(end + 1);
        return name;
    }

    static String string(ByteBuffer b, long unique) {
        return new String(name(b, unique), StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return Fuse.opcodeName(opcode) + " #" + unique + " node " + nodeId + " uid " + uid + " pid " + pid;
    }
}
