package io.concord.dlm.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Everything this node sends to one peer: one stream of numbered frames, kept until acknowledged,
 * over one connection at a time that it (re)makes itself.
 *
 * <p>Frames move {@code queued -> inFlight -> gone}: queued when sent, in flight once written on
 * the current connection, gone when acknowledged. When the connection breaks, the in-flight ones go
 * back to the head of the queue, to be written again on the next connection, in order. The monitor
 * guards {@code queued}, {@code inFlight}, the counters and flags below it; the connection fields
 * are confined to the event loop, which is also the only thread that moves frames out of the queue,
 * so writes happen in sequence order.
 */
final class PeerLink {
    /**
     * A peer that acknowledges nothing for this many frames is gone in all but name, and the DLM
     * has not said so ({@link Transport#forget}); past it new frames are dropped, with a warning,
     * rather than memory filled.
     */
    static final int MAX_UNACKNOWLEDGED = 1 << 18;
    static final long MIN_BACKOFF_MILLIS = 10;
    static final long MAX_BACKOFF_MILLIS = 1_000;

    private static final Logger LOG = Logger.getLogger(NettyTransport.class.getName());

    private record Pending(long sequence, byte[] frame) {}

    final String peer;
    final long streamId;
    private final NettyTransport transport;

    // Guarded by this.
    private final ArrayDeque<Pending> queued = new ArrayDeque<>();
    private final ArrayDeque<Pending> inFlight = new ArrayDeque<>();
    private InetSocketAddress address;
    private long lastSequence;
    private boolean drainScheduled;
    private boolean forgotten;
    private boolean overflowing;

    // Event loop only.
    private Channel channel;
    private Session session;
    private boolean connecting;
    private ScheduledFuture<?> reconnect;
    private long backoffMillis = MIN_BACKOFF_MILLIS;
    private boolean troubleLogged;
    /** Connections that completed their handshake: for tests. */
    volatile int connections;

    PeerLink(NettyTransport transport, String peer, long streamId) {
        this.transport = transport;
        this.peer = peer;
        this.streamId = streamId;
    }

    /** Queues one encoded frame; false if this link was forgotten (the caller makes a new one). */
    boolean offer(InetSocketAddress to, byte[] frame) {
        boolean schedule;
        synchronized (this) {
            if (forgotten) {
                return false;
            }
            address = to;
            if (queued.size() + inFlight.size() >= MAX_UNACKNOWLEDGED) {
                if (!overflowing) {
                    overflowing = true;
                    LOG.warning(peer + " has acknowledged none of the last " + MAX_UNACKNOWLEDGED
                            + " frames sent to it: dropping new ones until it catches up or is forgotten");
                }
                return true;
            }
            queued.add(new Pending(++lastSequence, frame));
            schedule = !drainScheduled;
            drainScheduled = true;
        }
        if (schedule) {
            transport.execute(this::drain);
        }
        return true;
    }

    /** Writes everything queued on the current connection, or starts making one. Event loop. */
    private void drain() {
        Pending[] batch;
        synchronized (this) {
            drainScheduled = false;
            if (forgotten || channel == null || queued.isEmpty()) {
                batch = null;
            } else {
                batch = queued.toArray(new Pending[0]);
                inFlight.addAll(queued);
                queued.clear();
            }
        }
        if (batch == null) {
            connectIfIdle();
            return;
        }
        var ch = channel;
        var alloc = ch.alloc();
        for (var p : batch) {
            var out = alloc.buffer(4 + 1 + 8 + p.frame.length + Session.MAC_LENGTH);
            session.seal(NettyTransport.DATA, p.sequence, p.frame, out);
            ch.write(out, ch.voidPromise());
        }
        ch.flush();
    }

    private void connectIfIdle() {
        InetSocketAddress to;
        synchronized (this) {
            if (forgotten || transport.closed() || channel != null || connecting || reconnect != null
                    || queued.isEmpty() && inFlight.isEmpty()) {
                return;
            }
            to = address;
        }
        connecting = true;
        var self = this;
        ChannelFuture f = transport.clientBootstrap.clone().handler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ch.pipeline().addLast(NettyTransport.frameDecoder(), new ClientConnection(transport, self));
            }
        }).connect(to);
        f.addListener(done -> {
            if (!done.isSuccess()) {
                connecting = false;
                trouble(Level.INFO, "cannot connect to " + peer + " at " + to + ": " + done.cause());
                scheduleReconnect();
            }
        });
    }

    /** The handshake on {@code ch} succeeded: send on it. Event loop. */
    void attached(Channel ch, Session s) {
        synchronized (this) {
            if (forgotten) {
                ch.close();
                return;
            }
        }
        connecting = false;
        channel = ch;
        session = s;
        connections++;
        backoffMillis = MIN_BACKOFF_MILLIS;
        if (troubleLogged) {
            LOG.info("connected to " + peer + " at " + ch.remoteAddress() + " again");
        }
        troubleLogged = false;
        drain();
    }

    /** The peer refused {@code ch}'s handshake or broke the protocol on it: one warning, then retry. Event loop. */
    void refused(Channel ch, String why) {
        trouble(Level.WARNING, "refused " + peer + " at " + ch.remoteAddress() + ": " + why);
        detached(ch, null);
    }

    /** {@code ch} is gone: its unacknowledged frames wait for the next connection. Event loop. */
    void detached(Channel ch, String why) {
        if (channel != null && channel != ch) {
            return; // an older connection, already replaced
        }
        if (why != null) {
            LOG.fine(() -> "to " + peer + ": " + why);
        }
        channel = null;
        session = null;
        connecting = false;
        synchronized (this) {
            for (var it = inFlight.descendingIterator(); it.hasNext(); ) {
                queued.addFirst(it.next());
            }
            inFlight.clear();
        }
        scheduleReconnect();
    }

    /** The peer has delivered everything up to {@code sequence}. Event loop. */
    void acknowledged(long sequence) {
        synchronized (this) {
            while (!inFlight.isEmpty() && inFlight.peekFirst().sequence <= sequence) {
                inFlight.pollFirst();
            }
            while (!queued.isEmpty() && queued.peekFirst().sequence <= sequence) {
                queued.pollFirst();
            }
            if (overflowing && queued.size() + inFlight.size() < MAX_UNACKNOWLEDGED / 2) {
                overflowing = false;
                LOG.info(peer + " is acknowledging frames again");
            }
        }
    }

    private void scheduleReconnect() {
        if (reconnect != null || transport.closed()) {
            return;
        }
        synchronized (this) {
            if (forgotten || queued.isEmpty() && inFlight.isEmpty()) {
                return; // nothing to send: connect again on the next send
            }
        }
        long delay = backoffMillis;
        backoffMillis = Math.min(backoffMillis * 2, MAX_BACKOFF_MILLIS);
        reconnect = transport.loop.schedule(() -> {
            reconnect = null;
            connectIfIdle();
        }, delay, TimeUnit.MILLISECONDS);
    }

    /** The first failure in a run is logged at {@code level}, the rest quietly: a dead peer would flood the log. */
    private void trouble(Level level, String message) {
        if (!troubleLogged) {
            troubleLogged = true;
            LOG.log(level, message);
        } else {
            LOG.fine(message);
        }
    }

    /** Drops everything and stops; from any thread. */
    void forget() {
        synchronized (this) {
            forgotten = true;
            queued.clear();
            inFlight.clear();
        }
        transport.execute(() -> {
            if (reconnect != null) {
                reconnect.cancel(false);
                reconnect = null;
            }
            if (channel != null) {
                channel.close();
            }
        });
    }

    /** Test hook. Event loop. */
    void dropConnection() {
        if (channel != null) {
            channel.close();
        }
    }
}
