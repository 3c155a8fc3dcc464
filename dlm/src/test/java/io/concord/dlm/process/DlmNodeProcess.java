package io.concord.dlm.process;

import io.concord.dlm.ClusterConfig;
import io.concord.dlm.ClusterLockManager;
import io.concord.dlm.ClusterLockSpace;
import io.concord.dlm.Lock;
import io.concord.dlm.LockMode;
import io.concord.dlm.LockSpaceListener;
import io.concord.dlm.LockTimeoutException;
import io.concord.dlm.LockValueBlock;
import io.concord.dlm.ResourceName;
import io.concord.dlm.check.LockHistory;
import io.concord.dlm.check.Workload;
import io.concord.dlm.membership.Member;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * One DLM node in a process of its own, driven by a test through stdin and stdout (see
 * {@link NodeProcess}), so that the test can kill it with SIGKILL, stop it with SIGSTOP or cut it
 * off ZooKeeper: failures a node inside the test's JVM cannot suffer.
 *
 * <p>Arguments: ZooKeeper connect string, key file, cluster, node name, lock space, session timeout
 * in ms, history file, seed.
 *
 * <p>Protocol: one command per line in, one answer line per command out, plus unsolicited lines
 * for what the lock space tells its owner ({@code failed <name> <incarnation>}, {@code suspended},
 * {@code resumed}, {@code expelled <why>}) and for asynchronous outcomes ({@code granted} after
 * {@code request}, {@code workload-done}). Resources are written {@code I1000}; each node keeps one
 * lock handle per resource. Commands:
 * <pre>
 * lock R MODE [ms]   granted R MODE | timeout R | error R Exception
 * request R MODE     requested R, later granted R MODE | error R Exception
 * unlock R           unlocked R | error R Exception
 * held R             held R MODE|none
 * lvb-set R TEXT     lvb-staged R | error R Exception   (staged; published by the next unlock)
 * lvb R              lvb R SEQUENCE valid|invalid TEXT|-
 * masters R...       masters R=NAME...
 * workload SECONDS   workload-started, later workload-done STATS | workload-failed WHY
 * recovered INC      recovered-marked INC | error recovered unknown-incarnation
 * exit               bye, then the process leaves the lock space and ends
 * </pre>
 * The process also ends when stdin closes, so that it never outlives the test that started it.
 */
public final class DlmNodeProcess {
    // Nothing the test did not ask for may reach the protocol stream: libraries get stderr.
    private static final PrintStream PROTOCOL = System.out;
    private static final Duration DEFAULT_LOCK_WAIT = Duration.ofSeconds(10);
    // A leaked process (a test JVM that died without closing our stdin) still ends.
    private static final Duration LIFETIME = Duration.ofMinutes(5);

    private final ClusterLockSpace space;
    private final String nodeName;
    private final Path historyFile;
    private final long seed;
    private final Map<ResourceName, Lock> locks = new ConcurrentHashMap<>();
    private final Map<Long, Member> failed;

    private DlmNodeProcess(ClusterLockSpace space, Map<Long, Member> failed, String nodeName, Path historyFile, long seed) {
        this.space = space;
        this.failed = failed;
        this.nodeName = nodeName;
        this.historyFile = historyFile;
        this.seed = seed;
    }

    public static void main(String[] args) throws Exception {
        System.setOut(System.err);
        if (args.length != 8) {
            System.err.println("usage: DlmNodeProcess zookeeper keyFile cluster node lockSpace sessionMs historyFile seed");
            System.exit(2);
        }
        Thread.ofPlatform().daemon().name("lifetime").start(() -> {
            try {
                Thread.sleep(LIFETIME);
            } catch (InterruptedException e) {
                return;
            }
            System.err.println("lived past " + LIFETIME + "; exiting");
            Runtime.getRuntime().halt(3);
        });
        String nodeName = args[3];
        ClusterConfig config = ClusterConfig.loopback(args[2], nodeName, args[0], Path.of(args[1]))
                .withSessionTimeout(Duration.ofMillis(Long.parseLong(args[5])));
        ClusterLockManager manager = ClusterLockManager.start(config);
        Listener listener = new Listener();
        ClusterLockSpace space = manager.openLockSpace(args[4], listener);
        DlmNodeProcess node = new DlmNodeProcess(space, listener.failed, nodeName, Path.of(args[6]), Long.parseLong(args[7]));
        say("ready " + space.self().incarnation());
        node.serve(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)));
        try {
            manager.close();
        } finally {
            Runtime.getRuntime().halt(0); // Curator and Netty leave non-daemon threads behind
        }
    }

    static synchronized void say(String line) {
        PROTOCOL.println(line);
        PROTOCOL.flush();
    }

    private void serve(BufferedReader in) throws Exception {
        String line;
        while ((line = in.readLine()) != null) {
            String[] words = line.trim().split("\\s+");
            if (words[0].isEmpty()) {
                continue;
            }
            if (words[0].equals("exit")) {
                say("bye");
                return;
            }
            try {
                command(words);
            } catch (RuntimeException e) {
                say("error " + words[0] + " " + describe(e));
            }
        }
    }

    private void command(String[] w) throws Exception {
        switch (w[0]) {
            case "lock" -> lock(w[1], LockMode.valueOf(w[2]), w.length > 3 ? Duration.ofMillis(Long.parseLong(w[3])) : DEFAULT_LOCK_WAIT);
            case "request" -> request(w[1], LockMode.valueOf(w[2]));
            case "unlock" -> unlock(w[1]);
            case "held" -> {
                Lock lock = locks.get(resource(w[1]));
                LockMode mode = lock == null ? null : lock.grantedMode();
                say("held " + w[1] + " " + (mode == null ? "none" : mode));
            }
            case "lvb-set" -> {
                try {
                    byte[] value = Arrays.copyOf(w[2].getBytes(StandardCharsets.US_ASCII), LockValueBlock.SIZE);
                    handle(w[1]).setValueBlock(value);
                    say("lvb-staged " + w[1]);
                } catch (RuntimeException e) {
                    say("error " + w[1] + " " + describe(e));
                }
            }
            case "lvb" -> {
                Lock lock = locks.get(resource(w[1]));
                LockValueBlock lvb = lock == null ? null : lock.valueBlock();
                say(lvb == null ? "lvb " + w[1] + " 0 invalid -"
                        : "lvb " + w[1] + " " + lvb.sequence() + " " + (lvb.valid() ? "valid" : "invalid") + " " + text(lvb.value()));
            }
            case "masters" -> {
                StringBuilder out = new StringBuilder("masters");
                for (int i = 1; i < w.length; i++) {
                    out.append(' ').append(w[i]).append('=').append(space.masterOf(resource(w[i])).name());
                }
                say(out.toString());
            }
            case "workload" -> workload(Duration.ofSeconds(Long.parseLong(w[1])));
            case "recovered" -> {
                Member member = failed.get(Long.parseLong(w[1]));
                if (member == null) {
                    say("error recovered unknown-incarnation " + w[1]);
                } else {
                    space.recovered(member);
                    say("recovered-marked " + w[1]);
                }
            }
            default -> say("error " + w[0] + " unknown-command");
        }
    }

    private void lock(String name, LockMode mode, Duration wait) {
        try {
            LockMode got = handle(name).lock(mode, wait);
            say("granted " + name + " " + got);
        } catch (LockTimeoutException e) {
            say("timeout " + name);
        } catch (RuntimeException e) {
            say("error " + name + " " + describe(e));
        }
    }

    private void request(String name, LockMode mode) {
        Lock lock;
        try {
            lock = handle(name);
            lock.request(mode).whenComplete((got, failure) ->
                    say(failure == null ? "granted " + name + " " + got : "error " + name + " " + describe(failure)));
        } catch (RuntimeException e) {
            say("error " + name + " " + describe(e));
            return;
        }
        say("requested " + name);
    }

    private void unlock(String name) {
        Lock lock = locks.get(resource(name));
        try {
            if (lock == null) {
                throw new IllegalStateException("no lock on " + name);
            }
            lock.unlock().get(DEFAULT_LOCK_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            say("unlocked " + name);
        } catch (Exception e) {
            say("error " + name + " " + describe(e));
        }
    }

    private void workload(Duration length) throws Exception {
        LockHistory history = LockHistory.streamingTo(historyFile, LockHistory.WALL_CLOCK);
        List<ResourceName> resources = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            resources.add(new ResourceName('W', i));
        }
        Workload workload = new Workload(List.of(new Workload.Node(nodeName, space, space::epoch)), history, seed)
                .resources(resources)
                .workersPerNode(3)
                .duration(length)
                .maxWait(Duration.ofSeconds(2))
                .resolveTimeout(Duration.ofSeconds(30));
        Thread.ofPlatform().name("workload").start(() -> {
            try (history) {
                say("workload-done " + workload.run());
            } catch (Throwable t) {
                t.printStackTrace();
                say("workload-failed " + describe(t));
            }
        });
        say("workload-started");
    }

    private Lock handle(String name) {
        ResourceName resource = resource(name);
        Lock lock = locks.get(resource);
        if (lock == null) {
            lock = space.newLock(resource, null);
            locks.put(resource, lock);
        }
        return lock;
    }

    /** {@code I1000} (or {@code I:1000}, as {@link ResourceName#toString} writes it). */
    static ResourceName resource(String name) {
        int from = name.length() > 1 && name.charAt(1) == ':' ? 2 : 1;
        return new ResourceName(name.charAt(0), Long.parseUnsignedLong(name.substring(from)));
    }

    private static String text(byte[] value) {
        int end = 0;
        while (end < value.length && value[end] != 0) {
            end++;
        }
        return end == 0 ? "-" : new String(value, 0, end, StandardCharsets.US_ASCII);
    }

    private static String describe(Throwable t) {
        Throwable cause = t;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        String message = cause.getMessage() == null ? "" : " " + cause.getMessage().replace('\n', ' ');
        return cause.getClass().getSimpleName() + message;
    }

    private static final class Listener implements LockSpaceListener {
        // Filled from the first epoch on, before the node serves commands.
        final Map<Long, Member> failed = new ConcurrentHashMap<>();

        @Override
        public void nodeFailed(Member member, long epoch) {
            // Remembered before it is announced: the test answers the line with "recovered".
            failed.put(member.incarnation(), member);
            say("failed " + member.name() + " " + member.incarnation());
        }

        @Override
        public void suspended() {
            say("suspended");
        }

        @Override
        public void resumed() {
            say("resumed");
        }

        @Override
        public void expelled(String why) {
            say("expelled " + why.replace('\n', ' '));
        }
    }
}
