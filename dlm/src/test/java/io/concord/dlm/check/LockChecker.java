package io.concord.dlm.check;

import io.concord.dlm.LockMode;
import io.concord.dlm.LockValueBlock;
import io.concord.dlm.ResourceName;
import io.concord.dlm.check.LockHistory.Bast;
import io.concord.dlm.check.LockHistory.CancelAsked;
import io.concord.dlm.check.LockHistory.DownconvertStarted;
import io.concord.dlm.check.LockHistory.Event;
import io.concord.dlm.check.LockHistory.Granted;
import io.concord.dlm.check.LockHistory.NodeDead;
import io.concord.dlm.check.LockHistory.Reason;
import io.concord.dlm.check.LockHistory.Recovered;
import io.concord.dlm.check.LockHistory.Refused;
import io.concord.dlm.check.LockHistory.ReleaseStarted;
import io.concord.dlm.check.LockHistory.Released;
import io.concord.dlm.check.LockHistory.Requested;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Judges a {@link LockHistory}: one process's, or several merged by {@link LockHistory#merge}. The
 * events are taken in the order given, as the order in which they were recorded.
 *
 * <h2>What a holder is taken to hold</h2>
 * A handle holds a mode from its {@link Granted} until its {@link ReleaseStarted}; a
 * {@link DownconvertStarted} lowers the mode at once. A conversion up (to a mode that covers the
 * held one) keeps the old mode until the grant, which loses nothing: whatever conflicts with the
 * old mode conflicts with the new one. A sideways conversion (PW to CW, CW to PR: neither covers
 * the other) is taken, from its request until its outcome, to hold only the strongest mode both
 * cover, since the real lock holds one or the other. Each recorded holding so lies inside the real
 * one (see {@link LockHistory}), so every conflict found is real; conflicts shorter than the
 * recording gaps go unseen.
 *
 * <h2>Checks</h2>
 * <ol>
 * <li>Safety: no two handles hold incompatible modes of one resource at once.
 * <li>Liveness: every request (and down-conversion) gets exactly one {@link Granted} or
 *     {@link Refused}, every release its {@link Released}, by the end of the history, unless the
 *     handle's node was declared dead after it asked. A grant must be for the mode requested. A
 *     down-conversion is never refused (except by a closed lock space or an expelled node).
 * <li>Value blocks: a grant reads what the publications before it left. Publications by PW/EX
 *     holders are totally ordered, so the k-th publication recorded on a resource has sequence k
 *     (the history must start on fresh resources). A grant of a mode that conflicts with PW must
 *     see every publication recorded before it; a CR or NL grant may also miss those whose
 *     release had not completed when it asked. A publication whose node died before the release
 *     completed may or may not have happened. The block may be invalid only if a node that held or
 *     was asking for PW/EX on the resource died after the publication it shows; it must be invalid
 *     when such a node's recovery was recorded before a grant that conflicts with the dead mode
 *     and nothing was published since. After any node's death the newest value may have died with
 *     a resource's master: a block may then be invalid or empty anywhere, and sequences restart
 *     from what the survivors read, so only the value of a block claimed valid is checked.
 * <li>Dead nodes: from a node's first {@link NodeDead} until its {@link Recovered}, no other node
 *     is granted a mode incompatible with what the dead node held at its death. At recovery every
 *     lock of the dead node is gone.
 * </ol>
 */
public final class LockChecker {
    private static final int CONTEXT_EVENTS = 12;
    private static final int REPORTED_VIOLATIONS = 8;

    /** What a history contained; {@link #violations()} is empty for a history that passed. */
    public record Report(int events, long requests, long grants, long refusals, long cancels, long basts,
                         long publications, int maxConcurrentHolders, List<String> violations) {
        public boolean passed() {
            return violations.isEmpty();
        }

        @Override
        public String toString() {
            return events + " events: " + requests + " requests, " + grants + " grants, " + refusals + " refusals, "
                    + cancels + " cancels, " + basts + " BASTs, " + publications + " value publications, at most "
                    + maxConcurrentHolders + " holders of one resource at once, " + violations.size() + " violations";
        }
    }

    private LockChecker() {
    }

    /**
     * Checks {@code events}, taken in the order given.
     *
     * @throws AssertionError naming the first violations, each with the last events on its resource
     */
    public static Report check(List<Event> events) {
        Report report = analyze(events);
        if (!report.passed()) {
            List<String> first = report.violations().subList(0, Math.min(REPORTED_VIOLATIONS, report.violations().size()));
            throw new AssertionError("lock history has " + report.violations().size() + " violations ("
                    + report + "); the first:\n" + String.join("\n", first));
        }
        return report;
    }

    public static Report check(LockHistory history) {
        return check(history.events());
    }

    /** Checks {@code events} and returns every violation found, without throwing. */
    public static Report analyze(List<Event> events) {
        return new Run(events).run();
    }

    /** The strongest mode that both {@code a} and {@code b} cover. */
    static LockMode meet(LockMode a, LockMode b) {
        LockMode[] modes = LockMode.values();
        for (int m = modes.length - 1; ; m--) {
            if (a.covers(modes[m]) && b.covers(modes[m])) {
                return modes[m];
            }
        }
    }

    private static boolean writes(LockMode mode) {
        return mode == LockMode.PW || mode == LockMode.EX;
    }

    private record HandleKey(String node, long handle) {
        @Override
        public String toString() {
            return node + "/h" + handle;
        }
    }

    private record Pending(int index, Event event, LockMode target, boolean down) {
    }

    private static final class HandleState {
        final HandleKey key;
        final ResourceName resource;
        LockMode granted;   // what the lock manager granted last, null when released
        LockMode held;      // what the checker takes as surely held (see the class comment)
        Event heldSince;
        Pending pending;
        int releasing = -1; // index of a ReleaseStarted awaiting its Released
        Event releasingEvent;

        HandleState(HandleKey key, ResourceName resource) {
            this.key = key;
            this.resource = resource;
        }
    }

    private record Publication(int index, Event event, byte[] value, boolean uncertain, int completion) {
    }

    /** One dead node's holding of one resource, for the dead-node and value-block rules. */
    private static final class DeadHolding {
        final int death;
        final Event deathEvent;
        final HandleKey holder;
        final LockMode held;       // recorded at the death, null if only asking
        final boolean mayWrite;    // held or was asking for PW/EX
        int recovered = Integer.MAX_VALUE;

        DeadHolding(int death, Event deathEvent, HandleKey holder, LockMode held, boolean mayWrite) {
            this.death = death;
            this.deathEvent = deathEvent;
            this.holder = holder;
            this.held = held;
            this.mayWrite = mayWrite;
        }
    }

    private static final class Run {
        final List<Event> events;
        final List<String> violations = new ArrayList<>();
        final Map<HandleKey, HandleState> handles = new LinkedHashMap<>();
        final Map<ResourceName, Map<HandleKey, HandleState>> holders = new HashMap<>();
        final Map<ResourceName, List<Publication>> publications = new HashMap<>();
        final Map<ResourceName, List<DeadHolding>> deadHoldings = new HashMap<>();
        final Map<String, List<DeadHolding>> openDeaths = new HashMap<>();
        final Map<String, List<Integer>> deathsOf = new HashMap<>();
        final Map<ResourceName, Deque<Event>> recent = new HashMap<>();
        // From the first pass: index of a publishing event -> index of the event completing it.
        final Map<Integer, Integer> completionOf = new HashMap<>();
        long requests, grants, refusals, cancels, basts, published;
        int maxHolders;

        Run(List<Event> events) {
            this.events = events;
        }

        Report run() {
            linkPublicationsToCompletions();
            for (int i = 0; i < events.size(); i++) {
                Event e = events.get(i);
                if (e.resource() != null) {
                    Deque<Event> r = recent.computeIfAbsent(e.resource(), k -> new ArrayDeque<>());
                    r.addLast(e);
                    if (r.size() > CONTEXT_EVENTS) {
                        r.removeFirst();
                    }
                }
                switch (e.kind()) {
                    case NodeDead d -> nodeDead(i, e, d.deadNode());
                    case Recovered r -> recovered(i, r.deadNode());
                    default -> handleEvent(i, e);
                }
            }
            checkEverythingResolved();
            return new Report(events.size(), requests, grants, refusals, cancels, basts, published, maxHolders, List.copyOf(violations));
        }

        private void linkPublicationsToCompletions() {
            Map<HandleKey, Integer> awaiting = new HashMap<>();
            for (int i = 0; i < events.size(); i++) {
                Event e = events.get(i);
                HandleKey key = new HandleKey(e.node(), e.handle());
                switch (e.kind()) {
                    case ReleaseStarted r when r.published() != null -> awaiting.put(key, i);
                    case DownconvertStarted d when d.published() != null -> awaiting.put(key, i);
                    case Released r -> complete(awaiting, key, i, ReleaseStarted.class);
                    case Granted g -> complete(awaiting, key, i, DownconvertStarted.class);
                    case Refused r -> complete(awaiting, key, i, DownconvertStarted.class);
                    default -> {
                    }
                }
                if (e.kind() instanceof NodeDead d) {
                    deathsOf.computeIfAbsent(d.deadNode(), k -> new ArrayList<>()).add(i);
                }
            }
        }

        private void complete(Map<HandleKey, Integer> awaiting, HandleKey key, int i, Class<?> startedBy) {
            Integer start = awaiting.get(key);
            if (start != null && startedBy.isInstance(events.get(start).kind())) {
                completionOf.put(start, i);
                awaiting.remove(key);
            }
        }

        private boolean diedBetween(String node, int after, int before) {
            for (int d : deathsOf.getOrDefault(node, List.of())) {
                if (d > after && d < before) {
                    return true;
                }
            }
            return false;
        }

        private void handleEvent(int i, Event e) {
            HandleKey key = new HandleKey(e.node(), e.handle());
            HandleState s = handles.computeIfAbsent(key, k -> new HandleState(k, e.resource()));
            if (!s.resource.equals(e.resource())) {
                violation(e, "handle " + key + " is used on " + e.resource() + " but was first used on " + s.resource);
                return;
            }
            switch (e.kind()) {
                case Requested r -> requested(i, e, s, r);
                case DownconvertStarted d -> downconvertStarted(i, e, s, d);
                case Granted g -> granted(i, e, s, g);
                case Refused r -> refused(e, s, r);
                case CancelAsked c -> cancels++;
                case Bast b -> basts++;
                case ReleaseStarted r -> releaseStarted(i, e, s, r);
                case Released r -> {
                    s.releasing = -1;
                    s.releasingEvent = null;
                }
                case NodeDead d -> throw new AssertionError("unreachable");
                case Recovered d -> throw new AssertionError("unreachable");
            }
        }

        private void requested(int i, Event e, HandleState s, Requested r) {
            requests++;
            if (s.pending != null) {
                violation(e, "a second request while " + s.pending.event() + " is still in flight");
            }
            boolean down = s.granted != null && s.granted.covers(r.mode());
            s.pending = new Pending(i, e, r.mode(), down);
            if (s.granted != null && !r.mode().covers(s.granted)) {
                lower(s, down ? r.mode() : meet(s.granted, r.mode()));
            }
        }

        private void downconvertStarted(int i, Event e, HandleState s, DownconvertStarted d) {
            requests++;
            if (s.pending != null) {
                violation(e, "a down-conversion while " + s.pending.event() + " is still in flight");
            }
            if (s.granted != d.from()) {
                violation(e, "down-conversion from " + d.from() + " but the handle was granted " + s.granted);
            }
            if (!d.from().covers(d.to())) {
                violation(e, d.from() + " to " + d.to() + " is not a down-conversion");
            }
            s.pending = new Pending(i, e, d.to(), true);
            lower(s, d.to());
            if (d.published() != null) {
                if (!writes(d.from()) || writes(d.to())) {
                    violation(e, "only a conversion from PW/EX to below PW publishes a value block");
                }
                publish(i, e, d.published());
            }
        }

        private void releaseStarted(int i, Event e, HandleState s, ReleaseStarted r) {
            if (s.granted != r.held()) {
                violation(e, "release of " + r.held() + " but the handle was granted " + s.granted);
            }
            if (r.published() != null) {
                if (!writes(r.held())) {
                    violation(e, "only a PW/EX holder publishes a value block");
                }
                publish(i, e, r.published());
            }
            lower(s, null);
            s.granted = null;
            s.releasing = i;
            s.releasingEvent = e;
        }

        private void publish(int i, Event e, byte[] value) {
            published++;
            int completion = completionOf.getOrDefault(i, Integer.MAX_VALUE);
            boolean uncertain = diedBetween(e.node(), i, completion);
            publications.computeIfAbsent(e.resource(), k -> new ArrayList<>()).add(new Publication(i, e, value, uncertain, completion));
        }

        private void granted(int i, Event e, HandleState s, Granted g) {
            grants++;
            Pending p = s.pending;
            if (p == null) {
                violation(e, "granted without a request in flight");
            } else if (p.target() != g.mode()) {
                violation(e, "granted " + g.mode() + " for " + p.event());
            }
            s.pending = null;
            s.granted = g.mode();
            raise(e, s, g.mode());
            checkDeadNodeRule(i, e, g.mode());
            if (g.valueBlock() != null) {
                checkValueBlock(i, e, g, p == null ? i : p.index());
            }
        }

        private void refused(Event e, HandleState s, Refused r) {
            refusals++;
            Pending p = s.pending;
            if (p == null) {
                violation(e, "refused without a request in flight");
                return;
            }
            if (p.down() && r.reason() != Reason.CLOSED && r.reason() != Reason.EXPELLED) {
                violation(e, "a down-conversion was refused (" + p.event() + ")");
            }
            s.pending = null;
            if (s.granted != null) {
                raise(e, s, s.granted); // a refused conversion kept its mode all along
            }
        }

        private void lower(HandleState s, LockMode mode) {
            s.held = mode;
            if (mode == null) {
                Map<HandleKey, HandleState> on = holders.get(s.resource);
                if (on != null) {
                    on.remove(s.key);
                }
            }
        }

        private void raise(Event e, HandleState s, LockMode mode) {
            Map<HandleKey, HandleState> on = holders.computeIfAbsent(s.resource, k -> new LinkedHashMap<>());
            for (HandleState other : on.values()) {
                if (other != s && other.held != null && !mode.compatibleWith(other.held)) {
                    String rule = openDeaths.containsKey(other.key.node()) ? "dead-node rule: " : "safety: ";
                    violation(e, rule + s.key + " holds " + mode + " on " + s.resource + " while " + other.key
                            + " holds " + other.held + " (since " + other.heldSince + ")");
                }
            }
            if (s.held != mode) {
                s.held = mode;
                s.heldSince = e;
            }
            on.put(s.key, s);
            int holding = (int) on.values().stream().filter(h -> h.held != null && h.held != LockMode.NL).count();
            maxHolders = Math.max(maxHolders, holding);
        }

        private void checkDeadNodeRule(int i, Event e, LockMode mode) {
            for (DeadHolding d : deadHoldings.getOrDefault(e.resource(), List.of())) {
                if (d.recovered > i && d.death < i && d.held != null && !d.holder.node().equals(e.node())
                        && !mode.compatibleWith(d.held)) {
                    HandleState h = handles.get(d.holder);
                    if (h != null && h.held != null && !mode.compatibleWith(h.held)) {
                        continue; // already reported as a conflict with a lock still held
                    }
                    violation(e, "dead-node rule: " + mode + " granted on " + e.resource() + " before the recovery of "
                            + d.holder + ", which held " + d.held + " when it died (" + d.deathEvent + ")");
                }
            }
        }

        private int firstDeath = Integer.MAX_VALUE;

        private void checkValueBlock(int i, Event e, Granted g, int askedAt) {
            // A dead master takes the newest value with it when no survivor read it: after a death
            // a block may be invalid or empty, and its sequence restarts from what survivors saw.
            // Only the value of a block still claimed valid is checked then.
            boolean afterDeath = firstDeath < i;
            if (afterDeath && (!g.valueBlock().valid() || g.valueBlock().equals(LockValueBlock.EMPTY))) {
                return;
            }
            List<Publication> before = publications.getOrDefault(e.resource(), List.of()).stream()
                    .filter(p -> p.index() < i).toList();
            boolean seesAll = !g.mode().compatibleWith(LockMode.PW);
            int lowest = 0; // candidate j shows publication j (1-based), 0 the initial block
            for (int k = 0; k < before.size(); k++) {
                Publication p = before.get(k);
                if (!p.uncertain() && (seesAll || p.completion() < askedAt)) {
                    lowest = k + 1;
                }
            }
            LockValueBlock read = g.valueBlock();
            List<String> expected = new ArrayList<>();
            String invalidity = null;
            int certain = 0, uncertain = 0;
            for (int j = 0; j <= before.size(); j++) {
                // The counts cover publications 1..j-1 here: publication j is added just below.
                long minSeq = j == 0 ? 0 : certain + 1;
                long maxSeq = j == 0 ? 0 : certain + uncertain + 1;
                if (j > 0) {
                    if (before.get(j - 1).uncertain()) {
                        uncertain++;
                    } else {
                        certain++;
                    }
                }
                if (j < lowest) {
                    continue;
                }
                byte[] value = j == 0 ? LockValueBlock.EMPTY.value() : before.get(j - 1).value();
                int shownAt = j == 0 ? -1 : before.get(j - 1).index();
                expected.add("seq " + (minSeq == maxSeq ? minSeq : minSeq + ".." + maxSeq) + " from "
                        + (j == 0 ? "the initial block" : before.get(j - 1).event().toString()));
                if (!Arrays.equals(value, read.value()) || !afterDeath && (read.sequence() < minSeq || read.sequence() > maxSeq)) {
                    continue;
                }
                String problem = validityProblem(i, g.mode(), read.valid(), shownAt, e.resource());
                if (problem == null) {
                    return;
                }
                invalidity = problem;
            }
            violation(e, invalidity != null ? invalidity
                    : "value block " + read + " is none of what the publications allow: " + String.join("; ", expected));
        }

        private String validityProblem(int i, LockMode mode, boolean valid, int shownAt, ResourceName resource) {
            List<DeadHolding> deaths = deadHoldings.getOrDefault(resource, List.of());
            if (!valid) {
                for (DeadHolding d : deaths) {
                    if (d.mayWrite && d.death > shownAt && d.death < i) {
                        return null;
                    }
                }
                return "value block read invalid, but no PW/EX holder of " + resource + " died since the value it shows was published";
            }
            for (DeadHolding d : deaths) {
                if (d.held != null && writes(d.held) && d.death > shownAt && d.recovered < i && !mode.compatibleWith(d.held)) {
                    return "value block read valid after the recovery of " + d.holder + ", which held " + d.held
                            + " when it died (" + d.deathEvent + "), and nothing was published since";
                }
            }
            return null;
        }

        private void nodeDead(int i, Event e, String node) {
            if (openDeaths.containsKey(node)) {
                return; // already dead; the first declaration counts
            }
            firstDeath = Math.min(firstDeath, i);
            List<DeadHolding> held = new ArrayList<>();
            for (HandleState s : handles.values()) {
                if (!s.key.node().equals(node)) {
                    continue;
                }
                boolean asking = s.pending != null && writes(s.pending.target());
                if (s.held != null || s.granted != null || asking) {
                    LockMode mode = s.held;
                    DeadHolding d = new DeadHolding(i, e, s.key, mode,
                            asking || mode != null && writes(mode) || s.granted != null && writes(s.granted));
                    held.add(d);
                    deadHoldings.computeIfAbsent(s.resource, k -> new ArrayList<>()).add(d);
                }
            }
            openDeaths.put(node, held);
        }

        private void recovered(int i, String node) {
            List<DeadHolding> held = openDeaths.remove(node);
            if (held == null) {
                return; // a second observer's record of the same recovery
            }
            for (DeadHolding d : held) {
                d.recovered = i;
            }
            for (var it = handles.values().iterator(); it.hasNext(); ) {
                HandleState s = it.next();
                if (s.key.node().equals(node)) {
                    lower(s, null);
                    it.remove();
                }
            }
        }

        private void checkEverythingResolved() {
            for (HandleState s : handles.values()) {
                if (s.pending != null && !diedBetween(s.key.node(), s.pending.index(), Integer.MAX_VALUE)
                        && !openDeaths.containsKey(s.key.node())) {
                    violation(s.pending.event(), "liveness: never granted nor refused");
                }
                if (s.releasing >= 0 && !diedBetween(s.key.node(), s.releasing, Integer.MAX_VALUE)
                        && !openDeaths.containsKey(s.key.node())) {
                    violation(s.releasingEvent, "liveness: the unlock never completed");
                }
            }
        }

        private void violation(Event at, String what) {
            Deque<Event> context = at.resource() == null ? null : recent.get(at.resource());
            String history = context == null ? "" : context.stream().map(Event::toString)
                    .collect(Collectors.joining("\n      ", "\n    last events on " + at.resource() + ":\n      ", ""));
            violations.add("  " + at + ": " + what + history);
        }
    }
}
