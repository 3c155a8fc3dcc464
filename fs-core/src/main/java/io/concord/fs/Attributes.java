package io.concord.fs;

import io.concord.format.Inode;
import java.time.Instant;

/**
 * What stat(2) shows of an inode. {@code blocks} is in 512-byte units, as st_blocks; the inode's
 * own block is counted, as GFS2 counts its dinode.
 */
public record Attributes(long inode, long generation, int mode, int nlink, int uid, int gid, long rdev, long size,
        long blocks, int blockSize, Instant atime, Instant mtime, Instant ctime, Instant crtime) {

    static Attributes of(Inode i, int blockSize) {
        long sectors = (i.blocks() + 1) * (blockSize / 512);
        return new Attributes(i.number(), i.generation(), i.mode(), i.nlink(), i.uid(), i.gid(), i.rdev(), i.size(), sectors,
                blockSize, i.atime(), i.mtime(), i.ctime(), i.crtime());
    }

    public int type() {
        return mode & Inode.S_IFMT;
    }

    public boolean isDirectory() {
        return type() == Inode.S_IFDIR;
    }

    public boolean isRegular() {
        return type() == Inode.S_IFREG;
    }

    public boolean isSymlink() {
        return type() == Inode.S_IFLNK;
    }
}
