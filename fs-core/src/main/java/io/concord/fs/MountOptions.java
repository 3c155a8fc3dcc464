package io.concord.fs;

import java.time.Clock;
import java.time.Duration;

/**
 * How a node mounts the filesystem. {@code journalId} is the node slot whose journal this node
 * writes; {@code commitInterval} bounds how long a change may wait in memory before it is
 * committed (fsync commits at once); the cache bound is in bytes of metadata blocks.
 */
public record MountOptions(int journalId, boolean readOnly, Duration commitInterval, long metadataCacheBytes, Clock clock,
        Duration glockMinHold, boolean decodedCache) {

    /** With the decoded-metadata table on, as every mount has it. */
    public MountOptions(int journalId, boolean readOnly, Duration commitInterval, long metadataCacheBytes, Clock clock,
            Duration glockMinHold) {
        this(journalId, readOnly, commitInterval, metadataCacheBytes, clock, glockMinHold, true);
    }

    public static MountOptions defaults() {
        return new MountOptions(0, false, Duration.ofSeconds(5), 64L << 20, Clock.systemUTC(), Duration.ofMillis(200));
    }

    public MountOptions withJournal(int jid) {
        return new MountOptions(jid, readOnly, commitInterval, metadataCacheBytes, clock, glockMinHold, decodedCache);
    }

    public MountOptions withReadOnly(boolean ro) {
        return new MountOptions(journalId, ro, commitInterval, metadataCacheBytes, clock, glockMinHold, decodedCache);
    }

    public MountOptions withCommitInterval(Duration d) {
        return new MountOptions(journalId, readOnly, d, metadataCacheBytes, clock, glockMinHold, decodedCache);
    }

    public MountOptions withClock(Clock c) {
        return new MountOptions(journalId, readOnly, commitInterval, metadataCacheBytes, c, glockMinHold, decodedCache);
    }

    /**
     * Without the table that keeps the decoded form of recently read metadata blocks: every read
     * decodes its block again. For measuring the on-disk structures themselves.
     */
    public MountOptions withoutDecodedCache() {
        return new MountOptions(journalId, readOnly, commitInterval, metadataCacheBytes, clock, glockMinHold, false);
    }

    public MountOptions withMetadataCacheBytes(long bytes) {
        return new MountOptions(journalId, readOnly, commitInterval, bytes, clock, glockMinHold, decodedCache);
    }
}
