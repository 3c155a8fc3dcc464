import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * The metadata loop of bench/fs: {@code java MetaLoop.java DIR COUNT}.
 *
 * <p>In DIR/meta (made afresh) it creates and closes COUNT empty files, stats each, then unlinks
 * each, timing the three phases. A warm-up round of COUNT/10 files in DIR/warm runs first, untimed,
 * so that the JIT compiler's start-up is not charged to the filesystem.
 *
 * <p>Prints, one per line: {@code create_ops N}, {@code stat_ops N}, {@code unlink_ops N} and
 * {@code metaloop_ops N} (all 3*COUNT operations over the three phases' total time), as operations
 * per second.
 */
public final class MetaLoop {
    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: java MetaLoop.java DIR COUNT");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        int count = Integer.parseInt(args[1]);
        run(Files.createDirectory(dir.resolve("warm")), Math.max(1, count / 10));
        Files.delete(dir.resolve("warm"));
        long[] nanos = run(Files.createDirectory(dir.resolve("meta")), count);
        Files.delete(dir.resolve("meta"));
        System.out.printf("create_ops %.0f%n", rate(count, nanos[0]));
        System.out.printf("stat_ops %.0f%n", rate(count, nanos[1]));
        System.out.printf("unlink_ops %.0f%n", rate(count, nanos[2]));
        System.out.printf("metaloop_ops %.0f%n", rate(3L * count, nanos[0] + nanos[1] + nanos[2]));
    }

    /** Runs the three phases over COUNT files in dir; returns each phase's duration in ns. */
    private static long[] run(Path dir, int count) throws IOException {
        Path[] files = new Path[count];
        for (int i = 0; i < count; i++) {
            files[i] = dir.resolve(String.format("f%06d", i));
        }
        long[] nanos = new long[3];
        long t = System.nanoTime();
        for (Path f : files) {
            Files.createFile(f); // open(O_CREAT|O_EXCL) and close
        }
        nanos[0] = System.nanoTime() - t;
        t = System.nanoTime();
        long bytes = 0;
        for (Path f : files) {
            bytes += Files.readAttributes(f, BasicFileAttributes.class).size(); // stat(2)
        }
        nanos[1] = System.nanoTime() - t;
        if (bytes != 0) {
            throw new IllegalStateException("created files are not empty: " + bytes + " bytes in all");
        }
        t = System.nanoTime();
        for (Path f : files) {
            if (!f.toFile().delete()) { // remove(3): unlink(2) alone (Files.delete would lstat first)
                throw new IOException("cannot unlink " + f);
            }
        }
        nanos[2] = System.nanoTime() - t;
        return nanos;
    }

    private static double rate(long ops, long nanos) {
        return ops / (nanos / 1e9);
    }
}
