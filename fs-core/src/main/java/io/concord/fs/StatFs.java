package io.concord.fs;

/** What statfs(2) shows. Inodes are blocks, so free inodes are free blocks. */
public record StatFs(int blockSize, long blocks, long freeBlocks, long files, long freeFiles, int nameMax) {
}
