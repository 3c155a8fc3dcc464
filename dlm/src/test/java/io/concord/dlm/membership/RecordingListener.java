package io.concord.dlm.membership;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Captures every listener call, checking on arrival what must hold for any listener: one thread,
 * strictly increasing epochs, a recovered set that only grows, nothing after {@code lost}.
 */
final class RecordingListener implements MembershipListener {
    static final Duration WAIT = Duration.ofSeconds(15);

    sealed interface Event {}
    record Epoch(EpochView view) implements Event {}
    record Recovered(Set<Long> incarnations) implements Event {}
    record Suspended() implements Event {}
    record Reconnected() implements Event {}
    record Lost(String why) implements Event {}

    final String label;
    private final BlockingQueue<Event> queue = new LinkedBlockingQueue<>();
    final List<Event> history = new CopyOnWriteArrayList<>();
    final List<String> violations = new CopyOnWriteArrayList<>();
    private volatile Thread deliveryThread;
    private volatile long lastEpoch;
    private volatile Set<Long> lastRecovered = Set.of();
    private volatile boolean lost;

    RecordingListener(String label) {
        this.label = label;
    }

    private void record(Event e) {
        Thread t = Thread.currentThread();
        if (deliveryThread == null) {
            deliveryThread = t;
        } else if (deliveryThread != t) {
            violations.add("called from " + t.getName() + " and " + deliveryThread.getName());
        }
        if (lost) {
            violations.add(e + " after lost");
        }
        history.add(e);
        queue.add(e);
    }

    @Override
    public void epochChanged(EpochView view) {
        if (view.epoch() <= lastEpoch) {
            violations.add("epoch " + view.epoch() + " after " + lastEpoch);
        }
        lastEpoch = view.epoch();
        record(new Epoch(view));
    }

    @Override
    public void recoveredChanged(Set<Long> incarnations) {
        if (!incarnations.containsAll(lastRecovered) || incarnations.equals(lastRecovered)) {
            violations.add("recovered " + incarnations + " after " + lastRecovered);
        }
        lastRecovered = Set.copyOf(incarnations);
        record(new Recovered(incarnations));
    }

    @Override
    public void suspended() {
        record(new Suspended());
    }

    @Override
    public void reconnected() {
        record(new Reconnected());
    }

    @Override
    public void lost(String why) {
        record(new Lost(why));
        lost = true;
    }

    /** Takes events until one matches; fails after {@link #WAIT}. */
    <T extends Event> T await(Class<T> type, Predicate<? super T> match) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            Event e;
            try {
                e = left <= 0 ? null : queue.poll(left, TimeUnit.NANOSECONDS);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new AssertionError(ie);
            }
            if (e == null) {
                fail(label + ": no matching " + type.getSimpleName() + " within " + WAIT + "; saw " + history);
            }
            if (type.isInstance(e) && match.test(type.cast(e))) {
                return type.cast(e);
            }
        }
    }

    EpochView awaitEpoch(Predicate<EpochView> match) {
        return await(Epoch.class, e -> match.test(e.view())).view();
    }

    /** Nothing else arrives for {@code quiet}: proves an absence, so keep it short. */
    void assertNothingMore(Duration quiet) throws InterruptedException {
        Event e = queue.poll(quiet.toMillis(), TimeUnit.MILLISECONDS);
        assertEquals(null, e, label + ": unexpected event");
    }

    List<EpochView> epochs() {
        return history.stream().filter(Epoch.class::isInstance).map(e -> ((Epoch) e).view()).toList();
    }

    long count(Class<? extends Event> type) {
        return history.stream().filter(type::isInstance).count();
    }

    void assertNoViolations() {
        assertTrue(violations.isEmpty(), label + ": " + violations);
    }
}
