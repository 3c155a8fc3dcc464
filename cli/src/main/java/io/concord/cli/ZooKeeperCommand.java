package io.concord.cli;

import io.concord.dlm.EmbeddedZooKeeper;
import io.concord.errors.ConcordException;
import java.io.IOException;
import java.io.PrintStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.logging.Level;

/**
 * {@code concord zookeeper --port P --dir DIR [--port-file FILE] [--address HOST]}: one ZooKeeper
 * server in its own process, for a cluster on one machine (bin/concord up, MiniCluster). It serves
 * in the foreground until SIGTERM, keeping its data under DIR. Port 0 takes any free port; once the
 * server accepts connections its port is written to FILE (by a rename, so a script polling for the
 * file never reads half of it), and the file is removed again when it stops.
 *
 * <p>A lock on {@code DIR/zookeeper.lock} keeps a second server off the same data directory: two
 * servers writing one transaction log would corrupt it, and ZooKeeper itself does not check.
 * A production cluster runs a real ensemble instead; a single server is a single point of failure.
 */
final class ZooKeeperCommand {
    static final String USAGE = "concord zookeeper --port PORT --dir DIR [--port-file FILE] [--address HOST]";
    private static final Set<String> OPTIONS = Set.of("port", "dir", "port-file", "address");

    /** A started server, its data-directory lock, and the port file it wrote. */
    static final class Serving implements AutoCloseable {
        private final EmbeddedZooKeeper server;
        private final FileChannel lockChannel;
        private final Path portFile;
        private final int port;

        private Serving(EmbeddedZooKeeper server, FileChannel lockChannel, Path portFile, int port) {
            this.server = server;
            this.lockChannel = lockChannel;
            this.portFile = portFile;
            this.port = port;
        }

        int port() {
            return port;
        }

        String connectString() {
            return server.connectString();
        }

        @Override
        public synchronized void close() {
            if (!lockChannel.isOpen()) {
                return;
            }
            try {
                if (portFile != null) {
                    Files.deleteIfExists(portFile);
                }
            } catch (IOException e) {
                // The server stops all the same; a stale file names a port nobody serves.
            } finally {
                server.close();
                try {
                    lockChannel.close();
                } catch (IOException ignored) {
                    // Released by the process's end anyway.
                }
            }
        }
    }

    private ZooKeeperCommand() {
    }

    /** Serves until the process is told to stop; SIGTERM stops the server cleanly first. */
    static int run(String[] argv, PrintStream out) {
        // Startup is a page of INFO and a WARNING about defaults; a failure is our one line instead.
        ZooKeeperLogging.atLeast(Level.SEVERE);
        Serving serving = start(argv);
        ZooKeeperLogging.atLeast(Level.WARNING);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            serving.close();
            out.println("concord: ZooKeeper on port " + serving.port() + " stopped");
            out.flush();
        }, "concord-zookeeper-stop"));
        out.println("concord: ZooKeeper serving on " + serving.connectString() + " (stop it with SIGTERM)");
        out.flush();
        while (true) {
            try {
                Thread.sleep(Long.MAX_VALUE);
            } catch (InterruptedException e) {
                // Only a signal ends us; the shutdown hook does the stopping.
            }
        }
    }

    /** Starts the server the arguments describe, and writes the port file once it serves. */
    static Serving start(String[] argv) {
        Args a = Args.parseLong(argv, OPTIONS);
        if (!a.operands.isEmpty()) {
            throw new Args.UsageException("zookeeper takes no operands, not " + a.operands);
        }
        int port = port(a.required("port"));
        Path dir = Path.of(a.required("dir"));
        Path portFile = a.named.containsKey("port-file") ? Path.of(a.named.get("port-file")) : null;
        String host = a.named.getOrDefault("address", "127.0.0.1");
        FileChannel lock = lockDataDir(dir);
        EmbeddedZooKeeper server;
        try {
            server = EmbeddedZooKeeper.start(dir, new InetSocketAddress(host, port));
        } catch (BindException e) {
            closeQuietly(lock);
            throw new ConcordException("ZooKeeper cannot listen on " + host + ":" + port + ": "
                    + (port != 0 ? "the port is taken" : e.getMessage()) + " (choose another with --port)");
        } catch (IOException | RuntimeException e) {
            closeQuietly(lock);
            throw new ConcordException("ZooKeeper did not start on " + host + ":" + port + " with data in " + dir + ": " + e.getMessage(), e);
        }
        String connect = server.connectString();
        int bound = Integer.parseInt(connect.substring(connect.lastIndexOf(':') + 1));
        Serving serving = new Serving(server, lock, portFile, bound);
        if (portFile != null) {
            try {
                Path tmp = portFile.resolveSibling(portFile.getFileName() + ".tmp");
                Files.writeString(tmp, bound + "\n", StandardCharsets.US_ASCII);
                Files.move(tmp, portFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                serving.close();
                throw new ConcordException("cannot write the port file " + portFile + ": " + e.getMessage(), e);
            }
        }
        return serving;
    }

    private static int port(String text) {
        try {
            int p = Integer.parseInt(text);
            if (p < 0 || p > 65535) {
                throw new Args.UsageException("--port must be 0 (any free port) to 65535, not " + p);
            }
            return p;
        } catch (NumberFormatException e) {
            throw new Args.UsageException("--port takes a number, not '" + text + "'");
        }
    }

    private static FileChannel lockDataDir(Path dir) {
        FileChannel channel = null;
        try {
            Files.createDirectories(dir);
            channel = FileChannel.open(dir.resolve("zookeeper.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock held;
            try {
                held = channel.tryLock();
            } catch (java.nio.channels.OverlappingFileLockException sameProcess) {
                held = null;
            }
            if (held == null) {
                throw new ConcordException(dir + " is in use by another running ZooKeeper server");
            }
            return channel;
        } catch (IOException e) {
            closeQuietly(channel);
            throw new ConcordException("cannot use " + dir + " as ZooKeeper's data directory: " + e.getMessage(), e);
        } catch (ConcordException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // Nothing held yet that matters.
            }
        }
    }
}
