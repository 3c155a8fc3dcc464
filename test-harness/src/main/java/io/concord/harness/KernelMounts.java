package io.concord.harness;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A mount as the rest of the machine sees it: what {@code /proc/self/mountinfo} lists at a
 * directory, whether the directory answers, and the lazy detach that clears a mount whatever
 * state its daemon is in. Every call here is bounded.
 */
public final class KernelMounts {
    private KernelMounts() {
    }

    /** The types of the filesystems mounted exactly at {@code dir}, bottom first (empty when none). */
    public static List<String> typesAt(Path dir) throws IOException {
        String at = dir.toAbsolutePath().normalize().toString();
        List<String> types = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            // id parent major:minor root mountpoint options [optional fields] - fstype source superoptions
            String[] f = line.split(" ");
            int dash = line.indexOf(" - ");
            if (f.length > 5 && unescape(f[4]).equals(at) && dash >= 0) {
                types.add(line.substring(dash + 3).split(" ")[0]);
            }
        }
        return types;
    }

    /** True when Concord is mounted at {@code dir}. */
    public static boolean concordAt(Path dir) throws IOException {
        return typesAt(dir).contains("fuse.concord");
    }

    /** True when listing {@code dir} succeeds (a mount whose daemon is gone answers ENOTCONN). */
    public static boolean answers(Path dir) {
        // Open the directory: that always reaches the daemon, where a stat may be answered from
        // the kernel's cached attributes even after the daemon died.
        try (var listing = Files.newDirectoryStream(dir)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** {@code umount -l} until nothing is mounted at {@code dir} (a few tries, each bounded). */
    public static void detachLazily(Path dir) throws IOException, InterruptedException {
        for (int i = 0; i < 8 && !typesAt(dir).isEmpty(); i++) {
            Process p = new ProcessBuilder("umount", "-l", dir.toAbsolutePath().normalize().toString()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    private static String unescape(String s) {
        return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }
}
