package io.concord.dlm.process;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * The test's handle on one {@link DlmNodeProcess}: starts it, sends it commands, waits for its
 * lines, and kills, stops or resumes it. Every process started is killed and reaped by
 * {@link #close()}, and by a shutdown hook if the test JVM ends first.
 *
 * <p>Lines the process prints are kept in order; {@link #await} takes the first one not taken yet
 * that starts with a prefix, so an answer is never matched twice, while {@link #seen} only looks.
 */
public final class NodeProcess implements AutoCloseable {
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly), "kill-dlm-nodes"));
    }

    private final String name;
    private final Process process;
    private final Writer stdin;
    private final Path log;
    private final Thread reader;
    // Guarded by this.
    private final List<String> lines = new ArrayList<>();
    private final List<Boolean> taken = new ArrayList<>();
    private boolean ended;

    private NodeProcess(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        this.reader = Thread.ofPlatform().daemon().name("node-" + name + "-stdout").start(this::readLines);
    }

    /**
     * Starts a node process; returns at once (await {@code ready} for it to have joined).
     *
     * @param args the arguments {@link DlmNodeProcess} takes
     * @param log  where the process's stderr (its log) goes
     */
    public static NodeProcess start(String name, List<String> args, Path log) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElseThrow(() -> new IOException("cannot tell this JVM's java binary")));
        // Small and quick to start: two cores are shared by several of these and the test.
        command.addAll(List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k"));
        String logging = System.getProperty("java.util.logging.config.file");
        if (logging != null) {
            command.add("-Djava.util.logging.config.file=" + logging);
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), DlmNodeProcess.class.getName()));
        command.addAll(args);
        Process process = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.to(log.toFile()))
                .start();
        LIVE.add(process);
        return new NodeProcess(name, process, log);
    }

    public String name() {
        return name;
    }

    public long pid() {
        return process.pid();
    }

    public boolean alive() {
        return process.isAlive();
    }

    /** Sends one command line. */
    public void send(String command) {
        try {
            stdin.write(command);
            stdin.write('\n');
            stdin.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(name + ": cannot send '" + command + "' (process " + (process.isAlive() ? "alive" : "ended") + ")", e);
        }
    }

    /** Sends a command and waits for the answer starting with {@code prefix}. */
    public String ask(String command, String prefix, Duration timeout) throws InterruptedException {
        send(command);
        return await(prefix, timeout);
    }

    /**
     * Takes the first line not taken yet that starts with {@code prefix}, waiting up to
     * {@code timeout} for it.
     *
     * @throws AssertionError if none came in time, with everything the process printed
     */
    public String await(String prefix, Duration timeout) throws InterruptedException {
        return poll(prefix, timeout).orElseThrow(() -> new AssertionError(
                name + ": no line starting '" + prefix + "' within " + timeout + "; printed: " + printed() + "; log " + log));
    }

    /** {@link #await}, but empty instead of failing. */
    public Optional<String> poll(String prefix, Duration timeout) throws InterruptedException {
        return poll(line -> line.startsWith(prefix), timeout);
    }

    /** Takes the outcome of a lock command on {@code resource}: granted, timeout or error. */
    public String awaitOutcome(String resource, Duration timeout) throws InterruptedException {
        return poll(line -> line.matches("(granted|timeout|error) " + Pattern.quote(resource) + "( .*)?"), timeout)
                .orElseThrow(() -> new AssertionError(name + ": no outcome for " + resource + " within " + timeout + "; printed: " + printed()));
    }

    private synchronized Optional<String> poll(Predicate<String> wanted, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (int i = 0; i < lines.size(); i++) {
                if (!taken.get(i) && wanted.test(lines.get(i))) {
                    taken.set(i, true);
                    return Optional.of(lines.get(i));
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0 || ended) {
                return Optional.empty();
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
    }

    /** Every line printed so far that starts with {@code prefix}, taken or not. */
    public synchronized List<String> seen(String prefix) {
        return lines.stream().filter(l -> l.startsWith(prefix)).toList();
    }

    public synchronized List<String> printed() {
        return List.copyOf(lines);
    }

    /** SIGKILL: the process ends without a word to anyone. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            throw new AssertionError(name + " survived SIGKILL for 10 s");
        }
    }

    /** SIGSTOP: the process freezes, its sockets stay open. */
    public void stop() throws IOException, InterruptedException {
        signal("STOP");
    }

    /** SIGCONT. */
    public void resume() throws IOException, InterruptedException {
        signal("CONT");
    }

    private void signal(String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            kill.destroyForcibly();
            throw new IOException("kill -" + signal + " " + process.pid() + " failed");
        }
    }

    public Path log() {
        return log;
    }

    /** The last lines of the process's log, for failure messages. */
    public String logTail(int count) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - count), all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    /** Kills the process (it may be stopped: SIGKILL ends it all the same) and reaps it. */
    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
            reader.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            LIVE.remove(process);
        }
    }

    private void readLines() {
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                synchronized (this) {
                    lines.add(line);
                    taken.add(false);
                    notifyAll();
                }
            }
        } catch (IOException e) {
            // the process ended under us
        } finally {
            synchronized (this) {
                ended = true;
                notifyAll();
            }
        }
    }

    @Override
    public String toString() {
        return "node " + name + " (pid " + process.pid() + ")";
    }
}
