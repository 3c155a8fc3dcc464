package io.concord.harness;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Another process acting on the mount: one-shot shell commands ({@link #sh}) and long-lived
 * processes that a test talks to line by line ({@link #start}, {@link #syscalls}), optionally as
 * another user through util-linux {@code setpriv}.
 *
 * <p>Hygiene: every wait is bounded; a process that overstays is killed with its descendants; a
 * live process is killed (and reaped) on {@link #close}, so a failing test leaves nothing behind.
 */
final class PosixProcess implements AutoCloseable {
    private static final Duration ONE_SHOT_LIMIT = Duration.ofSeconds(60);
    private static final Duration ANSWER_LIMIT = Duration.ofSeconds(20);

    /** Who a process runs as: uid, primary gid and supplementary groups (none: cleared). */
    record Identity(int uid, int gid, int... groups) {
        List<String> setpriv() {
            List<String> c = new ArrayList<>(List.of("setpriv", "--reuid=" + uid, "--regid=" + gid));
            if (groups.length == 0) {
                c.add("--clear-groups");
            } else {
                StringBuilder g = new StringBuilder();
                for (int x : groups) {
                    g.append(g.isEmpty() ? "" : ",").append(x);
                }
                c.add("--groups=" + g);
            }
            c.add("--");
            return c;
        }
    }

    /** How a one-shot command ended. */
    record Outcome(int exit, String out, String err) {
        boolean succeeded() {
            return exit == 0;
        }

        @Override
        public String toString() {
            return "exit " + exit + ", stdout [" + out.strip() + "], stderr [" + err.strip() + "]";
        }
    }

    private final Process process;
    private final OutputStream stdin;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final StringBuffer stderr = new StringBuffer();

    private PosixProcess(Process process) {
        this.process = process;
        this.stdin = process.getOutputStream();
        Thread.ofVirtual().start(() -> pump(process.getInputStream(), lines, null));
        Thread.ofVirtual().start(() -> pump(process.getErrorStream(), null, stderr));
    }

    private static void pump(InputStream s, BlockingQueue<String> to, StringBuffer text) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(s, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (to != null) {
                    to.add(line);
                } else {
                    text.append(line).append('\n');
                }
            }
        } catch (IOException closed) {
            // The process is gone.
        }
    }

    /** Runs {@code sh -c script} as root in {@code cwd} and waits (bounded) for it. */
    static Outcome sh(Path cwd, String script) throws InterruptedException {
        return run(null, cwd, List.of("sh", "-c", script));
    }

    /** Runs {@code sh -c script} as {@code who} in {@code cwd}. */
    static Outcome sh(Identity who, Path cwd, String script) throws InterruptedException {
        return run(who, cwd, List.of("sh", "-c", script));
    }

    /** Runs {@code bash -c script} as root in {@code cwd}. */
    static Outcome bash(Path cwd, String script) throws InterruptedException {
        return run(null, cwd, List.of("bash", "-c", script));
    }

    static Outcome run(Identity who, Path cwd, List<String> command) throws InterruptedException {
        List<String> c = new ArrayList<>(who == null ? List.of() : who.setpriv());
        c.addAll(command);
        Process p;
        try {
            p = new ProcessBuilder(c).directory(cwd.toFile()).start();
        } catch (IOException e) {
            throw new AssertionError("cannot start " + c, e);
        }
        try {
            p.getOutputStream().close();
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> drain(p.getInputStream()));
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> drain(p.getErrorStream()));
            if (!p.waitFor(ONE_SHOT_LIMIT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError(c + " did not finish within " + ONE_SHOT_LIMIT);
            }
            return new Outcome(p.exitValue(), out.get(10, TimeUnit.SECONDS), err.get(10, TimeUnit.SECONDS));
        } catch (IOException | java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new AssertionError(c + ": " + e, e);
        } finally {
            kill(p);
        }
    }

    private static String drain(InputStream s) {
        try {
            return new String(s.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** Starts a long-lived {@code command} (as {@code who}, or root if null) that the test talks to line by line. */
    static PosixProcess start(Identity who, Path cwd, List<String> command) {
        List<String> c = new ArrayList<>(who == null ? List.of() : who.setpriv());
        c.addAll(command);
        try {
            return new PosixProcess(new ProcessBuilder(c).directory(cwd.toFile()).start());
        } catch (IOException e) {
            throw new AssertionError("cannot start " + c, e);
        }
    }

    /** A second process serving {@link PosixSyscalls} calls, as {@code who} (root if null). */
    static PosixProcess syscalls(Identity who) {
        return syscalls(who == null ? List.of() : who.setpriv());
    }

    /**
     * As {@link #syscalls(Identity)}, keeping the capability {@code capability} (e.g. "setgid")
     * although not root, so that the process can change its own credentials.
     */
    static PosixProcess syscallsWithCapability(Identity who, String capability) {
        List<String> c = new ArrayList<>(who.setpriv());
        c.addAll(c.size() - 1, List.of("--inh-caps=+" + capability, "--ambient-caps=+" + capability));
        return syscalls(c);
    }

    private static PosixProcess syscalls(List<String> prefix) {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> c = new ArrayList<>(prefix);
        c.addAll(List.of(java, "-XX:-UsePerfData", "-XX:TieredStopAtLevel=1", "-Xmx64m",
                "--enable-native-access=ALL-UNNAMED", "-cp", SyscallsClasses.DIR.toString(), PosixSyscalls.class.getName()));
        return start(null, Path.of("/"), c);
    }

    /**
     * PosixSyscalls (it needs only the JDK) copied where any user can read it: the child may run as
     * another uid, and the checkout it was built in may be private (a clone under a 0700
     * {@code mktemp -d} directory made every non-root child fail to find the class).
     */
    private static final class SyscallsClasses {
        static final Path DIR = copy();

        private static Path copy() {
            try {
                Path from = Path.of(PosixSyscalls.class.getProtectionDomain().getCodeSource().getLocation().toURI());
                String pkg = PosixSyscalls.class.getPackageName().replace('.', '/');
                java.util.Set<java.nio.file.attribute.PosixFilePermission> readable =
                        java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x");
                Path root = java.nio.file.Files.createTempDirectory("concord-syscalls",
                        java.nio.file.attribute.PosixFilePermissions.asFileAttribute(readable));
                Path to = root.resolve(pkg);
                java.nio.file.Files.createDirectories(to);
                for (Path p = to; !p.equals(root); p = p.getParent()) {
                    java.nio.file.Files.setPosixFilePermissions(p, readable);
                }
                try (var classes = java.nio.file.Files.newDirectoryStream(from.resolve(pkg), PosixSyscalls.class.getSimpleName() + "*.class")) {
                    for (Path cls : classes) {
                        Path copied = java.nio.file.Files.copy(cls, to.resolve(cls.getFileName().toString()));
                        java.nio.file.Files.setPosixFilePermissions(copied, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
                    }
                }
                Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(root)));
                return root;
            } catch (IOException | java.net.URISyntaxException e) {
                throw new AssertionError("cannot copy PosixSyscalls for other users", e);
            }
        }

        private static void deleteTree(Path root) {
            try (var all = java.nio.file.Files.walk(root)) {
                all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                // a temp directory left behind
            }
        }
    }

    long pid() {
        return process.pid();
    }

    /** Sends one line. */
    void send(String line) {
        try {
            stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            stdin.flush();
        } catch (IOException e) {
            throw new AssertionError("cannot write to process " + pid() + " (stderr: " + stderr + ")", e);
        }
    }

    /** The next line of output, waiting at most {@code limit}; null if none came in time. */
    String nextLine(Duration limit) throws InterruptedException {
        return lines.poll(limit.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The next line of output, which must come within the answer limit. */
    String expectLine() throws InterruptedException {
        String l = nextLine(ANSWER_LIMIT);
        if (l == null) {
            throw new AssertionError("process " + pid() + " gave no answer within " + ANSWER_LIMIT + " (alive " + process.isAlive()
                    + ", stderr: " + stderr + ")");
        }
        return l;
    }

    /** One {@link PosixSyscalls} call in this process: the words tab-joined, the answer line back. */
    String call(Object... words) throws InterruptedException {
        StringBuilder b = new StringBuilder();
        for (Object w : words) {
            b.append(b.isEmpty() ? "" : "\t").append(w);
        }
        send(b.toString());
        return expectLine();
    }

    /** Like {@link #call}, for a call that must succeed: its value. */
    long callOk(Object... words) throws InterruptedException {
        String a = call(words);
        if (!a.startsWith("ok ")) {
            throw new AssertionError(java.util.Arrays.toString(words) + " in process " + pid() + ": " + a);
        }
        return Long.parseLong(a.split(" ")[1]);
    }

    String stderr() {
        return stderr.toString();
    }

    /** Closes stdin and waits briefly for the process to end on its own, else kills it. Returns the exit status. */
    int finish() throws InterruptedException {
        try {
            stdin.close();
        } catch (IOException ignored) {
            // Already gone.
        }
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            kill(process);
            throw new AssertionError("process " + pid() + " did not end after its input was closed");
        }
        return process.exitValue();
    }

    @Override
    public void close() {
        kill(process);
    }

    private static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        if (p.isAlive()) {
            p.destroyForcibly();
        }
        try {
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
