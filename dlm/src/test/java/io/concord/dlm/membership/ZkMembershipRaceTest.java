package io.concord.dlm.membership;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Timeout;

/**
 * Nodes joining and leaving (cleanly or by losing their client) concurrently, so that the
 * coordinator keeps changing hands; every epoch any listener saw is checked against every other
 * sighting of the same number. Seeded: {@code -Dconcord.membership.seed=N} replays a run (the
 * property reaches the forked test JVM through {@code -DargLine=-Dconcord.membership.seed=N}).
 */
@Timeout(120)
class ZkMembershipRaceTest {
    private static final String MEMBERS = "/concord/alpha/fs1/members";
    private static final int NODES = 3;
    private static final int CYCLES = 25;

    private ZkFixture zk;

    @BeforeEach
    void startZooKeeper() throws Exception {
        zk = new ZkFixture();
    }

    @AfterEach
    void stopZooKeeper() throws Exception {
        zk.close();
    }

    /** Three fixed seeds, or the one given with {@code -Dconcord.membership.seed=N}. */
    static LongStream seeds() {
        Long given = Long.getLong("concord.membership.seed");
        return given != null ? LongStream.of(given) : LongStream.of(20261122L, 7L, 424242L);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void churningMembersNeverDisagreeOnAnEpochAndSettleOnTheLiveSet(long seed) throws Exception {
        Map<Long, EpochView> seen = new ConcurrentHashMap<>();
        List<String> conflicts = new CopyOnWriteArrayList<>();
        List<RecordingListener> listeners = new CopyOnWriteArrayList<>();
        List<RecordingListener> finals = new CopyOnWriteArrayList<>();

        ExecutorService churn = Executors.newFixedThreadPool(NODES);
        List<Future<?>> running = new ArrayList<>();
        for (int n = 0; n < NODES; n++) {
            String name = "n" + n;
            Random random = new Random(seed * 31 + n);
            running.add(churn.submit(() -> {
                CuratorFramework client = zk.client();
                for (int cycle = 0; cycle <= CYCLES; cycle++) {
                    RecordingListener events = new RecordingListener(name + "#" + cycle);
                    listeners.add(events);
                    ZkMembership m = zk.membership(client, name, new Checking(events, seen, conflicts));
                    m.join();
                    Thread.sleep(random.nextInt(60)); // pacing to vary interleavings, not synchronisation
                    if (cycle == CYCLES) {
                        finals.add(events);
                    } else if (random.nextInt(4) == 0) {
                        client.close(); // dies: its incarnation stays unrecovered
                        client = zk.client();
                    } else {
                        m.close();
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : running) {
            f.get(90, TimeUnit.SECONDS);
        }
        churn.shutdown();

        CuratorFramework checker = zk.client();
        Set<Long> live = new TreeSet<>();
        for (String child : checker.getChildren().forPath(MEMBERS)) {
            Stat stat = checker.checkExists().forPath(MEMBERS + "/" + child);
            live.add(stat.getCzxid());
        }
        assertEquals(NODES, live.size(), "seed " + seed);
        List<EpochView> last = new ArrayList<>();
        for (RecordingListener l : finals) {
            last.add(l.awaitEpoch(v -> incarnations(v.members()).equals(live)));
        }
        for (EpochView v : last) {
            assertEquals(last.getFirst(), v, "seed " + seed + ": live members see one final epoch");
        }
        EpochView stored = EpochZnode.decode(checker.getData().forPath("/concord/alpha/fs1/epoch"));
        assertEquals(last.getFirst(), stored, "seed " + seed);

        assertTrue(conflicts.isEmpty(), "seed " + seed + ": " + conflicts);
        for (RecordingListener l : listeners) {
            l.assertNoViolations();
        }
        for (EpochView v : seen.values()) {
            Set<Long> both = incarnations(v.members());
            both.retainAll(incarnations(v.unrecovered()));
            assertTrue(both.isEmpty(), "seed " + seed + ": live and unrecovered at once in " + v);
        }
        assertTrue(seen.size() >= NODES * CYCLES / 2, "seed " + seed + ": too few epochs seen to prove much: " + seen.size());
    }

    private static Set<Long> incarnations(List<Member> members) {
        return members.stream().map(Member::incarnation).collect(Collectors.toCollection(TreeSet::new));
    }

    /** Records each epoch number's first sighting and reports any different second one. */
    private record Checking(RecordingListener delegate, Map<Long, EpochView> seen, List<String> conflicts)
            implements MembershipListener {
        @Override
        public void epochChanged(EpochView view) {
            EpochView earlier = seen.putIfAbsent(view.epoch(), view);
            if (earlier != null && !earlier.equals(view)) {
                conflicts.add(earlier + " vs " + view);
            }
            delegate.epochChanged(view);
        }

        @Override
        public void recoveredChanged(Set<Long> incarnations) {
            delegate.recoveredChanged(incarnations);
        }

        @Override
        public void suspended() {
            delegate.suspended();
        }

        @Override
        public void reconnected() {
            delegate.reconnected();
        }

        @Override
        public void lost(String why) {
            delegate.lost(why);
        }
    }
}
