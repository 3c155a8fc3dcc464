package io.concord.dlm.check;

import io.concord.dlm.ConversionDeadlockException;
import io.concord.dlm.LockCancelledException;
import io.concord.dlm.LockFlag;
import io.concord.dlm.LockMode;
import io.concord.dlm.LockSpaceClosedException;
import io.concord.dlm.LockTimeoutException;
import io.concord.dlm.LockValueBlock;
import io.concord.dlm.ResourceName;
import io.concord.dlm.WouldBlockException;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;

/**
 * An append-only log of what lock holders did and saw, across every node of a workload, for
 * {@link LockChecker} to judge afterwards. Thread-safe.
 *
 * <h2>When to record</h2>
 * The checker reasons about recorded intervals, which are sound only if each event is recorded on
 * the right side of the real action:
 * <ul>
 * <li>{@link Granted} after the grant is known (the future completed), so a recorded holding starts
 *     no earlier than the real one;
 * <li>{@link ReleaseStarted} and {@link DownconvertStarted} <em>before</em> the unlock or the
 *     down-conversion is issued, so a recorded holding ends no later than the real one;
 * <li>{@link Requested} before the request is issued; {@link Refused}, {@link Released} after the
 *     outcome is known;
 * <li>{@link Recovered} just before the recovery hook releases the dead node's locks (the earliest
 *     such release anywhere), {@link NodeDead} once the node is known dead and before its locks are
 *     released.
 * </ul>
 * So every recorded holding lies inside the real one, and two recorded holdings of incompatible
 * modes that overlap prove that the lock manager really granted both at once.
 *
 * <h2>Order, and histories of several processes</h2>
 * Within one history the {@linkplain Event#sequence() sequence} is the order of recording, and the
 * timestamps from the injected clock are forced strictly increasing along it. Processes cannot share
 * a sequence, so each writes its own file ({@link #streamingTo} or {@link #writeTo}) and
 * {@link #merge} orders the union by timestamp (ties: by the order the histories were given, then
 * by sequence). The checker then treats the merged order as the real order of recording, which
 * holds as long as the processes' clocks agree to better than the shortest gap between a release
 * and a conflicting grant it follows (a network round trip): use one host's clock for all processes
 * ({@link #WALL_CLOCK} on one machine, or {@code System::nanoTime}, which on Linux is the
 * system-wide monotonic clock).
 *
 * <h2>File format, version 1</h2>
 * UTF-8 text, one event per line, fields separated by one space; lines starting with {@code #} are
 * comments (the first one names the format). Fields: sequence, timestamp (nanoseconds), node,
 * epoch, handle, resource ({@code I:42}, or {@code -} for node events), kind, then the kind's
 * arguments as written by {@link Kind#encode()}. Node names may not contain white space.
 */
public final class LockHistory implements AutoCloseable {
    public static final String FORMAT_LINE = "# concord lock history v1";

    /** Nanoseconds since the epoch; microsecond precision on most systems. */
    public static final LongSupplier WALL_CLOCK = () -> {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    };

    /**
     * One recorded event.
     *
     * @param sequence  order of recording within the history that recorded it
     * @param nanos     timestamp from that history's clock, strictly increasing with sequence
     * @param node      the node whose holder recorded it (for node events: the observer)
     * @param epoch     the lock manager's membership epoch at the time, 0 where there is none
     * @param handle    the lock handle, unique per node; 0 for node events
     * @param resource  the lock's resource; {@code null} for node events
     */
    public record Event(long sequence, long nanos, String node, long epoch, long handle, ResourceName resource, Kind kind) {
        public Event {
            Objects.requireNonNull(node, "node");
            Objects.requireNonNull(kind, "kind");
            if (node.isEmpty() || node.chars().anyMatch(Character::isWhitespace)) {
                throw new IllegalArgumentException("node name must be non-empty without white space: '" + node + "'");
            }
            if ((resource == null) != (kind instanceof NodeDead || kind instanceof Recovered)) {
                throw new IllegalArgumentException(kind + " needs " + (resource == null ? "a" : "no") + " resource");
            }
        }

        /** The line this event is written as, without the newline. */
        public String encode() {
            return sequence + " " + nanos + " " + node + " " + epoch + " " + handle + " "
                    + (resource == null ? "-" : resource.toString()) + " " + kind.encode();
        }

        static Event decode(String line) {
            String[] f = line.split(" ");
            if (f.length < 7) {
                throw new IllegalArgumentException("expected at least 7 fields");
            }
            ResourceName resource = f[5].equals("-") ? null : parseResource(f[5]);
            Kind kind = Kind.decode(f[6], Arrays.copyOfRange(f, 7, f.length));
            return new Event(Long.parseLong(f[0]), Long.parseLong(f[1]), f[2], Long.parseLong(f[3]), Long.parseLong(f[4]), resource, kind);
        }

        @Override
        public String toString() {
            return "#" + sequence + "@" + nanos + " " + node + "/h" + handle + (resource == null ? "" : " " + resource) + " e" + epoch + " " + kind;
        }
    }

    /** Why a request failed. */
    public enum Reason {
        WOULD_BLOCK, CANCELLED, TIMEOUT, DEADLOCK, CLOSED, EXPELLED, OTHER;

        /** The reason a failed request's exception gives; unwraps future wrappers. */
        public static Reason of(Throwable failure) {
            Throwable t = failure;
            while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
                t = t.getCause();
            }
            return switch (t) {
                case WouldBlockException w -> WOULD_BLOCK;
                case LockTimeoutException w -> TIMEOUT;
                case LockCancelledException w -> CANCELLED;
                case ConversionDeadlockException w -> DEADLOCK;
                case LockSpaceClosedException w -> CLOSED;
                default -> OTHER;
            };
        }
    }

    /** What happened; one record per kind. */
    public sealed interface Kind {
        /** The kind's name and arguments, space-separated, as in the file. */
        String encode();

        private static Kind decode(String name, String[] a) {
            return switch (name) {
                case "REQUESTED" -> new Requested(LockMode.valueOf(a[0]), decodeFlags(a[1]));
                case "GRANTED" -> new Granted(LockMode.valueOf(a[0]), a[1].equals("-") ? null
                        : new LockValueBlock(HexFormat.of().parseHex(a[2]), Long.parseLong(a[1]), switch (a[3]) {
                            case "valid" -> true;
                            case "invalid" -> false;
                            default -> throw new IllegalArgumentException("value block validity: " + a[3]);
                        }));
                case "REFUSED" -> new Refused(LockMode.valueOf(a[0]), Reason.valueOf(a[1]));
                case "CANCEL_ASKED" -> new CancelAsked();
                case "BAST" -> new Bast(LockMode.valueOf(a[0]));
                case "RELEASE_STARTED" -> new ReleaseStarted(LockMode.valueOf(a[0]), decodeValue(a[1]));
                case "RELEASED" -> new Released();
                case "DOWNCONVERT_STARTED" -> new DownconvertStarted(LockMode.valueOf(a[0]), LockMode.valueOf(a[1]), decodeValue(a[2]));
                case "NODE_DEAD" -> new NodeDead(a[0]);
                case "RECOVERED" -> new Recovered(a[0]);
                default -> throw new IllegalArgumentException("unknown event kind " + name);
            };
        }
    }

    public record Requested(LockMode mode, Set<LockFlag> flags) implements Kind {
        public Requested {
            flags = flags.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(flags));
        }

        @Override
        public String encode() {
            return "REQUESTED " + mode + " " + (flags.isEmpty() ? "-" : flags.stream().map(Enum::name).sorted().collect(Collectors.joining(",")));
        }
    }

    /**
     * @param valueBlock what the lock read at this grant; {@code null} if it could not be read (the
     *                   lock space closed at once), which the checker then does not judge
     */
    public record Granted(LockMode mode, LockValueBlock valueBlock) implements Kind {
        @Override
        public String encode() {
            return "GRANTED " + mode + " " + (valueBlock == null ? "- - -" : valueBlock.sequence() + " "
                    + HexFormat.of().formatHex(valueBlock.value()) + (valueBlock.valid() ? " valid" : " invalid"));
        }
    }

    public record Refused(LockMode mode, Reason reason) implements Kind {
        @Override
        public String encode() {
            return "REFUSED " + mode + " " + reason;
        }
    }

    /** Recorded before {@code Lock.cancel()} is called. */
    public record CancelAsked() implements Kind {
        @Override
        public String encode() {
            return "CANCEL_ASKED";
        }
    }

    public record Bast(LockMode wanted) implements Kind {
        @Override
        public String encode() {
            return "BAST " + wanted;
        }
    }

    /**
     * Recorded before the unlock is issued.
     *
     * @param published the value block this unlock publishes (staged just before), {@code null} for none
     */
    public record ReleaseStarted(LockMode held, byte[] published) implements Kind {
        public ReleaseStarted {
            published = checkedValue(published);
        }

        @Override
        public String encode() {
            return "RELEASE_STARTED " + held + " " + encodeValue(published);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ReleaseStarted r && held == r.held && Arrays.equals(published, r.published);
        }

        @Override
        public int hashCode() {
            return held.hashCode() * 31 + Arrays.hashCode(published);
        }

        @Override
        public String toString() {
            return "ReleaseStarted[" + held + ", published=" + encodeValue(published) + "]";
        }
    }

    /** Recorded after the unlock completed. */
    public record Released() implements Kind {
        @Override
        public String encode() {
            return "RELEASED";
        }
    }

    /**
     * Recorded before a conversion to a mode {@code from} covers is issued; its {@link Granted}
     * follows as for any request.
     *
     * @param published the value block it publishes (from PW or EX to below PW), {@code null} for none
     */
    public record DownconvertStarted(LockMode from, LockMode to, byte[] published) implements Kind {
        public DownconvertStarted {
            published = checkedValue(published);
        }

        @Override
        public String encode() {
            return "DOWNCONVERT_STARTED " + from + " " + to + " " + encodeValue(published);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof DownconvertStarted d && from == d.from && to == d.to && Arrays.equals(published, d.published);
        }

        @Override
        public int hashCode() {
            return (from.hashCode() * 31 + to.hashCode()) * 31 + Arrays.hashCode(published);
        }

        @Override
        public String toString() {
            return "DownconvertStarted[" + from + "->" + to + ", published=" + encodeValue(published) + "]";
        }
    }

    /** {@code deadNode} is known dead; its locks stay held until its {@link Recovered}. */
    public record NodeDead(String deadNode) implements Kind {
        @Override
        public String encode() {
            return "NODE_DEAD " + deadNode;
        }
    }

    /** The recovery hook is about to release {@code deadNode}'s locks. */
    public record Recovered(String deadNode) implements Kind {
        @Override
        public String encode() {
            return "RECOVERED " + deadNode;
        }
    }

    private final LongSupplier clock;
    private final BufferedWriter sink; // null when in memory only
    // Guarded by this.
    private final List<Event> events = new ArrayList<>();
    private long lastNanos = Long.MIN_VALUE;

    private LockHistory(LongSupplier clock, BufferedWriter sink) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.sink = sink;
    }

    /** An in-memory history stamped by {@link #WALL_CLOCK}. */
    public static LockHistory inMemory() {
        return new LockHistory(WALL_CLOCK, null);
    }

    public static LockHistory inMemory(LongSupplier clock) {
        return new LockHistory(clock, null);
    }

    /**
     * A history that also appends every event to {@code file} as it is recorded, flushed per line,
     * so that a process killed mid-run still leaves what it did (up to a torn last line, which
     * {@link #readFrom} tolerates).
     */
    public static LockHistory streamingTo(Path file, LongSupplier clock) throws IOException {
        BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
        out.write(FORMAT_LINE);
        out.newLine();
        out.flush();
        return new LockHistory(clock, out);
    }

    /** Records an event for a lock handle. */
    public Event record(String node, long epoch, long handle, ResourceName resource, Kind kind) {
        Objects.requireNonNull(resource, "resource");
        return append(node, epoch, handle, resource, kind);
    }

    /** Records {@link NodeDead} or {@link Recovered}, observed by {@code observer}. */
    public Event recordNode(String observer, long epoch, Kind kind) {
        return append(observer, epoch, 0, null, kind);
    }

    private synchronized Event append(String node, long epoch, long handle, ResourceName resource, Kind kind) {
        long nanos = Math.max(clock.getAsLong(), lastNanos == Long.MIN_VALUE ? Long.MIN_VALUE : lastNanos + 1);
        lastNanos = nanos;
        Event event = new Event(events.size(), nanos, node, epoch, handle, resource, kind);
        events.add(event);
        if (sink != null) {
            try {
                sink.write(event.encode());
                sink.newLine();
                sink.flush();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot append to the lock history file", e);
            }
        }
        return event;
    }

    /** A snapshot of the events, in recording order. */
    public synchronized List<Event> events() {
        return List.copyOf(events);
    }

    public synchronized int size() {
        return events.size();
    }

    /** Writes the whole history to {@code file}, replacing it. */
    public void writeTo(Path file) throws IOException {
        List<Event> snapshot = events();
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            out.write(FORMAT_LINE);
            out.newLine();
            for (Event e : snapshot) {
                out.write(e.encode());
                out.newLine();
            }
        }
    }

    /**
     * Reads a history file. A last line that does not parse is taken as torn by a crash and dropped;
     * any other bad line fails, naming the file and line.
     */
    public static List<Event> readFrom(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        if (lines.isEmpty() || !lines.getFirst().equals(FORMAT_LINE)) {
            throw new IOException(file + ": not a lock history (expected '" + FORMAT_LINE + "' first)");
        }
        List<Event> read = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            try {
                read.add(Event.decode(line));
            } catch (RuntimeException e) {
                if (i == lines.size() - 1) {
                    break;
                }
                throw new IOException(file + ":" + (i + 1) + ": bad event line '" + line + "': " + e.getMessage(), e);
            }
        }
        return List.copyOf(read);
    }

    /**
     * The union of several histories in the order the checker assumes for them (see the class
     * comment): by timestamp, then by position in {@code histories}, then by sequence.
     */
    public static List<Event> merge(List<List<Event>> histories) {
        record Tagged(Event event, int source) {
        }
        List<Tagged> all = new ArrayList<>();
        for (int s = 0; s < histories.size(); s++) {
            for (Event e : histories.get(s)) {
                all.add(new Tagged(e, s));
            }
        }
        all.sort(Comparator.comparingLong((Tagged t) -> t.event().nanos())
                .thenComparingInt(Tagged::source)
                .thenComparingLong(t -> t.event().sequence()));
        return all.stream().map(Tagged::event).toList();
    }

    /** Merges history files: {@link #readFrom} each, then {@link #merge}. */
    public static List<Event> mergeFiles(List<Path> files) throws IOException {
        List<List<Event>> histories = new ArrayList<>();
        for (Path f : files) {
            histories.add(readFrom(f));
        }
        return merge(histories);
    }

    @Override
    public void close() throws IOException {
        if (sink != null) {
            synchronized (this) {
                sink.close();
            }
        }
    }

    private static byte[] checkedValue(byte[] value) {
        if (value == null) {
            return null;
        }
        if (value.length != LockValueBlock.SIZE) {
            throw new IllegalArgumentException("a published value is " + LockValueBlock.SIZE + " bytes, not " + value.length);
        }
        return value.clone();
    }

    private static String encodeValue(byte[] value) {
        return value == null ? "-" : HexFormat.of().formatHex(value);
    }

    private static byte[] decodeValue(String field) {
        return field.equals("-") ? null : HexFormat.of().parseHex(field);
    }

    private static Set<LockFlag> decodeFlags(String field) {
        if (field.equals("-")) {
            return Set.of();
        }
        return Arrays.stream(field.split(",")).map(LockFlag::valueOf).collect(Collectors.toUnmodifiableSet());
    }

    private static ResourceName parseResource(String field) {
        int colon = field.indexOf(':');
        if (colon != 1) {
            throw new IllegalArgumentException("resource: " + field);
        }
        return new ResourceName(field.charAt(0), Long.parseUnsignedLong(field.substring(2)));
    }
}
