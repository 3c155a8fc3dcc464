package io.concord.dlm.wire;

import io.concord.errors.ConcordException;

/**
 * Bytes that are not a frame this code can read: a wrong version, an unknown message type, a
 * length that does not add up, a field out of range. The message names the offset (from the
 * frame's first byte) where decoding stopped. Receivers close the connection that carried it;
 * nothing else is ever thrown by {@link MessageCodec#decode}.
 */
public final class MalformedFrameException extends ConcordException {
    private final int offset;

    public MalformedFrameException(int offset, String message) {
        super(message + " (at byte " + offset + ")");
        this.offset = offset;
    }

    /** Where in the frame decoding stopped. */
    public int offset() {
        return offset;
    }
}
