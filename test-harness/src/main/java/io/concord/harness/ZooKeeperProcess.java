package io.concord.harness;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code concord zookeeper} as its own process, serving a cluster of test nodes on loopback. Its
 * data, port file and log are kept in one directory, for the post-mortem of a failed test.
 */
final class ZooKeeperProcess {
    private static final Duration READY = Duration.ofSeconds(60);

    private final Process process;
    private final Path log;
    private final int port;

    private ZooKeeperProcess(Process process, Path log, int port) {
        this.process = process;
        this.log = log;
        this.port = port;
    }

    /** Starts a server on any free loopback port and returns once it serves. */
    static ZooKeeperProcess start(Path dir) throws IOException, InterruptedException {
        Path portFile = dir.resolve("zookeeper.port");
        Path log = dir.resolve("zookeeper.log");
        Files.deleteIfExists(portFile);
        Process p = new ProcessBuilder(JavaCommand.of(JavaCommand.CONCORD, List.of("zookeeper", "--port", "0",
                "--dir", dir.resolve("zookeeper").toString(), "--port-file", portFile.toString())))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        boolean serving = BoundedWait.until(READY, () -> !p.isAlive() || Files.size(portFile) > 0);
        if (!serving || !p.isAlive()) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new IllegalStateException("ZooKeeper " + (serving ? "exited" : "did not serve within " + READY.toSeconds() + " s")
                    + ": " + Files.readString(log).strip());
        }
        return new ZooKeeperProcess(p, log, Integer.parseInt(Files.readString(portFile).strip()));
    }

    String connectString() {
        return "127.0.0.1:" + port;
    }

    long pid() {
        return process.pid();
    }

    boolean isRunning() {
        return process.isAlive();
    }

    Path log() {
        return log;
    }

    /** SIGTERM, then SIGKILL; returns null when it stopped on SIGTERM, else what had to be done. */
    String stop() throws InterruptedException {
        if (!process.isAlive()) {
            return null;
        }
        process.destroy();
        if (process.waitFor(15, TimeUnit.SECONDS)) {
            return null;
        }
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        return "ZooKeeper (pid " + process.pid() + ") ignored SIGTERM for 15 s and was killed";
    }
}
