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

/**
 * One node of a {@link MiniCluster}: a {@code mount.concord -o foreground,...} daemon in its own
 * process, mounting the cluster's image at its own directory, as a separate machine would. The
 * cluster controls it (start, kill -9, SIGSTOP/SIGCONT, clean stop); a test reads it (its mount
 * point, pid, log). One process at a time; each start appends to the same log.
 */
public final class ClusterNode {
    private static final Duration READY = Duration.ofSeconds(90);
    private static final Duration UMOUNT = Duration.ofSeconds(20);
    private static final Duration EXIT_AFTER_UMOUNT = Duration.ofSeconds(30);
    private static final Duration EXIT_AFTER_SIGTERM = Duration.ofSeconds(20);

    private final String name;
    private final Path mountPoint;
    private final Path log;
    private Process process;
    private boolean paused;

    ClusterNode(String name, Path mountPoint, Path log) {
        this.name = name;
        this.mountPoint = mountPoint.toAbsolutePath().normalize();
        this.log = log;
    }

    public String name() {
        return name;
    }

    public Path mountPoint() {
        return mountPoint;
    }

    /** Where its daemon writes (stdout and stderr, across restarts). */
    public Path log() {
        return log;
    }

    public String logText() throws IOException {
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    }

    /** The running daemon's pid; throws when none runs. */
    public synchronized long pid() {
        if (process == null || !process.isAlive()) {
            throw new IllegalStateException(name + " has no running daemon");
        }
        return process.pid();
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    public synchronized boolean isPaused() {
        return paused && isRunning();
    }

    /** Starts the daemon with these mount options and returns once its mount answers. */
    synchronized void start(Path image, String options) throws IOException, InterruptedException {
        if (isRunning()) {
            throw new IllegalStateException(name + " is already running (pid " + process.pid() + ")");
        }
        if (Files.notExists(mountPoint)) {
            // Not createDirectories on an existing one: a dead daemon's mount "exists" but fails to
            // stat, and the mount itself clears it.
            Files.createDirectories(mountPoint);
        }
        Files.writeString(log, "---- " + name + ": mount.concord " + image + " " + mountPoint + " -o " + options + "\n",
                StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        Process p = new ProcessBuilder(JavaCommand.of(JavaCommand.MOUNT, List.of(image.toString(), mountPoint.toString(), "-o", options)))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        process = p;
        paused = false;
        // Answers first, then listed: see ForkedMount (a remount detaches the dead daemon's mount
        // first, and in between the bare directory answers).
        boolean up = BoundedWait.until(READY, () -> !p.isAlive() || (KernelMounts.answers(mountPoint) && KernelMounts.concordAt(mountPoint)));
        if (!up || !p.isAlive()) {
            String why = p.isAlive() ? "did not mount within " + READY.toSeconds() + " s" : "exited (" + p.exitValue() + ") before mounting";
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            KernelMounts.detachLazily(mountPoint);
            throw new IllegalStateException(name + " " + why + " " + mountPoint + ": " + lastLines(8));
        }
    }

    /** SIGKILL: the daemon dies at once; the kernel keeps its mount, which answers ENOTCONN. */
    synchronized void kill9() throws InterruptedException {
        Process p = running();
        p.destroyForcibly();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            throw new IllegalStateException(name + " (pid " + p.pid() + ") survived SIGKILL for 20 s");
        }
        paused = false;
    }

    /**
     * SIGSTOP: the daemon stops answering anything, its ZooKeeper session included, until resumed.
     * Returns once the kernel reports it stopped (kill(1) returns before the signal is taken).
     */
    synchronized void pause() throws IOException, InterruptedException {
        Process p = running();
        signal(p, "STOP");
        paused = true;
        if (!BoundedWait.until(Duration.ofSeconds(10), () -> processState(p.pid()) == 'T')) {
            throw new IllegalStateException(name + " (pid " + p.pid() + ") is not stopped 10 s after SIGSTOP: state " + processState(p.pid()));
        }
    }

    /** The state letter of /proc/PID/stat for the running daemon: R, S, D, T (stopped), ... */
    public synchronized char processState() throws IOException {
        return processState(running().pid());
    }

    private static char processState(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        return stat.charAt(stat.lastIndexOf(')') + 2);
    }

    /** SIGCONT. */
    synchronized void resume() throws IOException, InterruptedException {
        signal(running(), "CONT");
        paused = false;
    }

    /**
     * Unmounts as an administrator would ({@code umount DIR}) and waits for the daemon to leave the
     * cluster and exit. If it cannot, escalates: SIGTERM, then SIGKILL and a lazy detach.
     *
     * @return null if the stop was clean, else what went wrong and what had to be done
     */
    synchronized String stop() throws IOException, InterruptedException {
        List<String> trouble = new ArrayList<>();
        if (paused && isRunning()) {
            resume();
        }
        if (isRunning()) {
            String umount = umount();
            if (umount != null) {
                trouble.add(umount);
            }
            if (!process.waitFor(EXIT_AFTER_UMOUNT.toMillis(), TimeUnit.MILLISECONDS)) {
                trouble.add("the daemon (pid " + process.pid() + ") did not exit within " + EXIT_AFTER_UMOUNT.toSeconds() + " s of umount");
                process.destroy();
                if (!process.waitFor(EXIT_AFTER_SIGTERM.toMillis(), TimeUnit.MILLISECONDS)) {
                    trouble.add("nor within " + EXIT_AFTER_SIGTERM.toSeconds() + " s of SIGTERM: killed it");
                    process.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
                }
            } else if (process.exitValue() != 0) {
                trouble.add("the daemon exited " + process.exitValue() + " after umount");
            }
        }
        if (!KernelMounts.typesAt(mountPoint).isEmpty()) {
            // A killed daemon's mount (expected after kill9), or one the steps above could not end.
            KernelMounts.detachLazily(mountPoint);
            if (!KernelMounts.typesAt(mountPoint).isEmpty()) {
                trouble.add("still mounted after umount -l: " + KernelMounts.typesAt(mountPoint));
            }
        }
        return trouble.isEmpty() ? null : name + ": " + String.join("; ", trouble) + " (log " + log + ")";
    }

    /** {@code umount DIR}, bounded; null on success, else what umount said. */
    private String umount() throws IOException, InterruptedException {
        try {
            BoundedCommand u = BoundedCommand.run(List.of("umount", mountPoint.toString()), UMOUNT);
            return u.exitCode() == 0 ? null : "umount failed (" + u.exitCode() + "): " + u.output().strip();
        } catch (IllegalStateException hung) {
            return hung.getMessage();
        }
    }

    private Process running() {
        if (process == null || !process.isAlive()) {
            throw new IllegalStateException(name + " has no running daemon");
        }
        return process;
    }

    /** kill -SIG PID, bounded: Java can send only TERM and KILL itself. */
    private static void signal(Process p, String signal) throws IOException, InterruptedException {
        BoundedCommand k = BoundedCommand.run(List.of("kill", "-" + signal, String.valueOf(p.pid())), Duration.ofSeconds(10));
        if (k.exitCode() != 0) {
            throw new IllegalStateException("kill -" + signal + " " + p.pid() + " failed: " + k.output().strip());
        }
    }

    private String lastLines(int n) throws IOException {
        List<String> lines = logText().lines().toList();
        return String.join(" / ", lines.subList(Math.max(0, lines.size() - n), lines.size()));
    }

    @Override
    public String toString() {
        return name + " at " + mountPoint;
    }
}
