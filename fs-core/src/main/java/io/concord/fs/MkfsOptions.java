package io.concord.fs;

import io.concord.errors.FormatException;
import io.concord.format.LockProtocol;

/**
 * What mkfs.concord was asked for. {@code journalMb} and {@code rgrpMb} of 0 mean "choose from the
 * device size". {@code protocol} is how nodes will mount it: {@link LockProtocol#DLM} (a cluster,
 * the default) or {@link LockProtocol#NOLOCK} (one node).
 */
public record MkfsOptions(String lockTable, int journals, int blockSize, int journalMb, int rgrpMb, String label, boolean force,
        LockProtocol protocol) {

    public MkfsOptions {
        if (protocol == null) {
            protocol = LockProtocol.DLM;
        }
        if (lockTable == null || !lockTable.matches("[A-Za-z0-9_-]{1,32}:[A-Za-z0-9_-]{1,30}")) {
            throw new FormatException("lock table must be cluster:fsname (letters, digits, '-' and '_'; up to 32 and 30 characters), not '" + lockTable + "'");
        }
        if (journals < 1) {
            throw new FormatException("need at least one journal (-j)");
        }
        if (blockSize < 1024 || blockSize > 65536 || Integer.bitCount(blockSize) != 1) {
            throw new FormatException("block size must be a power of two from 1024 to 65536, not " + blockSize);
        }
        if (journals > io.concord.format.Superblock.maxJournals(blockSize)) {
            throw new FormatException("at most " + io.concord.format.Superblock.maxJournals(blockSize) + " journals with " + blockSize + "-byte blocks");
        }
        if (journalMb < 0 || rgrpMb < 0) {
            throw new FormatException("sizes must be positive");
        }
        if (label == null) {
            label = "";
        }
        if (label.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > io.concord.format.Superblock.LABEL_MAX) {
            throw new FormatException("label longer than " + io.concord.format.Superblock.LABEL_MAX + " bytes");
        }
    }

    public static MkfsOptions of(String lockTable, int journals) {
        return new MkfsOptions(lockTable, journals, 4096, 0, 0, "", false, LockProtocol.DLM);
    }

    public MkfsOptions withJournalMb(int mb) {
        return new MkfsOptions(lockTable, journals, blockSize, mb, rgrpMb, label, force, protocol);
    }

    public MkfsOptions withRgrpMb(int mb) {
        return new MkfsOptions(lockTable, journals, blockSize, journalMb, mb, label, force, protocol);
    }

    public MkfsOptions withForce(boolean f) {
        return new MkfsOptions(lockTable, journals, blockSize, journalMb, rgrpMb, label, f, protocol);
    }

    public MkfsOptions withBlockSize(int bs) {
        return new MkfsOptions(lockTable, journals, bs, journalMb, rgrpMb, label, force, protocol);
    }

    public MkfsOptions withProtocol(LockProtocol p) {
        return new MkfsOptions(lockTable, journals, blockSize, journalMb, rgrpMb, label, force, p);
    }
}
