package io.concord.cli;

import io.concord.device.BlockDevice;
import io.concord.device.FileBlockDevice;
import io.concord.errors.ConcordException;
import io.concord.fs.Mkfs;
import io.concord.fs.MkfsOptions;
import io.concord.format.LockProtocol;
import io.concord.format.Superblock;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;

/**
 * {@code mkfs.concord -t cluster:fsname -j JOURNALS [-p dlm|nolock] [-b BLOCKSIZE] [-J MB] [-r MB] [-L LABEL] [-f] [-q] [-O] DEVICE}
 *
 * <p>As mkfs.gfs2: {@code -j} journals (one per node that will mount), {@code -J} journal size in
 * MiB, {@code -r} resource group size in MiB, {@code -f} overwrite an existing filesystem,
 * {@code -O} direct I/O (for a shared block device), {@code -q} quiet, {@code -p} the lock protocol
 * recorded in the superblock: {@code dlm} (the default: a cluster filesystem, mounted through the
 * distributed lock manager) or {@code nolock} (one node at a time; GFS2's spellings
 * {@code lock_dlm} and {@code lock_nolock} are accepted).
 */
public final class MkfsCommand {
    static final String USAGE = "usage: mkfs.concord -t cluster:fsname -j JOURNALS [-p dlm|nolock] [-b BLOCKSIZE] [-J JOURNAL_MB] [-r RGRP_MB] [-L LABEL] [-f] [-q] [-O] DEVICE";

    private MkfsCommand() {
    }

    public static void main(String[] argv) {
        System.exit(run(argv, System.out, System.err));
    }

    static int run(String[] argv, java.io.PrintStream out, java.io.PrintStream err) {
        try {
            Args a = Args.parse(argv, "tjpbJrL", "fqOh");
            if (a.flags.contains('h')) {
                out.println(USAGE);
                return 0;
            }
            if (a.operands.size() != 1) {
                throw new Args.UsageException(a.operands.isEmpty() ? "no device given" : "one device only, not " + a.operands);
            }
            if (!a.values.containsKey('t')) {
                throw new Args.UsageException("the lock table (-t cluster:fsname) is required");
            }
            if (!a.values.containsKey('j')) {
                throw new Args.UsageException("the number of journals (-j) is required");
            }
            MkfsOptions o = new MkfsOptions(a.values.get('t'), a.intValue('j', 1), a.intValue('b', 4096), a.intValue('J', 0),
                    a.intValue('r', 0), a.values.getOrDefault('L', ""), a.flags.contains('f'),
                    LockProtocol.parse(a.values.getOrDefault('p', "dlm")));
            boolean quiet = a.flags.contains('q');
            Path device = Path.of(a.operands.get(0));
            try (BlockDevice dev = FileBlockDevice.open(device, false, a.flags.contains('O'))) {
                int[] shown = {-1};
                long bytes = dev.size();
                Superblock sb = Mkfs.format(dev, o, new SecureRandom(), Clock.systemUTC(), percent -> {
                    // Progress on large devices only, every 10%.
                    if (!quiet && bytes >= (8L << 30) && percent / 10 != shown[0]) {
                        shown[0] = percent / 10;
                        err.print("\rmkfs.concord: writing resource groups: " + percent + "%");
                        if (percent == 100) {
                            err.println();
                        }
                    }
                });
                if (!quiet) {
                    out.printf("Device:            %s%n", device);
                    out.printf("Block size:        %d%n", sb.blockSize());
                    out.printf("Device size:       %.2f GB (%d blocks)%n", sb.totalBlocks() * (double) sb.blockSize() / 1e9, sb.totalBlocks());
                    out.printf("Filesystem size:   %.2f GB (%d blocks)%n", (sb.totalBlocks() - sb.rgrpStart()) * (double) sb.blockSize() / 1e9,
                            sb.totalBlocks() - sb.rgrpStart());
                    out.printf("Journals:          %d of %d MiB%n", sb.journalCount(), (long) sb.journalBlocks() * sb.blockSize() >> 20);
                    out.printf("Resource groups:   %d of %d MiB%n", sb.rgrpCount(), (long) sb.rgrpBlocks() * sb.blockSize() >> 20);
                    out.printf("Lock table:        %s%n", sb.lockTable());
                    out.printf("Lock protocol:     %s%n", sb.lockProtocol());
                    out.printf("UUID:              %s%n", sb.uuid());
                }
            }
            return 0;
        } catch (Args.UsageException e) {
            err.println("mkfs.concord: " + e.getMessage());
            err.println(USAGE);
            return 1;
        } catch (ConcordException e) {
            err.println("mkfs.concord: " + e.getMessage());
            return 1;
        } catch (RuntimeException e) {
            return Internal.report("mkfs.concord", e, err);
        }
    }
}
