package io.concord.fs;

import io.concord.dlm.LockMode;
import io.concord.dlm.LockValueBlock;
import io.concord.format.RgrpBitmap;
import java.nio.ByteBuffer;
import java.util.EnumMap;
import java.util.Map;

/**
 * The filesystem's table of glock operations, one entry per {@link GlockType} (GFS2's glops.c).
 *
 * <ul>
 *   <li>inode: the kernel first writes back and drops its page cache and cached names; sync
 *       writes the journal back; invalidate drops the inode's cached blocks (inode, tree nodes,
 *       xattr block) and the kernel's cached attributes; a grant drops the inode block, in case it
 *       was read without the lock (a handle screened for staleness).
 *   <li>rgrp: sync writes back; invalidate and grant drop the cached header and bitmaps, and a
 *       grant hands the allocator the free count the last holder published in the value block.
 *   <li>iopen: nothing to sync or drop; not kept once the last open here is closed.
 *   <li>journal: held for the whole mount, never demoted.
 *   <li>rename, statfs: protect nothing cached.
 * </ul>
 *
 * Sync writes back everything the journal holds, not only what the lock covers: simple, and
 * correct for any lock (GFS2 writes back per glock; a later refinement).
 */
final class FsGlockOps {
    /** Marks a resource group's value block as ours: "RGLV", then the free block count. */
    private static final int RGRP_LVB_MAGIC = 0x52474C56;

    private FsGlockOps() {
    }

    static Map<GlockType, GlockOps> table(Volume v) {
        Map<GlockType, GlockOps> t = new EnumMap<>(GlockType.class);
        t.put(GlockType.INODE, inode(v));
        t.put(GlockType.RGRP, rgrp(v));
        t.put(GlockType.IOPEN, IOPEN);
        t.put(GlockType.JOURNAL, JOURNAL);
        t.put(GlockType.RENAME, GlockOps.NONE);
        t.put(GlockType.STATFS, GlockOps.NONE);
        return t;
    }

    private static GlockOps inode(Volume v) {
        return new GlockOps() {
            @Override
            public void sync(long ino) {
                v.runner.writeBackForDemote();
            }

            @Override
            public void flushKernel(long ino) {
                v.kernel.flush(ino);
            }

            @Override
            public void invalidate(long ino) {
                v.store.invalidateInode(ino);
                v.kernel.forget(ino);
            }

            @Override
            public void granted(long ino, LockMode mode, LockValueBlock value) {
                v.store.invalidateBlocks(ino, 1);
            }
        };
    }

    private static GlockOps rgrp(Volume v) {
        return new GlockOps() {
            @Override
            public void sync(long rgrp) {
                v.runner.writeBackForDemote();
            }

            @Override
            public void invalidate(long rgrp) {
                dropHeaderAndBitmaps(v, (int) rgrp);
            }

            @Override
            public void granted(long rgrp, LockMode mode, LockValueBlock value) {
                dropHeaderAndBitmaps(v, (int) rgrp);
                int published = -1;
                if (value != null && value.valid() && value.sequence() > 0) {
                    ByteBuffer b = value.buffer();
                    if (b.getInt(0) == RGRP_LVB_MAGIC) {
                        published = b.getInt(4);
                    }
                }
                v.allocator.granted((int) rgrp, published);
            }

            @Override
            public byte[] valueOut(long rgrp) {
                int count = v.allocator.publishedCount((int) rgrp);
                if (count < 0) {
                    return null;
                }
                ByteBuffer b = ByteBuffer.allocate(LockValueBlock.SIZE);
                b.putInt(0, RGRP_LVB_MAGIC).putInt(4, count);
                return b.array();
            }
        };
    }

    private static void dropHeaderAndBitmaps(Volume v, int rgrp) {
        long bits = RgrpBitmap.bitsPerBlock(v.blockSize());
        int bitmaps = (int) ((v.sb.rgrpLength(rgrp) + bits - 1) / bits);
        v.store.invalidateBlocks(v.sb.rgrpFirstBlock(rgrp), 1 + bitmaps);
    }

    private static final GlockOps IOPEN = new GlockOps() {
        @Override
        public boolean cachedWhenIdle() {
            return false;
        }
    };

    private static final GlockOps JOURNAL = new GlockOps() {
        @Override
        public boolean mayDemote(long jid) {
            return false;
        }
    };
}
