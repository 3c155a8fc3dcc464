package io.concord.fsck;

import io.concord.device.BlockDevice;
import io.concord.errors.ConcordException;
import io.concord.format.Inode;
import io.concord.format.Superblock;
import io.concord.fs.ConcordFs;
import java.io.PrintStream;

/**
 * {@code fsck.concord -n}: checks a whole Concord filesystem, read-only, and reports every
 * inconsistency it finds. It never writes to the device and never stops at the first problem.
 *
 * <p>The passes (each a class of its own):
 * <ol>
 * <li>The superblock: if it does not decode, nothing else can be checked (an operational error).</li>
 * <li>{@link HeartbeatCheck}: the heartbeat blocks of multi-mount protection; then
 *     {@link JournalCheck}: journal headers, and journals that still hold committed transactions.</li>
 * <li>{@link RgrpCheck}: resource group headers and bitmaps; the bitmaps are loaded, one bit per block.</li>
 * <li>{@link NamespaceWalk}: from the root and each orphan directory, every inode, directory tree,
 *     entry, extent and xattr block, each block in use claimed in {@link BlockUse}: a block claimed
 *     twice, or claimed while free in its bitmap, is found here.</li>
 * <li>{@link UnreachableScan}: blocks set in a bitmap that nothing reached: inodes no directory
 *     names, then leaks.</li>
 * <li>{@link LinkCounts} and {@link RgrpCheck#checkCounts}: nlink against the entries found, and
 *     each group's counts against its bitmap and the inodes found.</li>
 * <li>{@link SharedBlocks}, only when some block was claimed twice: who claimed it.</li>
 * </ol>
 *
 * <p>Memory: a few bits per block ({@link LongBits}) and some 30 bytes per inode
 * ({@link InodeTable}); a directory is walked one entry at a time, never held whole.
 */
public final class Fsck {
    private Fsck() {
    }

    /**
     * Checks the filesystem on {@code device}, which may be open read-only. {@code progress} hears
     * a line per pass (null for silence).
     */
    public static FsckReport check(BlockDevice device, PrintStream progressOrNull) {
        Progress progress = new Progress(progressOrNull);
        Superblock sb;
        try {
            sb = ConcordFs.readSuperblock(device);
        } catch (ConcordException e) {
            return FsckReport.operational(device.name(), e.getMessage());
        }
        long deviceBlocks = device.size() / sb.blockSize();
        if (sb.totalBlocks() > deviceBlocks) {
            return FsckReport.operational(device.name(), "the superblock says the filesystem has " + sb.totalBlocks() + " blocks, the device holds "
                    + deviceBlocks + " (truncated image or wrong device?)");
        }
        progress.line("fsck.concord -n " + device.name() + ": " + sb.totalBlocks() + " blocks of " + sb.blockSize() + " bytes, " + sb.rgrpCount()
                + " resource groups, " + sb.journalCount() + " journals");
        Problems problems = new Problems();
        Context ctx = new Context(new Geometry(sb), new BlockReader(device, sb.blockSize(), sb.totalBlocks()), problems);
        BlockUse use = new BlockUse(ctx);
        InodeTable table = new InodeTable();
        try {
            progress.line("Pass 1: heartbeat blocks and journals");
            new HeartbeatCheck(ctx, progress).run();
            if (new JournalCheck(ctx, device).run() > 0) {
                progress.line("  a journal needs recovery: what follows describes the blocks in place, which replay would bring up to date");
            }
            progress.line("Pass 2: resource groups and bitmaps");
            RgrpCheck rgrps = new RgrpCheck(ctx, use);
            rgrps.loadAll();
            progress.line("Pass 3: directories, inodes, trees and extents");
            new NamespaceWalk(ctx, use, table, progress).run();
            progress.line("Pass 4: unreachable inodes and leaked blocks");
            new UnreachableScan(ctx, use, table).run();
            progress.line("Pass 5: link counts and resource group counts");
            LinkCounts.check(ctx, table);
            rgrps.checkCounts();
            if (use.sharedCount() > 0) {
                progress.line("Pass 1B: " + use.sharedCount() + " blocks used more than once: finding their owners");
                SharedBlocks.find(ctx, use, table);
            }
        } catch (RuntimeException e) {
            // A failure of the checker itself (or of the device as a whole): what was found so far still stands.
            return new FsckReport(device.name(), problems.listed(), problems.total(), "the check stopped: " + e, counts(sb, use, table));
        }
        FsckReport report = new FsckReport(device.name(), problems.listed(), problems.total(), null, counts(sb, use, table));
        progress.line(report.summary());
        return report;
    }

    private static FsckReport.Counts counts(Superblock sb, BlockUse use, InodeTable table) {
        long inodes = 0;
        long dirs = 0;
        long files = 0;
        long symlinks = 0;
        for (int slot : table.slots()) {
            if (!table.is(slot, InodeTable.LOADED)) {
                continue;
            }
            inodes++;
            int type = table.type(slot) << 12;
            if (type == Inode.S_IFDIR) {
                dirs++;
            } else if (type == Inode.S_IFREG) {
                files++;
            } else if (type == Inode.S_IFLNK) {
                symlinks++;
            }
        }
        return new FsckReport.Counts(inodes, dirs, files, symlinks, use.used.count(), sb.totalBlocks());
    }
}
