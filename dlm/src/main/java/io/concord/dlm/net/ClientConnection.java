package io.concord.dlm.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * A connection this node opened to send to one peer: the client side of the handshake, then ACKs
 * in (DATA goes out through its {@link PeerLink}). On the transport's event loop.
 */
final class ClientConnection extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = Logger.getLogger(NettyTransport.class.getName());

    private enum State { AWAIT_WELCOME, OPEN, CLOSED }

    private final NettyTransport transport;
    private final PeerLink link;
    private State state = State.AWAIT_WELCOME;
    private ScheduledFuture<?> timeout;
    private byte[] nonce;
    private Session session;
    private final byte[] scratch = new byte[1 + 8 + Session.MAC_LENGTH];

    ClientConnection(NettyTransport transport, PeerLink link) {
        this.transport = transport;
        this.link = link;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        transport.channels.add(ctx.channel());
        timeout = ctx.executor().schedule(() -> refuse(ctx, "no handshake within " + NettyTransport.HANDSHAKE_TIMEOUT_MILLIS + " ms"),
                NettyTransport.HANDSHAKE_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        nonce = transport.nonce();
        byte[] name = transport.nodeNameBytes;
        var out = ctx.alloc().buffer(4 + 1 + 1 + 8 + Handshake.NONCE_LENGTH + 1 + name.length);
        out.writeInt(out.capacity() - 4);
        out.writeByte(NettyTransport.HELLO);
        out.writeByte(Handshake.PROTOCOL_VERSION);
        out.writeLong(link.streamId);
        out.writeBytes(nonce);
        out.writeByte(name.length);
        out.writeBytes(name);
        ctx.writeAndFlush(out, ctx.voidPromise());
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        var in = (ByteBuf) msg;
        try {
            switch (state) {
                case AWAIT_WELCOME -> welcome(ctx, in);
                case OPEN -> ack(in);
                case CLOSED -> {}
            }
        } catch (ProtocolException e) {
            refuse(ctx, e.getMessage());
        } finally {
            in.release();
        }
    }

    private void welcome(ChannelHandlerContext ctx, ByteBuf in) {
        if (in.readableBytes() < 2 + 8 || in.readByte() != NettyTransport.WELCOME) {
            throw new ProtocolException("expected WELCOME");
        }
        int version = in.readUnsignedByte();
        if (version != Handshake.PROTOCOL_VERSION) {
            throw new ProtocolException("unknown protocol version " + version);
        }
        long serverBoot = in.readLong();
        byte[] serverNonce = Handshake.readBytes(in, Handshake.NONCE_LENGTH, "WELCOME nonce");
        byte[] serverName = Handshake.readName(in);
        byte[] proof = Handshake.readBytes(in, Handshake.PROOF_LENGTH, "WELCOME proof");
        if (in.isReadable()) {
            throw new ProtocolException("trailing bytes after WELCOME");
        }
        byte[] transcript = Handshake.transcript(nonce, serverNonce, link.streamId, serverBoot, transport.nodeNameBytes, serverName);
        byte[] expected = transport.handshake.serverProof(transcript);
        if (!Handshake.constantTimeEquals(proof, 0, expected, 0, Handshake.PROOF_LENGTH)) {
            throw new ProtocolException("its proof of the cluster key is wrong (do the keys differ?)");
        }
        // Checked after the proof, so an unauthenticated party cannot make us log names of its choosing as fact.
        String name = Handshake.nameString(serverName);
        if (!name.equals(link.peer)) {
            throw new ProtocolException("it is node " + name + ", not " + link.peer);
        }
        var out = ctx.alloc().buffer(4 + 1 + Handshake.PROOF_LENGTH);
        out.writeInt(1 + Handshake.PROOF_LENGTH);
        out.writeByte(NettyTransport.PROOF);
        out.writeBytes(transport.handshake.clientProof(transcript));
        ctx.write(out, ctx.voidPromise());
        session = new Session(transport.handshake.clientToServerKey(transcript), transport.handshake.serverToClientKey(transcript));
        timeout.cancel(false);
        state = State.OPEN;
        // The PROOF is flushed with the first DATA the link writes: the server reads them in order.
        link.attached(ctx.channel(), session);
        ctx.flush();
    }

    private void ack(ByteBuf in) {
        int length = in.readableBytes();
        if (length != scratch.length) {
            throw new ProtocolException("expected ACK");
        }
        in.getBytes(in.readerIndex(), scratch, 0, length);
        if (!session.open(scratch, length)) {
            throw new ProtocolException("a message failed its authentication check");
        }
        if (scratch[0] != NettyTransport.ACK) {
            throw new ProtocolException("expected ACK");
        }
        link.acknowledged(Session.getLong(scratch, 1));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof java.io.IOException) {
            LOG.fine(() -> "connection to " + link.peer + ": " + cause);
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
        if (state != State.CLOSED) {
            link.detached(ctx.channel(), state == State.OPEN ? "connection closed" : "connection closed during the handshake");
        }
        state = State.CLOSED;
        ctx.fireChannelInactive();
    }

    private void refuse(ChannelHandlerContext ctx, String why) {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        link.refused(ctx.channel(), why);
        ctx.close();
    }
}
