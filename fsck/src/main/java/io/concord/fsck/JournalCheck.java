package io.concord.fsck;

import io.concord.device.BlockDevice;
import io.concord.format.BlockType;
import io.concord.format.JournalHeader;
import io.concord.format.Superblock;
import io.concord.journal.JournalRegion;
import io.concord.journal.JournalReplayer;
import io.concord.journal.ReplayResult;

/**
 * Journals: each header sound and in agreement with the superblock, and each log empty of
 * committed transactions. A journal that still holds some is not corrupt, but the blocks in place
 * are older than what it logged, so the rest of the check may report what replay would repair:
 * mounting the filesystem once replays it.
 */
final class JournalCheck {
    private final Context ctx;
    private final BlockDevice device;

    JournalCheck(Context ctx, BlockDevice device) {
        this.ctx = ctx;
        this.device = device;
    }

    /** Returns the number of journals that need recovery. */
    int run() {
        Superblock sb = ctx.superblock();
        int dirty = 0;
        for (int j = 0; j < sb.journalCount(); j++) {
            long first = sb.journalFirstBlock(j);
            String name = "the header of journal " + j + " (block " + first + ")";
            BlockVerdict v = ctx.verdict(first, BlockType.JOURNAL_HEADER, name, Problem.JOURNAL);
            if (v != null && v.usable()) {
                JournalHeader h = JournalHeader.decode(v.block(), first, ctx.fsId());
                if (h.journalId() != j) {
                    ctx.report(Problem.JOURNAL, first, name + " says it is journal " + h.journalId());
                }
                if (h.blocks() != sb.journalBlocks()) {
                    ctx.report(Problem.JOURNAL, first, name + " says the journal has " + h.blocks() + " blocks, the superblock gives it "
                            + sb.journalBlocks());
                }
            }
            try {
                JournalRegion region = new JournalRegion(j, first, sb.journalBlocks(), sb.blockSize(), ctx.fsId());
                ReplayResult r = new JournalReplayer(device, region).replay(false);
                if (r.blocksWritten() > 0) {
                    dirty++;
                    ctx.report(Problem.JOURNAL_DIRTY, first, "journal " + j + " needs recovery (mount it once): it holds " + r.transactions()
                            + " committed transactions, " + r.blocksWritten() + " block images not yet written in place");
                }
            } catch (RuntimeException e) {
                ctx.report(Problem.JOURNAL, first, "the log of journal " + j + " cannot be read for replay: " + e.getMessage());
            }
        }
        return dirty;
    }
}
