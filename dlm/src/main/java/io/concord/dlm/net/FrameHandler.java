package io.concord.dlm.net;

import io.concord.dlm.wire.Frame;

/** Where a {@link Transport} delivers the frames of one lock space. */
public interface FrameHandler {
    /**
     * A frame from {@code peer} (the node name the connection authenticated as). Called on a
     * transport thread, in the order that peer sent its frames; must not block.
     */
    void received(String peer, Frame frame);
}
