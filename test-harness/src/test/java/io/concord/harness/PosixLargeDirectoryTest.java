package io.concord.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A directory of 100,000 files, created through the mount, is listed completely: every name
 * exactly once, by Java's DirectoryStream (getdents64 in pages the kernel asks for, with
 * READDIRPLUS) and by {@code ls -f}, and every name is found by lookup.
 */
@Timeout(150)
class PosixLargeDirectoryTest {
    private static final int ENTRIES = 100_000;

    @TempDir
    Path tmp;

    private static String name(int i) {
        // Names of varying lengths, so that directory pages break at varying places.
        return "entry-" + i + "-" + "x".repeat(i % 37);
    }

    /** Creates the entries from a few threads at once (the mount serves directory operations in parallel). */
    private static void createAll(Path dir) throws Exception {
        int threads = 8;
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(threads)) {
            List<java.util.concurrent.Future<?>> parts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int first = t;
                parts.add(pool.submit(() -> {
                    for (int i = first; i < ENTRIES; i += threads) {
                        Files.createFile(dir.resolve(name(i)));
                    }
                    return null;
                }));
            }
            for (var part : parts) {
                part.get(120, java.util.concurrent.TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void aHundredThousandEntriesAreEachListedExactlyOnce() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            Path dir = Files.createDirectory(m.dir().resolve("big"));
            long t0 = System.nanoTime();
            createAll(dir);
            long t1 = System.nanoTime();

            Map<String, Integer> seen = new HashMap<>();
            try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
                for (Path p : s) {
                    seen.merge(p.getFileName().toString(), 1, Integer::sum);
                }
            }
            long t2 = System.nanoTime();
            System.out.printf("created %,d files in %.1f s, listed in %.1f s%n", ENTRIES, (t1 - t0) / 1e9, (t2 - t1) / 1e9);
            List<String> duplicated = new ArrayList<>();
            seen.forEach((n, c) -> {
                if (c != 1) {
                    duplicated.add(n + " x" + c);
                }
            });
            assertEquals(List.of(), duplicated.stream().limit(20).toList(), "names listed more than once");
            List<String> missing = new ArrayList<>();
            for (int i = 0; i < ENTRIES; i++) {
                if (!seen.containsKey(name(i))) {
                    missing.add(name(i));
                }
            }
            assertEquals(List.of(), missing.stream().limit(20).toList(), missing.size() + " names not listed");
            assertEquals(ENTRIES, seen.size(), "no name that was never created");

            PosixProcess.Outcome ls = PosixProcess.sh(dir, "ls -f | wc -l; ls -f | sort | uniq -d | wc -l");
            assertEquals(0, ls.exit(), ls.toString());
            assertEquals(List.of(Integer.toString(ENTRIES + 2), "0"), ls.out().lines().map(String::trim).toList(),
                    "ls -f: the entries plus '.' and '..', none twice");
            assertEquals(2, PosixSyscalls.stat(dir).nlink(), "files do not add to a directory's link count");
            for (int i = 0; i < ENTRIES; i += 997) {
                assertTrue(Files.isRegularFile(dir.resolve(name(i))), "lookup of " + name(i));
            }
        }
    }

    @Test
    void aListingInProgressShowsEveryUntouchedNameOnceWhileOthersComeAndGo() throws Exception {
        int n = 5000;
        try (MountedFs m = MountedFs.create(tmp)) {
            Path dir = Files.createDirectory(m.dir().resolve("churn"));
            List<String> original = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                original.add(name(i));
                Files.createFile(dir.resolve(name(i)));
            }
            Map<String, Integer> seen = new HashMap<>();
            java.util.Set<String> removed = new java.util.HashSet<>();
            try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
                int k = 0;
                for (Path p : s) {
                    seen.merge(p.getFileName().toString(), 1, Integer::sum);
                    if (++k == 1000) {
                        // Halfway through the listing, remove 2,000 names not yet seen and add 1,500 new ones.
                        java.util.Random rnd = new java.util.Random(3);
                        List<String> unseen = new ArrayList<>(original.stream().filter(x -> !seen.containsKey(x)).toList());
                        java.util.Collections.shuffle(unseen, rnd);
                        for (String victim : unseen.subList(0, 2000)) {
                            Files.delete(dir.resolve(victim));
                            removed.add(victim);
                        }
                        for (int j = 0; j < 1500; j++) {
                            Files.createFile(dir.resolve("added-" + j));
                        }
                    }
                }
            }
            List<String> twice = seen.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey).limit(20).toList();
            assertEquals(List.of(), twice, "no name is listed twice");
            List<String> missing = original.stream().filter(x -> !removed.contains(x) && !seen.containsKey(x)).limit(20).toList();
            assertEquals(List.of(), missing, "every name neither removed nor added during the listing is listed");
            try (var s = Files.list(dir)) {
                assertEquals(n - 2000 + 1500, s.count(), "a fresh listing shows the directory as it now is");
            }
        }
    }
}
