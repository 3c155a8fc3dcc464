package io.concord.cli;

import io.concord.device.BlockDevice;
import io.concord.device.FileBlockDevice;
import io.concord.dlm.NoLockManager;
import io.concord.errors.ConcordException;
import io.concord.fs.ConcordFs;
import io.concord.fs.MountOptions;
import io.concord.format.Superblock;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * {@code concord}: the operator's tool.
 * <ul>
 * <li>{@code concord info DEVICE} — what the superblock says.</li>
 * <li>{@code concord keygen FILE} — make a cluster key for the lock manager (like
 *     corosync-keygen): 64 random bytes, mode 0600, never over an existing file; copy it to every node.</li>
 * <li>{@code concord shell [-j JOURNAL] [-r] DEVICE} — mount the filesystem in this process
 *     (single node, nolock) and run commands on it, one a line, from standard input: the way to
 *     use Concord before the FUSE mount exists, and a debugfs-like tool after.</li>
 * <li>{@code concord zookeeper --port P --dir DIR [--port-file FILE]} — one ZooKeeper server in
 *     the foreground until SIGTERM, for a cluster on one machine ({@link ZooKeeperCommand}).</li>
 * <li>{@code concord status --zk HOST:PORT --table CLUSTER:FS} — a lock space's members, their
 *     journal slots and its epoch, as ZooKeeper has them ({@link StatusCommand}).</li>
 * </ul>
 */
public final class ConcordCommand {
    static final String USAGE = String.join("\n",
            "usage: concord info DEVICE",
            "       concord keygen FILE",
            "       concord shell [-j JOURNAL] [-r] DEVICE",
            "       " + StatusCommand.USAGE,
            "       " + ZooKeeperCommand.USAGE);

    private ConcordCommand() {
    }

    public static void main(String[] argv) {
        System.exit(run(argv, System.out, System.err));
    }

    static int run(String[] argv, PrintStream out, PrintStream err) {
        if (argv.length == 0 || argv[0].equals("-h") || argv[0].equals("--help")) {
            out.println(USAGE);
            return argv.length == 0 ? 1 : 0;
        }
        String[] rest = java.util.Arrays.copyOfRange(argv, 1, argv.length);
        try {
            return switch (argv[0]) {
                case "info" -> info(rest, out);
                case "shell" -> shell(rest, out, err);
                case "keygen" -> keygen(rest, out);
                case "status" -> StatusCommand.run(rest, out);
                case "zookeeper" -> ZooKeeperCommand.run(rest, out);
                default -> throw new Args.UsageException("unknown command '" + argv[0] + "'");
            };
        } catch (Args.UsageException e) {
            err.println("concord: " + e.getMessage());
            err.println(USAGE);
            return 1;
        } catch (ConcordException e) {
            err.println("concord: " + e.getMessage());
            return 1;
        } catch (RuntimeException e) {
            return Internal.report("concord", e, err);
        }
    }

    private static int keygen(String[] argv, PrintStream out) {
        Args a = Args.parse(argv, "", "");
        if (a.operands.size() != 1) {
            throw new Args.UsageException("keygen takes one file");
        }
        Path file = Path.of(a.operands.get(0));
        try {
            io.concord.dlm.net.ClusterKey.generate(file, new java.security.SecureRandom());
        } catch (java.nio.file.FileAlreadyExistsException e) {
            throw new Args.UsageException(file + " exists; a cluster key is never overwritten (every node must keep the same one)");
        } catch (java.io.IOException e) {
            throw new ConcordException("cannot write " + file + ": " + e.getMessage(), e);
        }
        out.println("wrote a cluster key to " + file + " (mode 0600): copy it to every node of the cluster");
        return 0;
    }

    private static int info(String[] argv, PrintStream out) {
        Args a = Args.parse(argv, "", "");
        if (a.operands.size() != 1) {
            throw new Args.UsageException("info takes one device");
        }
        try (BlockDevice dev = FileBlockDevice.open(Path.of(a.operands.get(0)), true, false)) {
            Superblock sb = ConcordFs.readSuperblock(dev);
            out.println("uuid          " + sb.uuid());
            out.println("lock table    " + sb.lockTable());
            out.println("lock protocol " + sb.lockProtocol());
            out.println("multi-mount protection " + (sb.hasHeartbeats() ? "on (a heartbeat block per slot)" : "off (made before it existed)"));
            out.println("label         " + sb.label());
            out.println("block size    " + sb.blockSize());
            out.println("blocks        " + sb.totalBlocks());
            out.println("journals      " + sb.journalCount() + " x " + sb.journalBlocks() + " blocks from block " + sb.journalStart());
            out.println("rgrps         " + sb.rgrpCount() + " x " + sb.rgrpBlocks() + " blocks from block " + sb.rgrpStart());
            out.println("root inode    " + sb.rootInode());
            out.println("format        " + sb.formatVersion());
        }
        return 0;
    }

    private static int shell(String[] argv, PrintStream out, PrintStream err) {
        Args a = Args.parse(argv, "j", "r");
        if (a.operands.size() != 1) {
            throw new Args.UsageException("shell takes one device");
        }
        boolean readOnly = a.flags.contains('r');
        try (BlockDevice dev = FileBlockDevice.open(Path.of(a.operands.get(0)), readOnly, false);
                ConcordFs fs = ConcordFs.mount(dev, new NoLockManager(), MountOptions.defaults().withJournal(a.intValue('j', 0)).withReadOnly(readOnly))) {
            Shell shell = new Shell(fs, out, err);
            boolean interactive = System.console() != null;
            if (interactive) {
                out.println("Concord " + fs.superblock().lockTable() + " on " + dev.name() + ": type 'help' for commands, 'quit' to unmount.");
            }
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            int failures = 0;
            while (true) {
                if (interactive) {
                    out.print("concord:" + shell.cwdPath() + "> ");
                    out.flush();
                }
                String line = in.readLine();
                if (line == null || line.trim().equals("quit") || line.trim().equals("exit")) {
                    break;
                }
                if (!shell.execute(line)) {
                    failures++;
                }
            }
            return failures == 0 ? 0 : 1;
        } catch (java.io.IOException e) {
            err.println("concord: " + e.getMessage());
            return 1;
        }
    }
}
