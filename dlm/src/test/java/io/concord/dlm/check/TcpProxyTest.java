package io.concord.dlm.check;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.RetryForever;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TcpProxyTest {
    @Test
    @Timeout(30)
    void forwardsBytesAndBlackholesNewConnectionsWhileCut() throws Exception {
        try (ServerSocket echo = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Thread server = Thread.ofVirtual().start(() -> {
                while (true) {
                    try {
                        Socket s = echo.accept();
                        Thread.ofVirtual().start(() -> {
                            try (s) {
                                s.getInputStream().transferTo(s.getOutputStream());
                            } catch (Exception e) {
                                // the client went away
                            }
                        });
                    } catch (Exception e) {
                        return;
                    }
                }
            });
            try (TcpProxy proxy = new TcpProxy("127.0.0.1", echo.getLocalPort())) {
                assertEquals("hello", roundTrip(proxy.port(), "hello", 5000));
                proxy.cut();
                Socket held = new Socket("127.0.0.1", proxy.port()); // accepted, then silence
                held.setSoTimeout(300);
                held.getOutputStream().write(1);
                assertTrue(readTimesOut(held.getInputStream()), "a blackholed connection answered");
                proxy.restore();
                assertEquals(1, held.getInputStream().read(), "the held connection was not forwarded after restore");
                held.close();
                assertEquals("again", roundTrip(proxy.port(), "again", 5000));
            }
            echo.close();
            server.join(5000);
        }
    }

    private static boolean readTimesOut(InputStream in) throws Exception {
        try {
            in.read();
            return false;
        } catch (SocketTimeoutException e) {
            return true;
        }
    }

    private static String roundTrip(int port, String text, int timeoutMillis) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(timeoutMillis);
            OutputStream out = s.getOutputStream();
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            out.write(bytes);
            byte[] back = s.getInputStream().readNBytes(bytes.length);
            assertArrayEquals(bytes, back);
            return new String(back, StandardCharsets.UTF_8);
        }
    }

    @ParameterizedTest
    @EnumSource(TcpProxy.CutMode.class)
    @Timeout(90)
    void zooKeeperClientThroughTheProxySuspendsWhenCutAndReconnectsWhenRestored(TcpProxy.CutMode mode) throws Exception {
        try (TestingServer zk = new TestingServer(true);
             TcpProxy proxy = new TcpProxy("127.0.0.1", zk.getPort());
             CuratorFramework client = CuratorFrameworkFactory.builder().connectString(proxy.address())
                     .sessionTimeoutMs(6_000).connectionTimeoutMs(2_000).retryPolicy(new RetryForever(200)).build()) {
            BlockingQueue<ConnectionState> states = new LinkedBlockingQueue<>();
            client.getConnectionStateListenable().addListener((c, state) -> states.add(state));
            client.start();
            assertTrue(client.blockUntilConnected(20, TimeUnit.SECONDS), "no connection through the proxy");
            client.create().forPath("/through-proxy", new byte[] {1});
            assertEquals(ConnectionState.CONNECTED, states.poll(5, TimeUnit.SECONDS));

            long cutAt = System.nanoTime();
            proxy.cut(mode);
            assertEquals(ConnectionState.SUSPENDED, states.poll(15, TimeUnit.SECONDS), "no SUSPENDED after cut(" + mode + ")");
            System.out.printf("%s: SUSPENDED after %d ms%n", mode, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cutAt));

            proxy.restore();
            ConnectionState next;
            do { // a session that expired meanwhile shows as LOST before the new session's RECONNECTED
                next = states.poll(30, TimeUnit.SECONDS);
                assertNotNull(next, "no RECONNECTED after restore()");
            } while (next != ConnectionState.RECONNECTED);
            assertArrayEquals(new byte[] {1}, client.getData().forPath("/through-proxy"));
        }
    }
}
