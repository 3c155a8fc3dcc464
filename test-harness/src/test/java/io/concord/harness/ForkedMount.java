package io.concord.harness;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * mount.concord run as its own process, as an administrator runs it. Either a foreground daemon
 * that a test owns by pid and can SIGKILL or SIGTERM, or one invocation whose exit code and
 * output a test reads ({@link #mountConcord}). Also how a test sees a mount from outside: what
 * /proc/self/mountinfo lists at a directory, and which processes serve it.
 *
 * <p>Every wait here is bounded. {@link #close} and {@link #cleanUp} leave no daemon and no mount
 * behind, whatever state the test stopped in.
 */
final class ForkedMount implements AutoCloseable {
    static final String MAIN = JavaCommand.MOUNT;
    private static final Duration READY = Duration.ofSeconds(60);
    private static final Duration STOP = Duration.ofSeconds(20);

    /** How one run of a command ended. */
    record Outcome(int exitCode, String stdout, String stderr) {
        /** The non-blank lines the command printed on stderr. */
        List<String> errorLines() {
            return stderr.lines().filter(l -> !l.isBlank()).toList();
        }

        @Override
        public String toString() {
            return "exit " + exitCode + ", stderr: " + stderr.strip() + (stdout.isBlank() ? "" : ", stdout: " + stdout.strip());
        }
    }

    private final Process process;
    private final Path dir;
    private final Path output;

    private ForkedMount(Process process, Path dir, Path output) {
        this.process = process;
        this.dir = dir.toAbsolutePath().normalize();
        this.output = output;
    }

    /**
     * Starts {@code mount.concord IMAGE DIR -o nolock,foreground[,OPTIONS]} as a child of this JVM
     * (its stdout and stderr go to {@code output}) and returns once the mount answers.
     */
    static ForkedMount foreground(Path image, Path dir, String options, Path output) throws IOException, InterruptedException {
        return foregroundWith(image, dir, "nolock" + (options == null || options.isBlank() ? "" : "," + options), output);
    }

    /** As {@link #foreground}, with exactly {@code options} (plus {@code foreground}): a cluster mount leaves out nolock. */
    static ForkedMount foregroundWith(Path image, Path dir, String options, Path output) throws IOException, InterruptedException {
        String o = "foreground," + options;
        Process p = new ProcessBuilder(command(MAIN, image.toString(), dir.toString(), "-o", o)).redirectErrorStream(true)
                .redirectOutput(output.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        ForkedMount m = new ForkedMount(p, dir, output);
        try {
            m.awaitServing();
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            m.close();
            throw e;
        }
        return m;
    }

    /** Runs {@code mount.concord ARGS} to its end (at most two minutes); its output is kept under {@code work}. */
    static Outcome mountConcord(Path work, String... args) throws IOException, InterruptedException {
        return run(work, command(MAIN, args));
    }

    /** Runs {@code concord ARGS} (keygen, info, ...) to its end. */
    static Outcome concord(Path work, String... args) throws IOException, InterruptedException {
        return run(work, command(JavaCommand.CONCORD, args));
    }

    /** Runs {@code umount ARGS} (util-linux) to its end. */
    static Outcome umount(Path work, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("umount"));
        cmd.addAll(List.of(args));
        return run(work, cmd);
    }

    private static List<String> command(String main, String... args) {
        return JavaCommand.of(main, List.of(args));
    }

    private static Outcome run(Path work, List<String> cmd) throws IOException, InterruptedException {
        Files.createDirectories(work);
        Path out = Files.createTempFile(work, "stdout-", ".txt");
        Path err = Files.createTempFile(work, "stderr-", ".txt");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        try {
            if (!p.waitFor(2, TimeUnit.MINUTES)) {
                throw new AssertionError(String.join(" ", cmd.subList(Math.max(0, cmd.size() - 5), cmd.size())) + " did not end within 2 minutes");
            }
            return new Outcome(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private void awaitServing() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + READY.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("the daemon exited (" + process.exitValue() + ") before mounting " + dir + ": " + log().strip());
            }
            // Answers first: a remount lazily detaches the dead daemon's mount before making its
            // own, and in between the bare directory answers. Checked the other way round, a
            // stale mount listed just before that detach and the bare directory answering just
            // after it passed for a mount that did not exist yet (seed 1061 of MountCrashTest).
            if (KernelMounts.answers(dir) && KernelMounts.concordAt(dir)) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the daemon did not mount " + dir + " within " + READY.toSeconds() + " s: " + log().strip());
    }

    Process process() {
        return process;
    }

    Path dir() {
        return dir;
    }

    /** What the daemon printed so far (its log: it runs in the foreground). */
    String log() throws IOException {
        return Files.readString(output, StandardCharsets.UTF_8);
    }

    /** kill -9: the daemon dies at once, leaving its mount behind as the kernel's stale endpoint. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(STOP.toSeconds(), TimeUnit.SECONDS)) {
            throw new AssertionError("the daemon (pid " + process.pid() + ") survived SIGKILL for " + STOP.toSeconds() + " s");
        }
    }

    /** SIGTERM; returns the exit code, or throws when the daemon has not ended within {@code limit}. */
    int terminate(Duration limit) throws InterruptedException, TimeoutException {
        process.destroy();
        if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new TimeoutException("the daemon (pid " + process.pid() + ") did not end within " + limit.toSeconds() + " s of SIGTERM");
        }
        return process.exitValue();
    }

    /** Kills the daemon if it still runs and detaches whatever is still mounted at the directory. */
    @Override
    public void close() throws IOException, InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly().waitFor(STOP.toSeconds(), TimeUnit.SECONDS);
        }
        cleanUp(dir);
    }

    /**
     * The command failed with {@code exit}, said why on exactly one stderr line naming the command,
     * and left neither a mount nor a process at any of {@code dirs}.
     */
    static void assertRefused(Outcome o, int exit, String because, Path... dirs) throws IOException {
        org.junit.jupiter.api.Assertions.assertEquals(exit, o.exitCode(), "exit code: " + o);
        List<String> lines = o.errorLines();
        org.junit.jupiter.api.Assertions.assertEquals(1, lines.size(), "one line on stderr, not: " + lines);
        org.junit.jupiter.api.Assertions.assertTrue(lines.getFirst().startsWith("mount.concord: "), "the error names the command: " + lines.getFirst());
        org.junit.jupiter.api.Assertions.assertTrue(lines.getFirst().contains(because), "the error says '" + because + "': " + lines.getFirst());
        for (Path dir : dirs) {
            org.junit.jupiter.api.Assertions.assertEquals(List.of(), KernelMounts.typesAt(dir), "a refused mount left a mount at " + dir);
            org.junit.jupiter.api.Assertions.assertEquals(List.of(), daemonsServing(dir), "a refused mount left a process for " + dir);
        }
    }

    // ---- the view from outside ----

    /** The live processes running mount.concord (the command or its daemon) for {@code dir}. */
    static List<ProcessHandle> daemonsServing(Path dir) {
        String at = dir.toAbsolutePath().normalize().toString();
        long self = ProcessHandle.current().pid();
        return ProcessHandle.allProcesses().filter(h -> h.pid() != self && h.isAlive()).filter(h -> {
            try {
                List<String> argv = List.of(Files.readString(Path.of("/proc/" + h.pid() + "/cmdline"), StandardCharsets.UTF_8).split("\0"));
                return argv.contains(MAIN) && argv.contains(at);
            } catch (IOException | RuntimeException gone) {
                return false;
            }
        }).toList();
    }

    /** Kills every process serving {@code dir} (by pid) and lazily detaches every mount there. */
    static void cleanUp(Path dir) throws IOException, InterruptedException {
        for (ProcessHandle h : daemonsServing(dir)) {
            h.destroyForcibly();
            try {
                h.onExit().get(STOP.toSeconds(), TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
                // Reported by the test's own assertions, if it makes any.
            }
        }
        KernelMounts.detachLazily(dir);
    }
}
