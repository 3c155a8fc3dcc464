package io.concord.fsck;

import io.concord.format.BlockType;
import io.concord.format.HeartbeatBlock;
import io.concord.format.Superblock;

/**
 * Multi-mount protection's heartbeat blocks (when the filesystem has them): each a sound heartbeat
 * block of its slot. One left ACTIVE is not a fault (a mount still runs, or crashed, and the next
 * mount clears it); it is said, as the reason fsck must not repair while it may be mounted.
 */
final class HeartbeatCheck {
    private final Context ctx;
    private final Progress progress;

    HeartbeatCheck(Context ctx, Progress progress) {
        this.ctx = ctx;
        this.progress = progress;
    }

    void run() {
        Superblock sb = ctx.superblock();
        if (!sb.hasHeartbeats()) {
            return;
        }
        for (int j = 0; j < sb.journalCount(); j++) {
            long at = sb.heartbeatBlock(j);
            String name = "the heartbeat block of slot " + j + " (block " + at + ")";
            BlockVerdict v = ctx.verdict(at, BlockType.HEARTBEAT, name, Problem.HEARTBEAT);
            if (v == null || !v.usable()) {
                continue;
            }
            try {
                HeartbeatBlock b = HeartbeatBlock.decode(v.block(), at, ctx.fsId());
                if (b.slot() != j) {
                    ctx.report(Problem.HEARTBEAT, at, name + " says it is slot " + b.slot() + "'s");
                } else if (b.state() == HeartbeatBlock.State.ACTIVE) {
                    progress.line("  slot " + j + " is held by " + b.describeHolder() + ": mounted now, or it crashed");
                }
            } catch (RuntimeException e) {
                ctx.report(Problem.HEARTBEAT, at, name + " does not decode: " + e.getMessage());
            }
        }
    }
}
