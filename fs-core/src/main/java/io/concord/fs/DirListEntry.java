package io.concord.fs;

/**
 * One readdir entry. {@code cookie} is the position to continue after: it stays valid while the
 * entry exists, whatever else is added or removed ("." is 1, ".." is 2).
 */
public record DirListEntry(String name, long inode, int type, long cookie) {
}
