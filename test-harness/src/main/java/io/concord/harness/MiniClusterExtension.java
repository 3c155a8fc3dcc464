package io.concord.harness;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A fresh {@link MiniCluster} for every test, closed after it: every node unmounted, every
 * process stopped, and the test failed unless {@code fsck.concord -n} finds the image clean (the
 * validate-after-every-test habit).
 *
 * <pre>
 * &#64;RegisterExtension
 * final MiniClusterExtension cluster = MiniClusterExtension.with(b -&gt; b.nodes(3));
 * </pre>
 *
 * A passing test's directory is deleted; a failing one's is kept, with the nodes' and ZooKeeper's
 * logs, and named in the failure.
 */
public final class MiniClusterExtension implements BeforeEachCallback, AfterEachCallback {
    private final UnaryOperator<MiniCluster.Builder> settings;
    private Path dir;
    private MiniCluster cluster;

    private MiniClusterExtension(UnaryOperator<MiniCluster.Builder> settings) {
        this.settings = settings;
    }

    public static MiniClusterExtension with(UnaryOperator<MiniCluster.Builder> settings) {
        return new MiniClusterExtension(settings);
    }

    /** The running cluster of the current test. */
    public MiniCluster cluster() {
        if (cluster == null) {
            throw new IllegalStateException("no cluster outside a test");
        }
        return cluster;
    }

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        dir = Files.createTempDirectory("minicluster-" + context.getRequiredTestMethod().getName() + "-");
        cluster = settings.apply(MiniCluster.builder(dir)).start();
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        MiniCluster c = cluster;
        cluster = null;
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n  (kept " + dir + " with the logs)", e);
        }
        if (context.getExecutionException().isEmpty()) {
            deleteTree(dir);
        }
    }

    /** Deletes what close left, which no longer holds a mount (close detached them all). */
    private static void deleteTree(Path root) throws IOException {
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
