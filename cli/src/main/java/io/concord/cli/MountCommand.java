package io.concord.cli;

import io.concord.errors.ConcordException;
import io.concord.fuse.Daemon;
import io.concord.fuse.MountOptionsParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.FileHandler;
import java.util.logging.Handler;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * {@code mount.concord DEVICE DIR [-o OPTIONS] [-s] [-f] [-n] [-v]}, also run by mount(8) for
 * {@code mount -t concord} and fstab lines.
 *
 * <p>By default the daemon runs in the background: this command starts it as its own session
 * (setsid), waits until it reports the mount usable, and exits 0; or prints the daemon's reason
 * and exits 32 (mount(8)'s "mount failure"), leaving no mount behind. The daemon logs to
 * {@code -o log=PATH} (default /var/log/concord/mount-DIR.log). {@code -o foreground} keeps it
 * attached, logging to stderr.
 */
public final class MountCommand {
    static final String USAGE = "usage: mount.concord DEVICE DIR [-o OPTIONS] [-s] [-f] [-n] [-v]";
    static final int EXIT_USAGE = 1;
    static final int EXIT_FAILURE = 32;
    private static final String READY = "CONCORD-MOUNT-READY";
    private static final String ERROR = "CONCORD-MOUNT-ERROR ";
    private static final long READY_TIMEOUT_SECONDS = 120;

    private MountCommand() {
    }

    public static void main(String[] argv) {
        if (argv.length > 0 && argv[0].equals("--daemon")) {
            System.exit(daemon(java.util.Arrays.copyOfRange(argv, 1, argv.length)));
        }
        System.exit(run(argv, System.out, System.err));
    }

    record Invocation(Path device, Path dir, String options, boolean fake, boolean sloppy) {
    }

    static Invocation parse(String[] argv) {
        List<String> operands = new ArrayList<>();
        StringBuilder options = new StringBuilder();
        boolean fake = false;
        boolean sloppy = false;
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            switch (a) {
                case "-o" -> {
                    if (++i >= argv.length) {
                        throw new Args.UsageException("-o needs options");
                    }
                    options.append(options.isEmpty() ? "" : ",").append(argv[i]);
                }
                case "-t" -> i++; // mount(8) may pass the type again
                case "-N" -> i++; // a namespace: we mount in our own
                case "-f" -> fake = true;
                case "-s" -> sloppy = true;
                case "-n", "-v" -> { }
                default -> {
                    if (a.startsWith("-o") && a.length() > 2) {
                        options.append(options.isEmpty() ? "" : ",").append(a.substring(2));
                    } else if (a.startsWith("-")) {
                        throw new Args.UsageException("unknown option " + a);
                    } else {
                        operands.add(a);
                    }
                }
            }
        }
        if (operands.size() != 2) {
            throw new Args.UsageException("need a device and a mount point");
        }
        return new Invocation(Path.of(operands.get(0)), Path.of(operands.get(1)), options.toString(), fake, sloppy);
    }

    static int run(String[] argv, PrintStream out, PrintStream err) {
        Invocation inv;
        MountOptionsParser.Options o;
        try {
            inv = parse(argv);
            o = MountOptionsParser.parse(inv.options());
        } catch (Args.UsageException e) {
            err.println("mount.concord: " + e.getMessage());
            err.println(USAGE);
            return EXIT_USAGE;
        } catch (ConcordException e) {
            err.println("mount.concord: " + e.getMessage());
            return EXIT_USAGE;
        }
        if (!Files.exists(inv.device())) {
            err.println("mount.concord: " + inv.device() + ": no such device or file");
            return EXIT_FAILURE;
        }
        if (inv.fake()) {
            return 0;
        }
        if (o.foreground()) {
            return foreground(inv, o, err);
        }
        return background(argv, inv, o, err);
    }

    private static int foreground(Invocation inv, MountOptionsParser.Options o, PrintStream err) {
        try {
            Daemon d = Daemon.start(inv.device(), inv.dir(), o);
            d.awaitUnmount();
            return 0;
        } catch (ConcordException e) {
            err.println("mount.concord: " + e.getMessage());
            return EXIT_FAILURE;
        } catch (InterruptedException e) {
            return EXIT_FAILURE;
        } catch (RuntimeException e) {
            return Internal.report("mount.concord", e, err) == 0 ? 0 : EXIT_FAILURE;
        }
    }

    /** Starts the daemon in its own session and waits until it says the mount is usable. */
    private static int background(String[] argv, Invocation inv, MountOptionsParser.Options o, PrintStream err) {
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
            cmd.add("/usr/bin/setsid");
        }
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.add("--enable-native-access=ALL-UNNAMED");
        // The daemon's footprint: metadata cache (64 MiB by default) and request buffers fit well within this.
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-Xmx320m");
        cmd.add("-Djava.util.logging.manager=" + DaemonLogManager.class.getName());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(MountCommand.class.getName());
        cmd.add("--daemon");
        cmd.add(inv.device().toString());
        cmd.add(inv.dir().toString());
        cmd.add(inv.options());
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(READY_TIMEOUT_SECONDS);
            String line;
            List<String> said = new ArrayList<>();
            while ((line = r.readLine()) != null) {
                if (line.equals(READY)) {
                    return 0;
                }
                if (line.startsWith(ERROR)) {
                    err.println("mount.concord: " + line.substring(ERROR.length()));
                    p.waitFor(10, TimeUnit.SECONDS);
                    return EXIT_FAILURE;
                }
                said.add(line);
                if (System.nanoTime() > deadline) {
                    break;
                }
            }
            p.waitFor(5, TimeUnit.SECONDS);
            err.println("mount.concord: the daemon exited without mounting" + (said.isEmpty() ? "" : ": " + String.join(" / ", said)));
            return EXIT_FAILURE;
        } catch (IOException e) {
            err.println("mount.concord: cannot start the daemon: " + e.getMessage());
            return EXIT_FAILURE;
        } catch (InterruptedException e) {
            return EXIT_FAILURE;
        }
    }

    /** The background daemon: logs to its file, reports READY or ERROR on stdout, then serves. */
    private static int daemon(String[] argv) {
        PrintStream status = System.out;
        try {
            Path device = Path.of(argv[0]);
            Path dir = Path.of(argv[1]);
            MountOptionsParser.Options o = MountOptionsParser.parse(argv.length > 2 ? argv[2] : "");
            Path log = o.log() != null ? o.log() : defaultLog(dir);
            logTo(log);
            Daemon d = Daemon.start(device, dir, o);
            status.println(READY);
            status.flush();
            PrintStream logStream = new PrintStream(Files.newOutputStream(log, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND), true, StandardCharsets.UTF_8);
            System.setOut(logStream);
            System.setErr(logStream);
            d.awaitUnmount();
            return 0;
        } catch (ConcordException e) {
            status.println(ERROR + e.getMessage());
            return EXIT_FAILURE;
        } catch (RuntimeException e) {
            status.println(ERROR + "internal error: " + e);
            Logger.getLogger("").log(java.util.logging.Level.SEVERE, "daemon failed", e);
            return EXIT_FAILURE;
        } catch (IOException | InterruptedException e) {
            status.println(ERROR + e.getMessage());
            return EXIT_FAILURE;
        }
    }

    private static Path defaultLog(Path dir) {
        String name = "mount" + dir.toAbsolutePath().normalize().toString().replace('/', '-') + ".log";
        Path logDir = Path.of("/var/log/concord");
        try {
            Files.createDirectories(logDir);
            if (Files.isWritable(logDir)) {
                return logDir.resolve(name);
            }
        } catch (IOException e) {
            // fall through to /tmp
        }
        return Path.of(System.getProperty("java.io.tmpdir"), "concord-" + name);
    }

    private static void logTo(Path log) throws IOException {
        Logger root = Logger.getLogger("");
        for (Handler h : root.getHandlers()) {
            root.removeHandler(h);
        }
        Files.createDirectories(log.toAbsolutePath().getParent());
        FileHandler file = new FileHandler(log.toString(), true);
        file.setFormatter(new SimpleFormatter());
        root.addHandler(file);
        DaemonLogManager.configured();
    }
}
