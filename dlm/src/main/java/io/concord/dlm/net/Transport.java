package io.concord.dlm.net;

import io.concord.dlm.wire.Frame;
import java.net.InetSocketAddress;

/**
 * Node-to-node frames for the DLM.
 *
 * <p>Contract: frames sent to one peer are delivered to it in the order sent, each exactly once,
 * as long as both processes live, across broken and re-made connections (the sender keeps what
 * the peer has not acknowledged and sends it again; the receiver drops duplicates). Only a peer's
 * death, or {@link #forget}, loses frames. Every connection is authenticated with the cluster key
 * both ways; frames are length-limited, versioned and integrity-checked; a bad frame closes its
 * connection with a log line.
 */
public interface Transport extends AutoCloseable {
    /** This node's name, as peers know it. */
    String nodeName();

    /** Where peers connect to this node. */
    InetSocketAddress localAddress();

    /** Frames for {@code lockSpace} go to {@code handler} from now on. */
    void register(int lockSpace, FrameHandler handler);

    void unregister(int lockSpace);

    /** Queues {@code frame} for {@code peer} at {@code address}, connecting if needed. Never blocks. */
    void send(String peer, InetSocketAddress address, Frame frame);

    /** Drops everything queued for {@code peer} and its connections: it left the cluster. */
    void forget(String peer);

    @Override
    void close();
}
