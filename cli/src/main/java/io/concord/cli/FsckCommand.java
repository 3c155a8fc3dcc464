package io.concord.cli;

import io.concord.device.BlockDevice;
import io.concord.device.FileBlockDevice;
import io.concord.errors.ConcordException;
import io.concord.fsck.Fsck;
import io.concord.fsck.FsckReport;
import io.concord.fsck.Problem;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * {@code fsck.concord -n [-v] DEVICE}: checks the whole filesystem without changing it and prints
 * every problem, one a line. Exit codes as fsck(8): 0 clean, 4 errors left uncorrected, 8
 * operational error, 16 usage error. Repair ({@code -y}, {@code -p}) comes in a later issue and
 * is refused rather than pretended.
 */
public final class FsckCommand {
    static final String USAGE = "usage: fsck.concord -n [-v] DEVICE";
    static final int EXIT_USAGE = 16;

    private FsckCommand() {
    }

    public static void main(String[] argv) {
        System.exit(run(argv, System.out, System.err));
    }

    static int run(String[] argv, PrintStream out, PrintStream err) {
        Args a;
        try {
            a = Args.parse(argv, "", "nvypfaNh");
        } catch (Args.UsageException e) {
            err.println("fsck.concord: " + e.getMessage());
            err.println(USAGE);
            return EXIT_USAGE;
        }
        if (a.flags.contains('h')) {
            out.println(USAGE);
            return 0;
        }
        if (a.flags.contains('y') || a.flags.contains('p') || a.flags.contains('a')) {
            err.println("fsck.concord: repair is not implemented yet; check with -n");
            return EXIT_USAGE;
        }
        if (!a.flags.contains('n')) {
            err.println("fsck.concord: only checking (-n) is implemented; give -n");
            return EXIT_USAGE;
        }
        if (a.operands.size() != 1) {
            err.println("fsck.concord: " + (a.operands.isEmpty() ? "no device given" : "one device only"));
            err.println(USAGE);
            return EXIT_USAGE;
        }
        try (BlockDevice dev = FileBlockDevice.open(Path.of(a.operands.get(0)), true, false)) {
            FsckReport report = Fsck.check(dev, a.flags.contains('v') ? out : null);
            if (report.operationalError() != null) {
                err.println("fsck.concord: " + report.operationalError());
                return FsckReport.EXIT_OPERATIONAL;
            }
            for (Problem p : report.problems()) {
                out.println(p.message());
            }
            if (report.problemCount() > report.problems().size()) {
                out.println("... and " + (report.problemCount() - report.problems().size()) + " more problems");
            }
            out.println(report.summary());
            return report.exitCode();
        } catch (ConcordException e) {
            err.println("fsck.concord: " + e.getMessage());
            return FsckReport.EXIT_OPERATIONAL;
        } catch (RuntimeException e) {
            return Internal.report("fsck.concord", e, err);
        }
    }
}
