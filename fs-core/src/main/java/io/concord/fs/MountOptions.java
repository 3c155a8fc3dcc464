package io.concord.fs;

import java.time.Clock;
import java.time.Duration;

/**
 * How a node mounts the filesystem. {@code journalId} is the node slot whose journal this node
 * writes; {@code commitInterval} bounds how long a change may wait in memory before it is
 * committed (fsync commits at once); the cache bound is in bytes of metadata blocks.
 */
public record MountOptions(int journalId, boolean readOnly, Duration commitInterval, long metadataCacheBytes, Clock clock,
        Duration glockMinHold) {

    public static MountOptions defaults() {
        return new MountOptions(0, false, Duration.ofSeconds(5), 64L << 20, Clock.systemUTC(), Duration.ofMillis(200));
    }

    public MountOptions withJournal(int jid) {
        return new MountOptions(jid, readOnly, commitInterval, metadataCacheBytes, clock, glockMinHold);
    }

    public MountOptions withReadOnly(boolean ro) {
        return new MountOptions(journalId, ro, commitInterval, metadataCacheBytes, clock, glockMinHold);
    }

    public MountOptions withCommitInterval(Duration d) {
        return new MountOptions(journalId, readOnly, d, metadataCacheBytes, clock, glockMinHold);
    }

    public MountOptions withClock(Clock c) {
        return new MountOptions(journalId, readOnly, commitInterval, metadataCacheBytes, c, glockMinHold);
    }

    public MountOptions withMetadataCacheBytes(long bytes) {
        return new MountOptions(journalId, readOnly, commitInterval, bytes, clock, glockMinHold);
    }
}
