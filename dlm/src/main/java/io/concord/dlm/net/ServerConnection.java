package io.concord.dlm.net;

import io.concord.dlm.net.NettyTransport.InboundStream;
import io.concord.dlm.wire.Frame;
import io.concord.dlm.wire.MalformedFrameException;
import io.concord.dlm.wire.MessageCodec;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * An accepted connection: the server side of the handshake, then DATA in and ACK out. One per
 * channel, on the transport's event loop.
 */
final class ServerConnection extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = Logger.getLogger(NettyTransport.class.getName());

    private enum State { AWAIT_HELLO, AWAIT_PROOF, OPEN, CLOSED }

    private final NettyTransport transport;
    private State state = State.AWAIT_HELLO;
    private ScheduledFuture<?> timeout;
    private String peer;
    private long streamId;
    private byte[] transcript;
    private Session session;
    private InboundStream stream;
    private long acknowledged = Long.MIN_VALUE;
    private boolean ackScheduled;
    private byte[] scratch;

    ServerConnection(NettyTransport transport) {
        this.transport = transport;
    }

    /** The node this connection authenticated as; null before. */
    String peer() {
        return state == State.OPEN ? peer : null;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        transport.channels.add(ctx.channel());
        timeout = ctx.executor().schedule(() -> refuse(ctx, "no handshake within " + NettyTransport.HANDSHAKE_TIMEOUT_MILLIS + " ms"),
                NettyTransport.HANDSHAKE_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        var in = (ByteBuf) msg;
        try {
            if (state == State.CLOSED) {
                return;
            }
            if (!in.isReadable()) {
                throw new ProtocolException("empty message");
            }
            switch (state) {
                case AWAIT_HELLO -> hello(ctx, in);
                case AWAIT_PROOF -> proof(ctx, in);
                case OPEN -> data(ctx, in);
                case CLOSED -> {}
            }
        } catch (ProtocolException | MalformedFrameException e) {
            refuse(ctx, e.getMessage());
        } finally {
            in.release();
        }
    }

    private void hello(ChannelHandlerContext ctx, ByteBuf in) {
        if (in.readByte() != NettyTransport.HELLO) {
            throw new ProtocolException("expected HELLO");
        }
        if (in.readableBytes() < 1 + 8) {
            throw new ProtocolException("truncated HELLO");
        }
        int version = in.readUnsignedByte();
        if (version != Handshake.PROTOCOL_VERSION) {
            throw new ProtocolException("unknown protocol version " + version);
        }
        streamId = in.readLong();
        byte[] clientNonce = Handshake.readBytes(in, Handshake.NONCE_LENGTH, "HELLO nonce");
        byte[] clientName = Handshake.readName(in);
        if (in.isReadable()) {
            throw new ProtocolException("trailing bytes after HELLO");
        }
        peer = Handshake.nameString(clientName);
        byte[] serverNonce = transport.nonce();
        transcript = Handshake.transcript(clientNonce, serverNonce, streamId, transport.bootId, clientName, transport.nodeNameBytes);
        var out = ctx.alloc().buffer(4 + 1 + 1 + 8 + Handshake.NONCE_LENGTH + 1 + transport.nodeNameBytes.length + Handshake.PROOF_LENGTH);
        out.writeInt(out.capacity() - 4);
        out.writeByte(NettyTransport.WELCOME);
        out.writeByte(Handshake.PROTOCOL_VERSION);
        out.writeLong(transport.bootId);
        out.writeBytes(serverNonce);
        out.writeByte(transport.nodeNameBytes.length);
        out.writeBytes(transport.nodeNameBytes);
        out.writeBytes(transport.handshake.serverProof(transcript));
        ctx.writeAndFlush(out, ctx.voidPromise());
        state = State.AWAIT_PROOF;
    }

    private void proof(ChannelHandlerContext ctx, ByteBuf in) {
        if (in.readByte() != NettyTransport.PROOF || in.readableBytes() != Handshake.PROOF_LENGTH) {
            throw new ProtocolException("expected PROOF");
        }
        byte[] proof = Handshake.readBytes(in, Handshake.PROOF_LENGTH, "PROOF");
        byte[] expected = transport.handshake.clientProof(transcript);
        if (!Handshake.constantTimeEquals(proof, 0, expected, 0, Handshake.PROOF_LENGTH)) {
            throw new ProtocolException("its proof of the cluster key is wrong (do the keys differ?)");
        }
        session = new Session(transport.handshake.serverToClientKey(transcript), transport.handshake.clientToServerKey(transcript));
        transcript = null;
        stream = transport.opened(peer, streamId);
        scratch = new byte[NettyTransport.MAX_MESSAGE_LENGTH];
        timeout.cancel(false);
        state = State.OPEN;
        LOG.fine(() -> "accepted " + peer + " from " + ctx.channel().remoteAddress());
    }

    private void data(ChannelHandlerContext ctx, ByteBuf in) {
        int length = in.readableBytes();
        in.getBytes(in.readerIndex(), scratch, 0, length);
        if (!session.open(scratch, length)) {
            throw new ProtocolException("a message failed its authentication check");
        }
        if (scratch[0] != NettyTransport.DATA || length < 1 + 8 + Session.MAC_LENGTH) {
            throw new ProtocolException("expected DATA");
        }
        long sequence = Session.getLong(scratch, 1);
        Frame frame = MessageCodec.decode(ByteBuffer.wrap(scratch, 9, length - 9 - Session.MAC_LENGTH));
        transport.deliver(peer, stream, sequence, frame);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        // One acknowledgement per read batch rather than per frame: under load a batch holds many.
        // Sent from a task queued now, so that it runs after the writes that handlers queued while
        // reading (answers are on the latency path; acknowledgements are not).
        if (state == State.OPEN && !ackScheduled) {
            ackScheduled = true;
            ctx.executor().execute(() -> acknowledge(ctx));
        }
        ctx.fireChannelReadComplete();
    }

    private void acknowledge(ChannelHandlerContext ctx) {
        ackScheduled = false;
        if (state == State.OPEN && stream.delivered > acknowledged && transport.current(peer, stream)) {
            acknowledged = stream.delivered;
            var out = ctx.alloc().buffer(4 + 1 + 8 + Session.MAC_LENGTH);
            session.seal(NettyTransport.ACK, acknowledged, null, out);
            ctx.writeAndFlush(out, ctx.voidPromise());
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof java.io.IOException) {
            LOG.fine(() -> "connection from " + ctx.channel().remoteAddress() + ": " + cause);
            ctx.close();
        } else {
            refuse(ctx, cause.toString());
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (timeout != null) {
            timeout.cancel(false);
        }
        if (state == State.AWAIT_PROOF) {
            LOG.warning("connection from " + ctx.channel().remoteAddress() + " (claiming to be " + peer
                    + ") closed during the handshake: it refused this node's proof (do the cluster keys differ?)");
        } else if (state == State.OPEN) {
            LOG.fine(() -> "connection from " + peer + " at " + ctx.channel().remoteAddress() + " closed");
        }
        state = State.CLOSED;
        ctx.fireChannelInactive();
    }

    private void refuse(ChannelHandlerContext ctx, String why) {
        if (state == State.CLOSED) {
            return;
        }
        var who = peer == null ? "" : " (" + (state == State.OPEN ? "" : "claiming to be ") + peer + ")";
        LOG.log(Level.WARNING, "closed connection from " + ctx.channel().remoteAddress() + who + ": " + why);
        state = State.CLOSED;
        ctx.close();
    }
}
