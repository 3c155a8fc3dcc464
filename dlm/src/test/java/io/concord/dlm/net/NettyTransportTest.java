package io.concord.dlm.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.concord.dlm.LockMode;
import io.concord.dlm.LockValueBlock;
import io.concord.dlm.ResourceName;
import io.concord.dlm.wire.Frame;
import io.concord.dlm.wire.Message;
import io.concord.dlm.wire.MessageCodec;
import io.netty.buffer.Unpooled;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class NettyTransportTest {
    private static final int SPACE = Frame.lockSpaceId("test");
    private static final ResourceName RESOURCE = new ResourceName(ResourceName.INODE, 1);
    private static final InetSocketAddress ANY = new InetSocketAddress("127.0.0.1", 0);
    private static final Duration LIMIT = Duration.ofSeconds(60);

    private final List<NettyTransport> transports = new ArrayList<>();
    private final List<LogRecord> log = new CopyOnWriteArrayList<>();
    private final Logger logger = Logger.getLogger(NettyTransport.class.getName());
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            log.add(r);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };
    private ClusterKey key;

    @BeforeEach
    void setUp() {
        key = key(1);
        logger.addHandler(capture);
    }

    @AfterEach
    void tearDown() {
        transports.forEach(NettyTransport::close);
        logger.removeHandler(capture);
        logger.setLevel(null);
    }

    private static ClusterKey key(int seed) {
        var bytes = new byte[64];
        new Random(seed).nextBytes(bytes);
        return ClusterKey.of(bytes);
    }

    private NettyTransport start(String name, ClusterKey k) throws IOException {
        var t = NettyTransport.start(name, ANY, k, new SplittableRandom(name.hashCode()));
        transports.add(t);
        return t;
    }

    private static Frame request(long id) {
        return new Frame(SPACE, 1, 2, new Message.Request(id, RESOURCE, LockMode.EX, false));
    }

    /** Counts frames per peer and notes any that arrive out of order (ids must run 0, 1, 2, ...). */
    static final class Recorder implements FrameHandler {
        final Map<String, AtomicLong> next = new ConcurrentHashMap<>();
        final Queue<String> errors = new ConcurrentLinkedQueue<>();
        final AtomicLong total = new AtomicLong();

        @Override
        public void received(String peer, Frame frame) {
            long id = ((Message.Request) frame.message()).lockId();
            var expected = next.computeIfAbsent(peer, p -> new AtomicLong());
            if (id != expected.get() && errors.size() < 10) {
                errors.add(peer + ": expected " + expected.get() + ", got " + id);
            }
            expected.set(id + 1);
            total.incrementAndGet();
        }

        long from(String peer) {
            var n = next.get(peer);
            return n == null ? 0 : n.get();
        }
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what);
            }
            Thread.sleep(1);
        }
    }

    private long warningsContaining(String text) {
        return log.stream().filter(r -> r.getLevel().intValue() >= Level.WARNING.intValue() && r.getMessage().contains(text)).count();
    }

    @Test
    void framesArriveInOrderExactlyOnceFromSeveralPeers() {
        assertTimeoutPreemptively(LIMIT, () -> {
            var a = start("a", key);
            var b = start("b", key);
            var c = start("c", key);
            var atC = new Recorder();
            var atA = new Recorder();
            c.register(SPACE, atC);
            a.register(SPACE, atA);
            int n = 100_000;
            var senders = List.of(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < n; i++) {
                    a.send("c", c.localAddress(), request(i));
                }
            }), Thread.ofPlatform().start(() -> {
                for (int i = 0; i < n; i++) {
                    b.send("c", c.localAddress(), request(i));
                }
            }));
            for (int i = 0; i < 1000; i++) {
                c.send("a", a.localAddress(), request(i));
            }
            for (var t : senders) {
                t.join();
            }
            await("all frames at c", () -> atC.total.get() >= 2L * n || !atC.errors.isEmpty());
            await("all frames at a", () -> atA.total.get() >= 1000 || !atA.errors.isEmpty());
            assertEquals(List.of(), List.copyOf(atC.errors));
            assertEquals(List.of(), List.copyOf(atA.errors));
            Thread.sleep(50); // anything extra would be a duplicate
            assertEquals(2L * n, atC.total.get());
            assertEquals(n, atC.from("a"));
            assertEquals(n, atC.from("b"));
            assertEquals(1000, atA.total.get());
        });
    }

    @Test
    void droppedConnectionsLoseAndDuplicateNothing() {
        assertTimeoutPreemptively(LIMIT, () -> {
            var a = start("a", key);
            var b = start("b", key);
            var atB = new Recorder();
            b.register(SPACE, atB);
            int rounds = 10;
            int perRound = 6_000;
            int n = rounds * perRound;
            for (int round = 0; round < rounds; round++) {
                for (int i = round * perRound; i < (round + 1) * perRound; i++) {
                    a.send("b", b.localAddress(), request(i));
                }
                int connected = round + 1;
                long some = (long) round * perRound + 100;
                // Break the connection once it is up and part of this round is through: the rest is in flight.
                await("connection " + connected, () -> a.connectionsTo("b") >= connected);
                await("part of round " + round, () -> atB.total.get() >= some || !atB.errors.isEmpty());
                a.dropConnectionTo("b");
            }
            await("all frames at b", () -> atB.total.get() >= n || !atB.errors.isEmpty());
            Thread.sleep(100);
            assertEquals(List.of(), List.copyOf(atB.errors));
            assertEquals(n, atB.total.get());
            assertTrue(a.connectionsTo("b") > rounds, "connections were really broken and re-made: " + a.connectionsTo("b"));
        });
    }

    @Test
    void wrongKeyPeersAreRefusedBothWaysAndLogged() {
        assertTimeoutPreemptively(LIMIT, () -> {
            var a = start("a", key);
            var b = start("b", key(2));
            var good = start("good", key);
            var atA = new Recorder();
            var atB = new Recorder();
            a.register(SPACE, atA);
            b.register(SPACE, atB);
            a.send("b", b.localAddress(), request(0));
            b.send("a", a.localAddress(), request(0));
            // a (client) refuses b's proof; b (server) sees a leave during the handshake; and the same the other way.
            await("refusals logged", () -> warningsContaining("refused a at") >= 1 && warningsContaining("refused b at") >= 1
                    && warningsContaining("closed during the handshake") >= 2);
            good.send("a", a.localAddress(), request(0));
            await("good peer delivered", () -> atA.total.get() == 1);
            Thread.sleep(200);
            assertEquals(0, atB.total.get());
            assertEquals(1, atA.total.get());
            assertEquals(1, atA.from("good"));
            for (var r : log) {
                assertTrue(!r.getMessage().contains("ClusterKey[") || r.getMessage().contains("bytes]"), "no key in the log");
            }
        });
    }

    @Test
    void badInputClosesOnlyItsOwnConnection() {
        assertTimeoutPreemptively(LIMIT, () -> {
            var a = start("a", key);
            var b = start("b", key);
            var atB = new Recorder();
            b.register(SPACE, atB);
            long[] sent = {0};
            Runnable goodPeerStillServed = () -> {
                try {
                    a.send("b", b.localAddress(), request(sent[0]++));
                    await("good frame " + sent[0], () -> atB.from("a") == sent[0]);
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            };
            goodPeerStillServed.run();

            var garbage = new byte[1000];
            new Random(7).nextBytes(garbage);
            assertClosedAfter(b, garbage);
            goodPeerStillServed.run();

            assertClosedAfter(b, new byte[] {0x7F, (byte) 0xFF, (byte) 0xFF, 0x00, 1, 1});
            goodPeerStillServed.run();

            assertClosedAfter(b, new byte[] {0, 0, 0, 100, 1, 1, 0, 0, 0, 0}); // then EOF: a truncated message
            goodPeerStillServed.run();

            assertClosedAfter(b, new byte[] {0, 0, 0, 0}); // an empty message
            goodPeerStillServed.run();

            try (var raw = RawPeer.connect(b, key, "raw", 99)) {
                raw.sendData(1, MessageCodec.encode(request(0)), false);
                await("raw peer's good frame", () -> atB.from("raw") == 1);
                raw.sendData(2, MessageCodec.encode(request(1)), true); // MAC broken
                raw.assertClosed();
            }
            goodPeerStillServed.run();

            try (var raw = RawPeer.connect(b, key, "raw", 100)) {
                byte[] bad = MessageCodec.encode(request(0));
                bad[4] = 9; // authenticated, but not a frame: version 9
                raw.sendData(1, bad, false);
                raw.assertClosed();
            }
            goodPeerStillServed.run();

            assertThrows(IOException.class, () -> RawPeer.connect(b, key(3), "raw", 101).close(),
                    "a peer with another key must not get through the handshake");
            goodPeerStillServed.run();

            assertEquals(1, atB.from("raw"), "nothing but the raw peer's one good frame got through");
            assertTrue(warningsContaining("failed its authentication check") >= 1);
            assertTrue(warningsContaining("unknown frame version") >= 1);
            assertTrue(warningsContaining("TooLongFrameException") >= 1);
        });
    }

    private static void assertClosedAfter(NettyTransport target, byte[] bytes) throws IOException {
        try (var s = new Socket()) {
            s.connect(target.localAddress(), 2_000);
            s.getOutputStream().write(bytes);
            s.shutdownOutput();
            s.setSoTimeout(4_000);
            assertEquals(-1, drain(s.getInputStream()), "server closed the connection");
        }
    }

    /** Reads until EOF (what the tests wait for); a timeout fails. */
    private static int drain(InputStream in) throws IOException {
        try {
            while (in.read() != -1) {
                // the server may have answered something before closing
            }
            return -1;
        } catch (SocketTimeoutException e) {
            return 0;
        } catch (IOException reset) {
            return -1;
        }
    }

    @Test
    void forgettingAPeerAndSendingAgainStartsAFreshStream() {
        assertTimeoutPreemptively(LIMIT, () -> {
            var a = start("a", key);
            var b = start("b", key);
            var atB = new Recorder();
            b.register(SPACE, atB);
            for (int i = 0; i < 10; i++) {
                a.send("b", b.localAddress(), request(i));
            }
            await("first ten", () -> atB.total.get() == 10);
            a.forget("b");
            for (int i = 10; i < 20; i++) {
                a.send("b", b.localAddress(), request(i));
            }
            // A new stream's numbers start again at 1: b must not take them for duplicates of the first ten.
            await("next ten", () -> atB.total.get() == 20 || !atB.errors.isEmpty());
            assertEquals(List.of(), List.copyOf(atB.errors));
            assertEquals(20, atB.from("a"));
        });
    }

    @Test
    void aDeadPeerNeitherBlocksSendNorIsRetriedAfterForget() {
        assertTimeoutPreemptively(LIMIT, () -> {
            logger.setLevel(Level.FINE);
            var a = start("a", key);
            InetSocketAddress dead;
            try (var s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                dead = new InetSocketAddress("127.0.0.1", s.getLocalPort());
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < 20_000; i++) {
                a.send("dead", dead, request(i));
            }
            long sendMillis = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(sendMillis < 5_000, "send blocked: " + sendMillis + " ms");
            await("several retries", () -> attemptsToConnect() >= 4);
            assertEquals(1, log.stream().filter(r -> r.getLevel() == Level.INFO && r.getMessage().startsWith("cannot connect to dead")).count(),
                    "one line at INFO, the retries quieter");
            a.forget("dead");
            Thread.sleep(100);
            long after = attemptsToConnect();
            Thread.sleep(1_500); // longer than the longest backoff
            assertEquals(after, attemptsToConnect(), "no retries after forget");
        });
    }

    private long attemptsToConnect() {
        return log.stream().filter(r -> r.getMessage().startsWith("cannot connect to dead")).count();
    }

    @Test
    void framesForUnknownLockSpacesAreDroppedAndOthersStillFlow() {
        assertTimeoutPreemptively(LIMIT, () -> {
            var a = start("a", key);
            var b = start("b", key);
            var atB = new Recorder();
            b.register(SPACE, atB);
            a.send("b", b.localAddress(), new Frame(SPACE + 1, 1, 2, new Message.Request(99, RESOURCE, LockMode.EX, false)));
            a.send("b", b.localAddress(), request(0));
            await("known lock space", () -> atB.total.get() == 1);
            b.unregister(SPACE);
            a.send("b", b.localAddress(), request(1));
            // Frames from one peer are handled in order: once this marker is in, frame 1 has been dropped.
            var marker = new Recorder();
            b.register(SPACE + 2, marker);
            a.send("b", b.localAddress(), new Frame(SPACE + 2, 1, 2, new Message.Request(0, RESOURCE, LockMode.EX, false)));
            await("marker", () -> marker.total.get() == 1);
            b.register(SPACE, atB);
            a.send("b", b.localAddress(), request(2));
            await("after re-registering", () -> atB.total.get() == 2);
            assertEquals(List.of("a: expected 1, got 2"), List.copyOf(atB.errors), "frame 1 was dropped, frame 2 delivered");
        });
    }

    @Test
    void closeStopsEveryThread() {
        assertTimeoutPreemptively(LIMIT, () -> {
            var a = start("closer-a", key);
            var b = start("closer-b", key);
            var atB = new Recorder();
            b.register(SPACE, atB);
            a.send("closer-b", b.localAddress(), request(0));
            await("delivered", () -> atB.total.get() == 1);
            a.close();
            b.close();
            a.send("closer-b", b.localAddress(), request(1)); // after close: dropped, no exception
            await("threads gone", () -> Thread.getAllStackTraces().keySet().stream()
                    .noneMatch(t -> t.isAlive() && t.getName().startsWith("concord-net-closer")));
        });
    }

    /** Not an assertion on speed (machines vary): prints what a DLM grant would cost in transport. */
    @Test
    void pingPongLatencyAndThroughput() {
        assertTimeoutPreemptively(LIMIT, () -> {
            var a = start("a", key);
            var b = start("b", key);
            var lvb = LockValueBlock.EMPTY;
            var aAddress = a.localAddress();
            b.register(SPACE, (peer, frame) -> {
                var r = (Message.Request) frame.message();
                b.send(peer, aAddress, new Frame(SPACE, 1, 3, new Message.Granted(r.lockId(), r.resource(), r.mode(), lvb)));
            });
            var granted = new AtomicLong();
            var pending = new java.util.concurrent.ConcurrentHashMap<Long, Thread>();
            a.register(SPACE, (peer, frame) -> {
                granted.incrementAndGet();
                var waiter = pending.remove(((Message.Granted) frame.message()).lockId());
                if (waiter != null) {
                    java.util.concurrent.locks.LockSupport.unpark(waiter);
                }
            });
            // Round trips one at a time.
            int rounds = 20_000;
            long[] nanos = new long[rounds];
            for (int i = 0; i < rounds; i++) {
                long id = i;
                pending.put(id, Thread.currentThread());
                long t0 = System.nanoTime();
                a.send("b", b.localAddress(), request(id));
                while (pending.containsKey(id)) {
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
                }
                nanos[i] = System.nanoTime() - t0;
            }
            Arrays.sort(nanos, rounds / 4, rounds); // the first quarter is warm-up
            long median = nanos[rounds / 4 + (rounds * 3 / 4) / 2];
            long p99 = nanos[rounds / 4 + (int) ((rounds * 3 / 4) * 0.99)];
            // 64 requesters, each waiting for its answer before asking again.
            int requesters = 64;
            int perRequester = 3_000;
            long before = granted.get();
            long t0 = System.nanoTime();
            var threads = new ArrayList<Thread>();
            for (int r = 0; r < requesters; r++) {
                long base = 1_000_000L * (r + 1);
                threads.add(Thread.ofPlatform().start(() -> {
                    for (int i = 0; i < perRequester; i++) {
                        long id = base + i;
                        pending.put(id, Thread.currentThread());
                        a.send("b", b.localAddress(), request(id));
                        while (pending.containsKey(id)) {
                            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
                        }
                    }
                }));
            }
            for (var t : threads) {
                t.join();
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            long done = granted.get() - before;
            assertEquals((long) requesters * perRequester, done);
            System.out.printf("transport round trip over loopback: median %.1f us, p99 %.1f us; 64 requesters: %.0f round trips/s%n",
                    median / 1e3, p99 / 1e3, done / seconds);
        });
    }

    /** A hand-driven client: the protocol from outside, to send what a NettyTransport never would. */
    static final class RawPeer implements AutoCloseable {
        private final Socket socket;
        private final DataInputStream in;
        private final DataOutputStream out;
        private final Session session;

        private RawPeer(Socket socket, Session session) throws IOException {
            this.socket = socket;
            this.in = new DataInputStream(socket.getInputStream());
            this.out = new DataOutputStream(socket.getOutputStream());
            this.session = session;
        }

        static RawPeer connect(NettyTransport target, ClusterKey key, String name, long stream) throws IOException {
            var socket = new Socket();
            socket.connect(target.localAddress(), 2_000);
            socket.setSoTimeout(4_000);
            var in = new DataInputStream(socket.getInputStream());
            var out = new DataOutputStream(socket.getOutputStream());
            byte[] nonce = new byte[Handshake.NONCE_LENGTH];
            new Random(stream).nextBytes(nonce);
            byte[] nameBytes = Handshake.nameBytes(name);
            out.writeInt(1 + 1 + 8 + nonce.length + 1 + nameBytes.length);
            out.writeByte(NettyTransport.HELLO);
            out.writeByte(Handshake.PROTOCOL_VERSION);
            out.writeLong(stream);
            out.write(nonce);
            out.writeByte(nameBytes.length);
            out.write(nameBytes);
            out.flush();
            byte[] welcome = new byte[in.readInt()];
            in.readFully(welcome);
            var w = java.nio.ByteBuffer.wrap(welcome);
            w.get(); // kind
            w.get(); // version
            long boot = w.getLong();
            byte[] serverNonce = new byte[Handshake.NONCE_LENGTH];
            w.get(serverNonce);
            byte[] serverName = new byte[w.get() & 0xFF];
            w.get(serverName);
            byte[] proof = new byte[Handshake.PROOF_LENGTH];
            w.get(proof);
            var handshake = new Handshake(key);
            byte[] transcript = Handshake.transcript(nonce, serverNonce, stream, boot, nameBytes, serverName);
            if (!Arrays.equals(proof, handshake.serverProof(transcript))) {
                socket.close();
                throw new IOException("server proof does not check out");
            }
            out.writeInt(1 + Handshake.PROOF_LENGTH);
            out.writeByte(NettyTransport.PROOF);
            out.write(handshake.clientProof(transcript));
            out.flush();
            return new RawPeer(socket, new Session(handshake.clientToServerKey(transcript), handshake.serverToClientKey(transcript)));
        }

        void sendData(long sequence, byte[] frame, boolean breakMac) throws IOException {
            var buf = Unpooled.buffer();
            session.seal(NettyTransport.DATA, sequence, frame, buf);
            byte[] bytes = new byte[buf.readableBytes()];
            buf.readBytes(bytes);
            if (breakMac) {
                bytes[bytes.length - 1] ^= 1;
            }
            out.write(bytes);
            out.flush();
        }

        void assertClosed() throws IOException {
            assertEquals(-1, drain(in), "server closed the connection");
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
