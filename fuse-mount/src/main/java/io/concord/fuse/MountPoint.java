package io.concord.fuse;

import io.concord.errors.ConcordException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Checks on the directory to mount on: it must exist and be a directory, and nothing may be
 * mounted there already. A FUSE mount left by a daemon that died (the kernel answers ENOTCONN for
 * it) is stale, and is detached so that the new mount can take its place.
 */
final class MountPoint {
    private static final System.Logger LOG = System.getLogger(MountPoint.class.getName());

    private MountPoint() {
    }

    /** Returns the directory's canonical path, ready to mount on. */
    static Path prepare(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        String mounted = mountedType(abs);
        if (mounted != null && mounted.startsWith("fuse") && isStale(abs)) {
            LibC.Result r = LibC.umount2(abs.toString(), LibC.MNT_DETACH);
            if (r.failed()) {
                throw new ConcordException("cannot clear the stale mount at " + abs + ": " + LibC.strerror(r.errno()));
            }
            LOG.log(System.Logger.Level.INFO, "cleared a stale FUSE mount at " + abs + " left by a daemon that is gone");
            mounted = mountedType(abs);
        }
        if (mounted != null) {
            throw new ConcordException(abs + " is in use: a " + mounted + " filesystem is mounted there");
        }
        if (!Files.exists(abs)) {
            throw new ConcordException("mount point " + abs + " does not exist");
        }
        if (!Files.isDirectory(abs)) {
            throw new ConcordException("mount point " + abs + " is not a directory");
        }
        return abs;
    }

    /**
     * True when the kernel says the mount's daemon is gone (ENOTCONN). Probed by opening the
     * directory, which always reaches the daemon: a stat may be answered from cached attributes.
     */
    static boolean isStale(Path dir) {
        try (var listing = Files.newDirectoryStream(dir)) {
            return false;
        } catch (IOException e) {
            return e.getMessage() != null && e.getMessage().contains("Transport endpoint is not connected");
        }
    }

    /** The filesystem type mounted exactly at {@code dir} (the topmost), or null. */
    static String mountedType(Path dir) {
        String type = null;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                // id parent major:minor root mountpoint options ... - fstype source superoptions
                String[] f = line.split(" ");
                if (f.length > 5 && unescape(f[4]).equals(dir.toString())) {
                    int dash = line.indexOf(" - ");
                    type = dash < 0 ? "?" : line.substring(dash + 3).split(" ")[0];
                }
            }
        } catch (IOException e) {
            throw new ConcordException("cannot read /proc/self/mountinfo: " + e.getMessage());
        }
        return type;
    }

    private static String unescape(String s) {
        return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }
}
