package io.concord.dlm.net;

/** A peer broke the transport protocol (handshake, authentication, message kinds): its connection is closed. */
final class ProtocolException extends RuntimeException {
    ProtocolException(String message) {
        super(message);
    }
}
