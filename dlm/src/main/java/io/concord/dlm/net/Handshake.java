package io.concord.dlm.net;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The cryptography of the connection handshake ({@link NettyTransport} describes the exchange).
 * Everything is HMAC-SHA256 keyed with the cluster key over a fixed prefix, a one-byte label and
 * the transcript; the prefix has a fixed length, so no label's input can be another's.
 *
 * <p>Not thread-safe: one per transport, used on its event loop only.
 */
final class Handshake {
    static final int PROTOCOL_VERSION = 1;
    static final int NONCE_LENGTH = 32;
    static final int PROOF_LENGTH = 32;
    static final int MAX_NAME_BYTES = 255;

    private static final byte SERVER_PROOF = 1;
    private static final byte CLIENT_PROOF = 2;
    private static final byte CLIENT_TO_SERVER_KEY = 3;
    private static final byte SERVER_TO_CLIENT_KEY = 4;
    private static final byte[] PREFIX = "concord-dlm/1\0".getBytes(StandardCharsets.US_ASCII);

    private final Mac keyed;

    Handshake(ClusterKey key) {
        this.keyed = Session.hmac(key.hmacKey());
    }

    /**
     * What both proofs and both session keys are bound to: both fresh nonces (so neither side can
     * replay an old exchange), both names (so a proof for one pair of nodes is worthless for
     * another) and both incarnations.
     */
    static byte[] transcript(byte[] clientNonce, byte[] serverNonce, long clientStream, long serverBoot,
                             byte[] clientName, byte[] serverName) {
        var b = ByteBuffer.allocate(2 * NONCE_LENGTH + 16 + 2 + clientName.length + serverName.length);
        b.put(clientNonce).put(serverNonce).putLong(clientStream).putLong(serverBoot);
        b.put((byte) clientName.length).put(clientName);
        b.put((byte) serverName.length).put(serverName);
        return b.array();
    }

    byte[] serverProof(byte[] transcript) {
        return derive(SERVER_PROOF, transcript);
    }

    byte[] clientProof(byte[] transcript) {
        return derive(CLIENT_PROOF, transcript);
    }

    SecretKeySpec clientToServerKey(byte[] transcript) {
        return new SecretKeySpec(derive(CLIENT_TO_SERVER_KEY, transcript), "HmacSHA256");
    }

    SecretKeySpec serverToClientKey(byte[] transcript) {
        return new SecretKeySpec(derive(SERVER_TO_CLIENT_KEY, transcript), "HmacSHA256");
    }

    private byte[] derive(byte label, byte[] transcript) {
        keyed.update(PREFIX);
        keyed.update(label);
        keyed.update(transcript);
        return keyed.doFinal();
    }

    /** Compares in time independent of where the arrays differ, so a forger learns nothing from timing. */
    static boolean constantTimeEquals(byte[] a, int aOffset, byte[] b, int bOffset, int length) {
        int diff = 0;
        for (int i = 0; i < length; i++) {
            diff |= a[aOffset + i] ^ b[bOffset + i];
        }
        return diff == 0;
    }

    static byte[] nameBytes(String name) {
        var bytes = name.getBytes(StandardCharsets.UTF_8);
        if (bytes.length == 0 || bytes.length > MAX_NAME_BYTES) {
            throw new IllegalArgumentException("a node name is 1 to " + MAX_NAME_BYTES + " UTF-8 bytes: '" + name + "'");
        }
        return bytes;
    }

    static byte[] readBytes(ByteBuf in, int length, String what) {
        if (in.readableBytes() < length) {
            throw new ProtocolException("truncated " + what);
        }
        var bytes = new byte[length];
        in.readBytes(bytes);
        return bytes;
    }

    static byte[] readName(ByteBuf in) {
        if (in.readableBytes() < 1) {
            throw new ProtocolException("truncated node name");
        }
        int length = in.readUnsignedByte();
        if (length == 0) {
            throw new ProtocolException("empty node name");
        }
        return readBytes(in, length, "node name");
    }

    static String nameString(byte[] name) {
        return new String(name, StandardCharsets.UTF_8);
    }
}
