package io.concord.journal;

/**
 * What a replay found and did. {@code headIndex} and {@code nextSequence} are where a writer of
 * this journal continues; {@code transactions} counts the committed transactions redone (empty tail markers not counted) and
 * {@code blocksWritten} the block images written in place ({@code blocksRevoked} were skipped).
 */
public record ReplayResult(int journalId, int headIndex, long nextSequence, int transactions, int blocksWritten, int blocksRevoked,
        String stoppedBecause) {
}
