import io.concord.dlm.ClusterConfig;
import io.concord.dlm.ClusterLockManager;
import io.concord.dlm.ClusterLockSpace;
import io.concord.dlm.EmbeddedZooKeeper;
import io.concord.dlm.Lock;
import io.concord.dlm.LockMode;
import io.concord.dlm.ResourceName;
import io.concord.dlm.net.ClusterKey;
import io.concord.dlm.net.FrameHandler;
import io.concord.dlm.net.NettyTransport;
import io.concord.dlm.wire.Frame;
import io.concord.dlm.wire.Message;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The DLM benchmark (bench/dlm runs it): two DLM nodes in this JVM on loopback, one embedded
 * ZooKeeper server, and a reference: the bare transport's round trip between the same two nodes.
 * Prints `name value` lines on stdout, progress on stderr.
 */
public class DlmBench {
    static final Duration TIMEOUT = Duration.ofSeconds(30);

    public static void main(String[] args) {
        int status = 1;
        try {
            run();
            status = 0;
        } catch (Throwable e) {
            e.printStackTrace();
        } finally {
            // ZooKeeper and Netty leave non-daemon threads behind a failure: never hang the script.
            System.exit(status);
        }
    }

    static void run() throws Exception {
        Path dir = Files.createTempDirectory("concord-dlm-bench");
        Path key = dir.resolve("authkey");
        ClusterKey.generate(key, new SecureRandom());
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(dir.resolve("zk"), new InetSocketAddress("127.0.0.1", 0))) {
            double rtt = transportRoundTrip(key);
            print("loopback_rtt_median_us", rtt);
            try (ClusterLockManager a = ClusterLockManager.start(ClusterConfig.loopback("bench", "a", zk.connectString(), key));
                 ClusterLockManager b = ClusterLockManager.start(ClusterConfig.loopback("bench", "b", zk.connectString(), key))) {
                ClusterLockSpace sa = a.openLockSpace("bench");
                ClusterLockSpace sb = b.openLockSpace("bench");
                List<ResourceName> onA = mastered(sa, sa, 1, 0);
                List<ResourceName> onB = mastered(sa, sb, 10_000, 1_000_000);

                print("cached_acquire_ns", cachedAcquire(sa, onA.getFirst()));
                double[] remote = remoteGrant(sa, onB);
                print("remote_grant_median_us", remote[0]);
                print("remote_grant_p99_us", remote[1]);
                print("remote_grant_vs_rtt", remote[0] / rtt);
                print("pingpong_median_us", pingPong(sa, sb, onB.get(7)));
                print("grants_per_s", throughput(sa, onB.subList(0, 64)));
            }
        }
    }

    /** Resources of `space` whose master is `master`'s node. */
    static List<ResourceName> mastered(ClusterLockSpace space, ClusterLockSpace master, int count, long from) {
        List<ResourceName> out = new ArrayList<>();
        for (long n = from; out.size() < count; n++) {
            ResourceName r = new ResourceName('I', n);
            if (space.masterOf(r).incarnation() == master.self().incarnation()) {
                out.add(r);
            }
        }
        return out;
    }

    /** Acquire and release of a lock mastered on this node, no contention: no network at all. */
    static double cachedAcquire(ClusterLockSpace space, ResourceName resource) {
        Lock lock = space.newLock(resource, null);
        int rounds = 2_000_000;
        double best = Double.MAX_VALUE;
        for (int pass = 0; pass < 5; pass++) {
            long start = System.nanoTime();
            for (int i = 0; i < rounds; i++) {
                lock.request(LockMode.EX).join();
                lock.unlock().join();
            }
            best = Math.min(best, (System.nanoTime() - start) / (double) rounds);
        }
        return best;
    }

    /** Request to grant of EX on resources mastered by the other node, one at a time. */
    static double[] remoteGrant(ClusterLockSpace space, List<ResourceName> resources) {
        int samples = 20_000;
        long[] took = new long[samples];
        List<Lock> locks = resources.stream().map(r -> space.newLock(r, null)).toList();
        for (int i = -5_000; i < samples; i++) {
            Lock lock = locks.get(Math.floorMod(i, locks.size()));
            long start = System.nanoTime();
            lock.request(LockMode.EX).join();
            long end = System.nanoTime();
            lock.unlock().join();
            if (i >= 0) {
                took[i] = end - start;
            }
        }
        Arrays.sort(took);
        return new double[] {took[samples / 2] / 1000.0, took[samples * 99 / 100] / 1000.0};
    }

    /**
     * Two nodes take EX on one resource in turn, releasing at once on a BAST (hold time 0):
     * the median time between successive grants.
     */
    static double pingPong(ClusterLockSpace sa, ClusterLockSpace sb, ResourceName resource) throws Exception {
        int bounces = 20_000;
        long[] grants = new long[bounces + 1];
        AtomicLong count = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> players = new ArrayList<>();
        for (ClusterLockSpace space : List.of(sa, sb)) {
            Semaphore blocked = new Semaphore(0);
            Lock lock = space.newLock(resource, (l, wanted) -> blocked.release());
            players.add(Thread.ofPlatform().start(() -> {
                try {
                    while (!stop.get()) {
                        lock.request(LockMode.EX).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                        long n = count.getAndIncrement();
                        if (n <= bounces) {
                            grants[(int) n] = System.nanoTime();
                        } else {
                            stop.set(true);
                        }
                        blocked.tryAcquire(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                        blocked.drainPermits();
                        lock.unlock().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                    }
                } catch (Exception e) {
                    stop.set(true);
                    throw new IllegalStateException(e);
                }
            }));
        }
        for (Thread t : players) {
            t.join(TIMEOUT.toMillis() * 4);
        }
        long[] gaps = new long[bounces];
        for (int i = 0; i < bounces; i++) {
            gaps[i] = grants[i + 1] - grants[i];
        }
        long[] steady = Arrays.copyOfRange(gaps, bounces / 10, bounces);
        Arrays.sort(steady);
        return steady[steady.length / 2] / 1000.0;
    }

    /** 64 requesters, each on its own resource mastered by the other node: grants per second. */
    static double throughput(ClusterLockSpace space, List<ResourceName> resources) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong grants = new AtomicLong();
        CountDownLatch done = new CountDownLatch(resources.size());
        long[] window = new long[2];
        for (ResourceName resource : resources) {
            Lock lock = space.newLock(resource, null);
            Thread.ofVirtual().start(() -> {
                try {
                    while (!stop.get()) {
                        lock.request(LockMode.EX).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                        grants.incrementAndGet();
                        lock.unlock();
                    }
                    lock.unlock().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                } catch (Exception e) {
                    System.err.println("requester failed: " + e);
                } finally {
                    done.countDown();
                }
            });
        }
        Thread.sleep(1000);
        long before = grants.get();
        long start = System.nanoTime();
        Thread.sleep(5000);
        long after = grants.get();
        long end = System.nanoTime();
        stop.set(true);
        done.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        return (after - before) / ((end - start) / 1e9);
    }

    /** The reference: a frame to the other node and one back, through the same transport, no DLM. */
    static double transportRoundTrip(Path keyFile) throws Exception {
        ClusterKey key = ClusterKey.load(keyFile);
        try (NettyTransport a = NettyTransport.start("ref-a", new InetSocketAddress("127.0.0.1", 0), key);
             NettyTransport b = NettyTransport.start("ref-b", new InetSocketAddress("127.0.0.1", 0), key)) {
            int space = 7;
            Message ping = new Message.Cancel(1, new ResourceName('I', 1));
            b.register(space, (peer, frame) -> b.send("ref-a", a.localAddress(), frame));
            Semaphore back = new Semaphore(0);
            a.register(space, (peer, frame) -> back.release());
            int samples = 20_000;
            long[] took = new long[samples];
            for (int i = -5_000; i < samples; i++) {
                long start = System.nanoTime();
                a.send("ref-b", b.localAddress(), new Frame(space, 1, 1, ping));
                if (!back.tryAcquire(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    throw new IllegalStateException("transport round trip timed out");
                }
                if (i >= 0) {
                    took[i] = System.nanoTime() - start;
                }
            }
            Arrays.sort(took);
            return took[samples / 2] / 1000.0;
        }
    }

    static void print(String name, double value) {
        System.out.printf("%s %.2f%n", name, value);
        System.out.flush();
    }
}
