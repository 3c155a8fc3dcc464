package io.concord.dlm.check;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP forwarder on loopback that a test can cut, to take one node off a server (ZooKeeper, a
 * peer) without touching the others: point that node's client at {@link #port()} instead of the
 * server.
 *
 * <p>Blocking I/O, two pump threads per connection plus an accept thread, all daemons. Every
 * blocking call is on a socket that {@link #close()} closes, so close returns once the threads
 * have seen it (bounded by a join timeout).
 *
 * <p>Lock order: {@code this} guards the mode and the connection sets; pumps only take it to wait
 * while frozen, never while blocked on I/O.
 */
public final class TcpProxy implements AutoCloseable {
    /** How a {@link #cut} treats connections. */
    public enum CutMode {
        /**
         * Open connections are closed; new ones are accepted and then ignored, so the client
         * sees its connect succeed and then a timeout, as behind a lost route. The default.
         */
        BLACKHOLE,
        /** Open connections are reset; new ones are accepted and reset at once. */
        REFUSE,
        /**
         * Open connections are kept but nothing crosses them; new ones are accepted and ignored. A
         * partition: on {@link #restore()} the data held in the socket buffers goes through.
         */
        FREEZE
    }

    private static final Duration JOIN = Duration.ofSeconds(5);

    private final InetSocketAddress target;
    private final ServerSocket listener;
    private final Thread acceptor;
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    // Guarded by this.
    private CutMode cut; // null while forwarding
    private final List<Socket> held = new ArrayList<>();
    private boolean closed;

    /** Listens on an ephemeral loopback port and forwards to {@code targetHost:targetPort}. */
    public TcpProxy(String targetHost, int targetPort) throws IOException {
        this(0, new InetSocketAddress(targetHost, targetPort));
    }

    /** Listens on loopback {@code listenPort} (0 for any) and forwards to {@code target}. */
    public TcpProxy(int listenPort, InetSocketAddress target) throws IOException {
        this.target = Objects.requireNonNull(target, "target");
        this.listener = new ServerSocket();
        listener.setReuseAddress(true);
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), listenPort));
        this.acceptor = Thread.ofPlatform().daemon().name("tcp-proxy-accept-" + port()).start(this::acceptLoop);
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** {@code 127.0.0.1:port}, the connect string a client uses to go through the proxy. */
    public String address() {
        return InetAddress.getLoopbackAddress().getHostAddress() + ":" + port();
    }

    /** Cuts in {@link CutMode#BLACKHOLE} mode. */
    public void cut() {
        cut(CutMode.BLACKHOLE);
    }

    public void cut(CutMode mode) {
        Objects.requireNonNull(mode, "mode");
        List<Connection> dropped = new ArrayList<>();
        synchronized (this) {
            cut = mode;
            if (mode != CutMode.FREEZE) {
                dropped.addAll(connections);
            }
            if (mode == CutMode.REFUSE) {
                held.forEach(TcpProxy::reset);
                held.clear();
            }
        }
        dropped.forEach(c -> c.close(mode == CutMode.REFUSE));
    }

    /** Forwards again: frozen connections resume, and connections accepted while cut are connected onward. */
    public void restore() {
        List<Socket> waiting;
        synchronized (this) {
            cut = null;
            waiting = new ArrayList<>(held);
            held.clear();
            notifyAll();
        }
        waiting.forEach(this::connectOnward);
    }

    public synchronized boolean isCut() {
        return cut != null;
    }

    /** How many connections are being forwarded (or frozen) now. */
    public int openConnections() {
        return connections.size();
    }

    @Override
    public void close() {
        List<Socket> waiting;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            waiting = new ArrayList<>(held);
            held.clear();
            notifyAll();
        }
        quietly(listener);
        waiting.forEach(TcpProxy::quietly);
        List<Connection> open = new ArrayList<>(connections);
        open.forEach(c -> c.close(false));
        join(acceptor);
        open.forEach(Connection::join);
    }

    private void acceptLoop() {
        while (true) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return; // closed
            }
            CutMode mode;
            synchronized (this) {
                if (closed) {
                    quietly(client);
                    return;
                }
                mode = cut;
                if (mode == CutMode.BLACKHOLE || mode == CutMode.FREEZE) {
                    held.add(client);
                    continue;
                }
            }
            if (mode == CutMode.REFUSE) {
                reset(client);
            } else {
                connectOnward(client);
            }
        }
    }

    private void connectOnward(Socket client) {
        Socket server = new Socket();
        try {
            server.connect(target, (int) JOIN.toMillis());
            client.setTcpNoDelay(true);
            server.setTcpNoDelay(true);
        } catch (IOException e) {
            reset(client); // the client sees what it would have seen from the server: no service
            quietly(server);
            return;
        }
        Connection c = new Connection(client, server);
        connections.add(c);
        synchronized (this) {
            if (closed || cut == CutMode.BLACKHOLE || cut == CutMode.REFUSE) {
                c.close(cut == CutMode.REFUSE); // cut while connecting
                return;
            }
        }
        c.start();
    }

    /** Blocks while frozen; false once the proxy is closed. */
    private synchronized boolean awaitFlowing() throws InterruptedException {
        while (cut == CutMode.FREEZE && !closed) {
            wait();
        }
        return !closed;
    }

    private final class Connection {
        final Socket client;
        final Socket server;
        final List<Thread> pumps = new ArrayList<>(2);

        Connection(Socket client, Socket server) {
            this.client = client;
            this.server = server;
        }

        void start() {
            pumps.add(Thread.ofPlatform().daemon().name("tcp-proxy-up-" + port()).start(() -> pump(client, server)));
            pumps.add(Thread.ofPlatform().daemon().name("tcp-proxy-down-" + port()).start(() -> pump(server, client)));
        }

        private void pump(Socket from, Socket to) {
            byte[] buffer = new byte[16 * 1024];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                while (awaitFlowing()) {
                    int n = in.read(buffer);
                    if (n < 0) {
                        break;
                    }
                    // Freezing between the read and the write holds the bytes back, as a partition would.
                    if (!awaitFlowing()) {
                        break;
                    }
                    out.write(buffer, 0, n);
                }
            } catch (IOException | InterruptedException e) {
                // the other pump or a cut closed the sockets
            }
            close(false);
        }

        void close(boolean reset) {
            if (connections.remove(this)) {
                if (reset) {
                    TcpProxy.reset(client);
                    TcpProxy.reset(server);
                } else {
                    quietly(client);
                    quietly(server);
                }
            }
        }

        void join() {
            pumps.forEach(TcpProxy::join);
        }
    }

    private static void reset(Socket socket) {
        try {
            socket.setSoLinger(true, 0); // RST rather than FIN: the peer sees "connection reset"
        } catch (SocketException e) {
            // already closed
        }
        quietly(socket);
    }

    private static void quietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            // closing is all we wanted
        }
    }

    private static void join(Thread t) {
        try {
            if (!t.join(JOIN)) {
                throw new IllegalStateException(t.getName() + " did not stop within " + JOIN);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UncheckedIOException(new IOException("interrupted while closing the proxy", e));
        }
    }
}
