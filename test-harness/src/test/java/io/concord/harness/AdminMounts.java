package io.concord.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Mounts made as an administrator makes them (mount.concord in the background, umount), at
 * directories under a test's work directory; each daemon logs next to them. {@link #cleanUp}
 * leaves no mount and no daemon at any of them and says which had some left.
 */
final class AdminMounts {
    private final Path work;
    private final List<Path> dirs = new ArrayList<>();

    AdminMounts(Path work) {
        this.work = work;
    }

    /** A mount point, created and remembered for {@link #cleanUp}. */
    Path dir(String name) throws Exception {
        Path d = Files.createDirectories(work.resolve(name));
        dirs.add(d);
        return d;
    }

    ForkedMount.Outcome mount(Path image, Path dir, String options) throws Exception {
        return ForkedMount.mountConcord(work, image.toString(), dir.toString(), "-o",
                (options.isEmpty() ? "" : options + ",") + "log=" + work.resolve(dir.getFileName() + ".log"));
    }

    void assertMounts(Path image, Path dir, String options) throws Exception {
        ForkedMount.Outcome o = mount(image, dir, options);
        assertEquals(0, o.exitCode(), "mount " + dir + ": " + o);
    }

    /** umount, then waits (bounded) for the daemon to finish writing back and exit. */
    void umount(Path dir) throws Exception {
        ForkedMount.Outcome u = ForkedMount.umount(work, dir.toString());
        assertEquals(0, u.exitCode(), "umount " + dir + ": " + u);
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!ForkedMount.daemonsServing(dir).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(List.of(), ForkedMount.daemonsServing(dir), "the daemon of " + dir + " did not exit after umount");
    }

    /** The pid of the one daemon serving {@code dir}. */
    static long daemonPid(Path dir) {
        List<ProcessHandle> serving = ForkedMount.daemonsServing(dir);
        assertEquals(1, serving.size(), "one daemon serves " + dir + ": " + serving);
        return serving.getFirst().pid();
    }

    /** Clears every directory; returns those that still had a mount or a daemon. */
    List<String> cleanUp() throws Exception {
        List<String> left = new ArrayList<>();
        for (Path d : dirs) {
            if (!KernelMounts.typesAt(d).isEmpty() || !ForkedMount.daemonsServing(d).isEmpty()) {
                left.add(d.toString());
            }
            ForkedMount.cleanUp(d);
        }
        return left;
    }
}
