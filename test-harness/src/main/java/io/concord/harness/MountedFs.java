package io.concord.harness;

import io.concord.fs.ConcordFs;
import io.concord.fs.MkfsOptions;
import io.concord.fuse.Daemon;
import io.concord.fuse.FuseSession;
import io.concord.fuse.MountOptionsParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real FUSE mount of a fresh image, served from this JVM, for tests: {@code try (MountedFs m =
 * MountedFs.create(tmp)) { Files.writeString(m.dir().resolve("x"), "hi"); }}. Closing unmounts
 * (lazily if something is still open), waits for the daemon side to finish, and checks the image
 * with fsck, so every test that uses it ends with a consistency check.
 */
public final class MountedFs implements AutoCloseable {
    private final Path image;
    private final Path dir;
    private final Daemon daemon;
    private boolean closed;

    private MountedFs(Path image, Path dir, Daemon daemon) {
        this.image = image;
        this.dir = dir;
        this.daemon = daemon;
    }

    /** Formats a sparse image of {@code bytes} under {@code tmp} and mounts it with {@code options} (nolock is added). */
    public static MountedFs create(Path tmp, long bytes, String options) throws Exception {
        Path image = Images.formatted(tmp.resolve("mounted.img"), bytes, MkfsOptions.of("mount:test", 2), 17);
        return mount(image, tmp.resolve("mnt"), options);
    }

    public static MountedFs create(Path tmp) throws Exception {
        return create(tmp, 1L << 30, "");
    }

    /** Mounts an existing image at {@code dir} (created if missing). */
    public static MountedFs mount(Path image, Path dir, String options) throws Exception {
        if (Files.notExists(dir)) {
            // Not createDirectories: on a dead daemon's mount the directory "exists" but stat fails
            // (ENOTCONN), and the mount itself must clear that.
            Files.createDirectories(dir);
        }
        String o = options == null || options.isBlank() ? "nolock" : "nolock," + options;
        Daemon d = Daemon.start(image, dir, MountOptionsParser.parse(o));
        return new MountedFs(image, dir, d);
    }

    public Path dir() {
        return dir;
    }

    public Path image() {
        return image;
    }

    /** The filesystem behind the mount, to change things behind the kernel's back (as another node would). */
    public ConcordFs filesystem() {
        return daemon.filesystem();
    }

    public FuseSession session() {
        return daemon.session();
    }

    /** Unmounts and closes without checking the image. */
    public void unmount() throws InterruptedException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            daemon.session().unmount(false);
        } catch (RuntimeException busy) {
            daemon.session().unmount(true);
        }
        daemon.session().awaitEnd(TimeUnit.SECONDS.toMillis(20));
        daemon.close();
    }

    @Override
    public void close() throws Exception {
        boolean wasOpen = !closed;
        unmount();
        if (wasOpen) {
            FsckSupport.assertClean(image);
        }
    }
}
