package io.concord.harness;

import java.util.ArrayList;
import java.util.List;

/**
 * The command line that runs one of Concord's entry points in a JVM of its own, as the launchers
 * in bin/ do, on this JVM's java and class path: how tests start daemons and tools as separate
 * processes that they can kill, pause and restart.
 */
public final class JavaCommand {
    public static final String MOUNT = "io.concord.cli.MountCommand";
    public static final String CONCORD = "io.concord.cli.ConcordCommand";
    public static final String FSCK = "io.concord.cli.FsckCommand";

    private JavaCommand() {
    }

    /** {@code java [daemon flags] -cp CLASSPATH MAIN ARGS...}. */
    public static List<String> of(String main, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElseThrow(() -> new IllegalStateException("no path to this JVM's java")));
        cmd.add("--enable-native-access=ALL-UNNAMED");
        // What bin/mount.concord runs a daemon with: small, so that several fit on one test machine.
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-Xmx320m");
        cmd.add("-Djava.util.logging.SimpleFormatter.format=%4$s: %5$s%6$s%n");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(main);
        cmd.addAll(args);
        return cmd;
    }
}
