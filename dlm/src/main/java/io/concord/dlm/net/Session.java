package io.concord.dlm.net;

import io.netty.buffer.ByteBuf;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import javax.crypto.Mac;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.SecretKeySpec;

/**
 * The authentication of one connection after its handshake. Each direction has its own key and
 * its own message counter; every message carries the first {@value #MAC_LENGTH} bytes of
 * HMAC-SHA256(key, counter || message). The counter is not sent: it is implied by position, so a
 * message dropped, repeated, reordered or moved to another connection (other keys) fails its check.
 *
 * <p>Confined to its channel's event loop (a {@link Mac} is not thread-safe). No allocation per message.
 */
final class Session {
    static final int MAC_LENGTH = 16;

    private final Mac sendMac;
    private final Mac receiveMac;
    private final byte[] header = new byte[8 + 1 + 8];
    private final byte[] digest = new byte[32];
    private long sent;
    private long received;

    Session(SecretKeySpec sendKey, SecretKeySpec receiveKey) {
        this.sendMac = hmac(sendKey);
        this.receiveMac = hmac(receiveKey);
    }

    static Mac hmac(SecretKeySpec key) {
        try {
            var mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return mac;
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is unavailable, yet every JDK has it", e);
        }
    }

    /**
     * Appends one whole transport message: u32 length, u8 kind, i64 sequence, {@code payload}
     * (may be null), MAC.
     */
    void seal(byte kind, long sequence, byte[] payload, ByteBuf out) {
        int payloadLength = payload == null ? 0 : payload.length;
        putLong(header, 0, sent++);
        header[8] = kind;
        putLong(header, 9, sequence);
        sendMac.update(header, 0, header.length);
        if (payload != null) {
            sendMac.update(payload);
        }
        finish(sendMac);
        out.writeInt(1 + 8 + payloadLength + MAC_LENGTH);
        out.writeBytes(header, 8, 9);
        if (payload != null) {
            out.writeBytes(payload);
        }
        out.writeBytes(digest, 0, MAC_LENGTH);
    }

    /** Whether {@code message[0, length)} (without its length prefix) ends in the MAC due next. */
    boolean open(byte[] message, int length) {
        if (length < MAC_LENGTH + 1) {
            return false;
        }
        putLong(header, 0, received);
        receiveMac.update(header, 0, 8);
        receiveMac.update(message, 0, length - MAC_LENGTH);
        finish(receiveMac);
        if (!Handshake.constantTimeEquals(digest, 0, message, length - MAC_LENGTH, MAC_LENGTH)) {
            return false;
        }
        received++;
        return true;
    }

    private void finish(Mac mac) {
        try {
            mac.doFinal(digest, 0);
        } catch (ShortBufferException e) {
            throw new AssertionError(e);
        }
    }

    static void putLong(byte[] b, int at, long v) {
        for (int i = 7; i >= 0; i--) {
            b[at + i] = (byte) v;
            v >>>= 8;
        }
    }

    static long getLong(byte[] b, int at) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = v << 8 | (b[at + i] & 0xFF);
        }
        return v;
    }

}
