package io.concord.dlm.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.dlm.LockFlag;
import io.concord.dlm.LockMode;
import io.concord.dlm.LockValueBlock;
import io.concord.dlm.ResourceName;
import io.concord.dlm.check.LockHistory.Bast;
import io.concord.dlm.check.LockHistory.CancelAsked;
import io.concord.dlm.check.LockHistory.DownconvertStarted;
import io.concord.dlm.check.LockHistory.Event;
import io.concord.dlm.check.LockHistory.Granted;
import io.concord.dlm.check.LockHistory.NodeDead;
import io.concord.dlm.check.LockHistory.Reason;
import io.concord.dlm.check.LockHistory.Recovered;
import io.concord.dlm.check.LockHistory.Refused;
import io.concord.dlm.check.LockHistory.ReleaseStarted;
import io.concord.dlm.check.LockHistory.Released;
import io.concord.dlm.check.LockHistory.Requested;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LockHistoryFileTest {
    private static final ResourceName R = new ResourceName(ResourceName.RESOURCE_GROUP, -1L); // unsigned max

    @TempDir
    Path dir;

    @Test
    void everyKindOfEventSurvivesAWriteAndARead() throws IOException {
        LockHistory history = LockHistory.inMemory(new AtomicLong(1_700_000_000_000_000_000L)::incrementAndGet);
        byte[] value = new byte[LockValueBlock.SIZE];
        value[0] = 7;
        value[31] = (byte) 0xff;
        history.record("n1", 3, 10, R, new Requested(LockMode.PW, Set.of(LockFlag.NOQUEUE)));
        history.record("n1", 3, 10, R, new Granted(LockMode.PW, new LockValueBlock(value, 9, false)));
        history.record("n1", 3, 10, R, new Granted(LockMode.PW, null));
        history.record("n1", 3, 10, R, new Refused(LockMode.EX, Reason.DEADLOCK));
        history.record("n1", 3, 10, R, new CancelAsked());
        history.record("n1", 3, 10, R, new Bast(LockMode.CR));
        history.record("n1", 3, 10, R, new DownconvertStarted(LockMode.PW, LockMode.CR, value));
        history.record("n1", 3, 10, R, new DownconvertStarted(LockMode.PW, LockMode.PR, null));
        history.record("n1", 3, 10, R, new ReleaseStarted(LockMode.EX, value));
        history.record("n1", 3, 10, R, new ReleaseStarted(LockMode.CR, null));
        history.record("n1", 4, 10, R, new Released());
        history.recordNode("n1", 4, new NodeDead("n2"));
        history.recordNode("n1", 5, new Recovered("n2"));
        Path file = dir.resolve("n1.history");
        history.writeTo(file);

        List<Event> read = LockHistory.readFrom(file);
        assertEquals(history.events(), read);
        assertEquals(13, read.size());
    }

    @Test
    void aStreamedHistoryKeepsItsEventsAndDropsATornLastLine() throws IOException {
        Path file = dir.resolve("streamed.history");
        try (LockHistory history = LockHistory.streamingTo(file, LockHistory.WALL_CLOCK)) {
            history.record("n1", 0, 1, R, new Requested(LockMode.EX, Set.of()));
            history.record("n1", 0, 1, R, new Granted(LockMode.EX, LockValueBlock.EMPTY));
        }
        Files.writeString(file, "5 123 n1 0 1 R:", StandardCharsets.UTF_8, StandardOpenOption.APPEND); // a crash mid-line
        assertEquals(2, LockHistory.readFrom(file).size());

        Files.writeString(file, "\n6 124 n1 0 1 R:1 RELEASED\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        IOException bad = assertThrows(IOException.class, () -> LockHistory.readFrom(file));
        assertTrue(bad.getMessage().contains(file + ":4:"), bad.getMessage());
    }

    @Test
    void twoProcessesHistoriesMergeIntoOneCheckableHistory() throws IOException {
        // One shared clock stands in for the host clock both processes read.
        AtomicLong now = new AtomicLong();
        LongSupplier clock = () -> now.addAndGet(10);
        LockHistory one = LockHistory.inMemory(clock);
        LockHistory two = LockHistory.inMemory(clock);
        ResourceName r = new ResourceName(ResourceName.INODE, 5);
        byte[] value = new byte[LockValueBlock.SIZE];
        value[3] = 3;
        one.record("n1", 1, 1, r, new Requested(LockMode.EX, Set.of()));
        one.record("n1", 1, 1, r, new Granted(LockMode.EX, LockValueBlock.EMPTY));
        two.record("n2", 1, 1, r, new Requested(LockMode.PR, Set.of()));
        one.record("n1", 1, 1, r, new Bast(LockMode.PR));
        one.record("n1", 1, 1, r, new ReleaseStarted(LockMode.EX, value));
        one.record("n1", 1, 1, r, new Released());
        two.record("n2", 1, 1, r, new Granted(LockMode.PR, new LockValueBlock(value, 1, true)));
        two.record("n2", 1, 1, r, new ReleaseStarted(LockMode.PR, null));
        two.record("n2", 1, 1, r, new Released());
        Path f1 = dir.resolve("n1.history");
        Path f2 = dir.resolve("n2.history");
        one.writeTo(f1);
        two.writeTo(f2);

        List<Event> merged = LockHistory.mergeFiles(List.of(f2, f1));
        assertEquals(9, merged.size());
        for (int i = 1; i < merged.size(); i++) {
            assertTrue(merged.get(i - 1).nanos() < merged.get(i).nanos(), "merged out of clock order at " + i);
        }
        assertEquals("n2", merged.get(2).node());
        assertEquals(2, LockChecker.check(merged).grants());

        // The same files, with n2's clock lagging: its grant now seems to precede n1's release.
        List<Event> skewed = LockHistory.merge(List.of(LockHistory.readFrom(f1), LockHistory.readFrom(f2).stream()
                .map(e -> new Event(e.sequence(), e.nanos() - 35, e.node(), e.epoch(), e.handle(), e.resource(), e.kind())).toList()));
        assertTrue(!LockChecker.analyze(skewed).passed(), "the checker trusts the merged order; a skewed clock shows as a conflict");
    }
}
