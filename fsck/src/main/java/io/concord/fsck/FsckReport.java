package io.concord.fsck;

import java.util.List;

/**
 * What {@link Fsck#check} found. Exit codes follow fsck(8): {@link #EXIT_CLEAN} when nothing is
 * wrong, {@link #EXIT_UNCORRECTED} when problems were found (a read-only check corrects nothing),
 * {@link #EXIT_OPERATIONAL} when the device could not be checked at all.
 */
public final class FsckReport {
    public static final int EXIT_CLEAN = 0;
    public static final int EXIT_UNCORRECTED = 4;
    public static final int EXIT_OPERATIONAL = 8;

    /** What the walk counted. {@code blocksUsed} is every block found in use, metadata included. */
    public record Counts(long inodes, long directories, long files, long symlinks, long blocksUsed, long totalBlocks) {
        static final Counts NONE = new Counts(0, 0, 0, 0, 0, 0);
    }

    private final String device;
    private final List<Problem> problems;
    private final long problemCount;
    private final String operationalError;
    private final Counts counts;

    FsckReport(String device, List<Problem> problems, long problemCount, String operationalError, Counts counts) {
        this.device = device;
        this.problems = List.copyOf(problems);
        this.problemCount = problemCount;
        this.operationalError = operationalError;
        this.counts = counts;
    }

    static FsckReport operational(String device, String why) {
        return new FsckReport(device, List.of(), 0, why, Counts.NONE);
    }

    /** The problems found, in the order found (at most {@link Problems#LISTED_MAX} of them). */
    public List<Problem> problems() {
        return problems;
    }

    /** The problems with {@code code}. */
    public List<Problem> problems(String code) {
        return problems.stream().filter(p -> p.code().equals(code)).toList();
    }

    /** Every problem found, including any beyond those listed. */
    public long problemCount() {
        return problemCount;
    }

    /** Why the device could not be checked, or null when it was. */
    public String operationalError() {
        return operationalError;
    }

    public boolean isClean() {
        return operationalError == null && problemCount == 0;
    }

    public int exitCode() {
        if (operationalError != null) {
            return EXIT_OPERATIONAL;
        }
        return problemCount == 0 ? EXIT_CLEAN : EXIT_UNCORRECTED;
    }

    public Counts counts() {
        return counts;
    }

    public long inodes() {
        return counts.inodes();
    }

    public long directories() {
        return counts.directories();
    }

    public long files() {
        return counts.files();
    }

    public long symlinks() {
        return counts.symlinks();
    }

    public long blocksUsed() {
        return counts.blocksUsed();
    }

    public long totalBlocks() {
        return counts.totalBlocks();
    }

    /** One line: the device, the verdict, and the counts. */
    public String summary() {
        String tally = String.format("%d inodes (%d directories, %d files, %d symlinks), %d/%d blocks used",
                counts.inodes(), counts.directories(), counts.files(), counts.symlinks(), counts.blocksUsed(), counts.totalBlocks());
        if (operationalError != null) {
            return device + ": cannot be checked: " + operationalError;
        }
        if (problemCount == 0) {
            return device + ": clean, " + tally;
        }
        String listed = problemCount > problems.size() ? " (" + problems.size() + " listed)" : "";
        return device + ": " + problemCount + (problemCount == 1 ? " problem" : " problems") + listed + " left uncorrected, " + tally;
    }

    @Override
    public String toString() {
        return summary();
    }
}
