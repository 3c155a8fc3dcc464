package io.concord.dlm.net;

import static java.util.Objects.requireNonNull;

import io.concord.dlm.wire.Frame;
import io.concord.dlm.wire.MessageCodec;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.random.RandomGenerator;

/**
 * The DLM's {@link Transport} over TCP, authenticated with the {@link ClusterKey}.
 *
 * <h2>Connections</h2>
 * A node sends only on connections it opened itself, one per peer, made on the first
 * {@link #send} to that peer ({@link PeerLink}); on connections it accepted it only receives
 * frames (and sends acknowledgements back). One sending connection per peer is what gives per-peer
 * FIFO without ordering across sockets.
 *
 * <h2>Messages</h2>
 * Every message on a connection is u32 length + that many bytes, the first being its kind; at most
 * {@link #MAX_MESSAGE_LENGTH} bytes in all. Big-endian.
 * <pre>
 * 1 HELLO    client->server  u8 version, i64 stream id, nonce[32], u8 n, name[n]
 * 2 WELCOME  server->client  u8 version, i64 boot id, nonce[32], u8 n, name[n], server proof[32]
 * 3 PROOF    client->server  client proof[32]
 * 4 DATA     client->server  i64 sequence, one {@link MessageCodec} frame, mac[16]
 * 5 ACK      server->client  i64 sequence (all frames up to it delivered), mac[16]
 * </pre>
 *
 * <h2>Authentication</h2>
 * Both proofs are HMAC-SHA256 under the cluster key of a transcript of both nonces, both names,
 * the client's stream id and the server's boot id, each with its own label ({@link Handshake}), so
 * a proof cannot be replayed (fresh nonces), reflected (labels) or moved to another pair of nodes
 * (names). The client checks the server's proof, and that the server is the node it meant to reach,
 * before it says anything that depends on the key; the server checks the client's proof before
 * it reads any frame. A side that finds a bad proof logs one WARNING naming the remote address,
 * and closes; the server also warns when a client goes away after hearing its proof (the client
 * refused it: most likely the keys differ). After the handshake each direction has its own key
 * derived from the transcript, and every message carries a truncated HMAC over an implicit message
 * counter ({@link Session}): frames cannot be injected, altered, replayed or reordered. A bad MAC,
 * a malformed frame, an oversized length or a message of the wrong kind closes the connection with
 * a log line; nothing malformed ever reaches a {@link FrameHandler}.
 *
 * <h2>Reliability</h2>
 * A {@link PeerLink} numbers the frames it sends to its peer 1, 2, 3, ... within a stream that has
 * a random 64-bit id, and keeps each until the peer acknowledges it; after a broken connection it
 * reconnects (10 ms backoff doubling to 1 s) and sends the unacknowledged ones again, in order. The
 * receiver keeps, per sending node, the stream id and the last sequence delivered; it drops what
 * is not newer, and starts afresh when the stream id changes (the sender restarted, or forgot and
 * re-learned this node, which begins a new stream so that its sequence numbers can start over).
 * Acknowledgements are cumulative, one per read batch. A stream id is per peer rather than per
 * transport instance, for exactly that forget-then-send-again case.
 *
 * <h2>Threads</h2>
 * One event-loop thread runs every connection of this transport and calls every
 * {@link FrameHandler}: all connection, handshake and receive state is confined to it and needs no
 * lock. The only state shared with callers is each {@link PeerLink}'s queue, under its monitor.
 * Callers of {@link #send} encode on their own thread and hand the bytes over; one drain task per
 * burst writes them and flushes once.
 */
public final class NettyTransport implements Transport {
    /** A DATA message carrying the largest frame, with its length prefix. */
    static final int MAX_MESSAGE_LENGTH = 4 + 1 + 8 + MessageCodec.MAX_FRAME_LENGTH + Session.MAC_LENGTH;
    static final long HANDSHAKE_TIMEOUT_MILLIS = 5_000;
    static final byte HELLO = 1;
    static final byte WELCOME = 2;
    static final byte PROOF = 3;
    static final byte DATA = 4;
    static final byte ACK = 5;

    private static final Logger LOG = Logger.getLogger(NettyTransport.class.getName());

    final String nodeName;
    final byte[] nodeNameBytes;
    final long bootId;
    final ClusterKey key;
    final EventLoop loop;
    final Handshake handshake;
    final ChannelGroup channels;
    final Bootstrap clientBootstrap;
    private final RandomGenerator random;
    private final EventLoopGroup group;
    private final Channel serverChannel;
    private final InetSocketAddress localAddress;
    private final Map<Integer, FrameHandler> handlers = new ConcurrentHashMap<>();
    private final Map<String, PeerLink> links = new ConcurrentHashMap<>();
    /** Receive state per sending node; event loop only. */
    private final Map<String, InboundStream> inbound = new HashMap<>();
    private volatile boolean closed;

    private NettyTransport(String nodeName, InetSocketAddress bind, ClusterKey key, RandomGenerator random) throws IOException {
        this.nodeName = requireNonNull(nodeName, "nodeName");
        this.nodeNameBytes = Handshake.nameBytes(nodeName);
        this.key = requireNonNull(key, "key");
        this.random = requireNonNull(random, "random");
        this.bootId = nextLong();
        this.handshake = new Handshake(key);
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("concord-net-" + nodeName, true), NioIoHandler.newFactory());
        this.loop = group.next();
        this.channels = new DefaultChannelGroup("concord-net-" + nodeName, loop);
        var self = this;
        this.clientBootstrap = new Bootstrap().group(loop).channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 2_000);
        try {
            this.serverChannel = new ServerBootstrap().group(loop, loop).channel(NioServerSocketChannel.class)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.SO_KEEPALIVE, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(frameDecoder(), new ServerConnection(self));
                        }
                    })
                    .bind(bind).sync().channel();
        } catch (Exception e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IOException("cannot listen on " + bind + ": " + e.getMessage(), e);
        }
        this.localAddress = (InetSocketAddress) serverChannel.localAddress();
        LOG.fine(() -> "node " + nodeName + " listening on " + localAddress);
    }

    /**
     * Starts a transport listening on {@code bind} (port 0 picks a free one: see
     * {@link #localAddress}), with nonces and stream ids from a new {@link SecureRandom}.
     */
    public static NettyTransport start(String nodeName, InetSocketAddress bind, ClusterKey key) throws IOException {
        return start(nodeName, bind, key, new SecureRandom());
    }

    /**
     * As {@link #start(String, InetSocketAddress, ClusterKey)} with the given source of nonces; it
     * should be a {@link SecureRandom} outside tests, since predictable nonces allow replay.
     */
    public static NettyTransport start(String nodeName, InetSocketAddress bind, ClusterKey key, RandomGenerator random)
            throws IOException {
        return new NettyTransport(nodeName, bind, key, random);
    }

    static LengthFieldBasedFrameDecoder frameDecoder() {
        return new LengthFieldBasedFrameDecoder(MAX_MESSAGE_LENGTH, 0, 4, 0, 4);
    }

    @Override
    public String nodeName() {
        return nodeName;
    }

    @Override
    public InetSocketAddress localAddress() {
        return localAddress;
    }

    @Override
    public void register(int lockSpace, FrameHandler handler) {
        handlers.put(lockSpace, requireNonNull(handler, "handler"));
    }

    @Override
    public void unregister(int lockSpace) {
        handlers.remove(lockSpace);
    }

    @Override
    public void send(String peer, InetSocketAddress address, Frame frame) {
        requireNonNull(peer, "peer");
        requireNonNull(address, "address");
        // Encoded here: a message the codec refuses is the caller's bug and should fail in the caller.
        byte[] bytes = MessageCodec.encode(frame);
        if (closed) {
            LOG.fine(() -> "transport closed: frame for " + peer + " dropped");
            return;
        }
        while (true) {
            var link = links.computeIfAbsent(peer, p -> new PeerLink(this, p, nextLong()));
            if (link.offer(address, bytes)) {
                return;
            }
            links.remove(peer, link); // forgotten between lookup and offer: start a new stream
        }
    }

    @Override
    public void forget(String peer) {
        var link = links.remove(peer);
        if (link != null) {
            link.forget();
        }
        execute(() -> {
            inbound.remove(peer);
            for (var ch : channels) {
                if (ch.pipeline().get(ServerConnection.class) instanceof ServerConnection conn && peer.equals(conn.peer())) {
                    ch.close();
                }
            }
        });
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (var link : links.values()) {
            link.forget();
        }
        links.clear();
        try {
            serverChannel.close().await(2, TimeUnit.SECONDS);
            channels.close().await(2, TimeUnit.SECONDS);
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).await(4, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    boolean closed() {
        return closed;
    }

    long nextLong() {
        synchronized (random) {
            return random.nextLong();
        }
    }

    byte[] nonce() {
        var nonce = new byte[Handshake.NONCE_LENGTH];
        synchronized (random) {
            random.nextBytes(nonce);
        }
        return nonce;
    }

    void execute(Runnable task) {
        try {
            loop.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // Only once closed, when the task's work is moot.
        }
    }

    // ---- receiving, on the event loop ----

    /** A connection from {@code peer} authenticated for {@code streamId}: its receive state. */
    InboundStream opened(String peer, long streamId) {
        var stream = inbound.get(peer);
        if (stream == null || stream.id != streamId) {
            if (stream != null) {
                LOG.fine(() -> "peer " + peer + " began a new stream: its earlier one is over");
            }
            stream = new InboundStream(streamId);
            inbound.put(peer, stream);
        }
        return stream;
    }

    /** Whether {@code stream} is still the one frames from {@code peer} are accepted on. */
    boolean current(String peer, InboundStream stream) {
        return inbound.get(peer) == stream;
    }

    void deliver(String peer, InboundStream stream, long sequence, Frame frame) {
        if (!current(peer, stream) || sequence <= stream.delivered) {
            return; // superseded stream, or a frame sent again after a lost acknowledgement
        }
        if (stream.delivered != InboundStream.NONE && sequence != stream.delivered + 1) {
            LOG.warning("frames " + (stream.delivered + 1) + " to " + (sequence - 1) + " from " + peer + " never arrived");
        }
        stream.delivered = sequence;
        var handler = handlers.get(frame.lockSpace());
        if (handler == null) {
            LOG.fine(() -> "frame from " + peer + " for unknown lock space " + Integer.toHexString(frame.lockSpace()) + " dropped");
            return;
        }
        try {
            handler.received(peer, frame);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "handler for lock space " + Integer.toHexString(frame.lockSpace()) + " failed on a frame from " + peer, e);
        }
    }

    /** Test hook: breaks the sending connection to {@code peer}, as a network fault would. */
    void dropConnectionTo(String peer) {
        var link = links.get(peer);
        if (link != null) {
            execute(link::dropConnection);
        }
    }

    /** Test hook: how many connections to {@code peer} have completed their handshake. */
    int connectionsTo(String peer) {
        var link = links.get(peer);
        return link == null ? 0 : link.connections;
    }

    /** Per sending node: which stream frames are accepted on and how far it has been delivered. */
    static final class InboundStream {
        static final long NONE = Long.MIN_VALUE;
        final long id;
        /** The last sequence handed to a handler; NONE until the first, whatever its number (a restarted receiver). */
        long delivered = NONE;

        InboundStream(long id) {
            this.id = id;
        }
    }
}
