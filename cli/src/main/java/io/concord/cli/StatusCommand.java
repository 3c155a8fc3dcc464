package io.concord.cli;

import io.concord.errors.ConcordException;
import java.io.PrintStream;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;

/**
 * {@code concord status --zk HOST:PORT[,HOST:PORT...] --table CLUSTER:FS}: the members of a lock
 * space, their journal slots and the epoch, as ZooKeeper has them ({@link LockSpaceStatus}).
 */
final class StatusCommand {
    static final String USAGE = "concord status --zk HOST:PORT --table CLUSTER:FS";
    private static final int CONNECT_SECONDS = 5;

    private StatusCommand() {
    }

    static int run(String[] argv, PrintStream out) {
        Args a = Args.parseLong(argv, Set.of("zk", "table"));
        if (!a.operands.isEmpty()) {
            throw new Args.UsageException("status takes no operands, not " + a.operands);
        }
        String connect = a.required("zk");
        String table = a.required("table");
        int colon = table.indexOf(':');
        if (colon <= 0 || colon == table.length() - 1) {
            throw new Args.UsageException("--table is cluster:fsname, not '" + table + "'");
        }
        // A ZooKeeper that is down makes Curator log every retry; the one line below says it.
        ZooKeeperLogging.atLeast(Level.OFF);
        try (CuratorFramework zk = CuratorFrameworkFactory.builder().connectString(connect).sessionTimeoutMs(10_000)
                .connectionTimeoutMs(CONNECT_SECONDS * 1000).retryPolicy(new RetryOneTime(200)).build()) {
            zk.start();
            if (!zk.blockUntilConnected(CONNECT_SECONDS, TimeUnit.SECONDS)) {
                throw new ConcordException("cannot reach ZooKeeper at " + connect + " within " + CONNECT_SECONDS + " s");
            }
            LockSpaceStatus.read(zk, table.substring(0, colon), table.substring(colon + 1)).print(out);
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConcordException("interrupted while reading ZooKeeper", e);
        } catch (ConcordException e) {
            throw e;
        } catch (Exception e) {
            throw new ConcordException("reading lock space " + table + " from ZooKeeper at " + connect + " failed: " + e.getMessage(), e);
        }
    }
}
