package io.concord.fuse;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The supplementary groups of a requesting process, read from /proc/PID/status (the FUSE request
 * header carries only uid and gid), as libfuse's fuse_getgroups does. Cached for 50 ms per pid:
 * one process usually sends many requests in a row, and a process that drops a group (or a pid
 * that is reused) must not keep the old groups for long. The kernel checks permissions with the
 * process's real credentials too (default_permissions), so this only ever adds a second check.
 */
final class Groups {
    private final Cache<Integer, int[]> byPid = Caffeine.newBuilder().maximumSize(4096).expireAfterWrite(Duration.ofMillis(50)).build();

    int[] of(int pid) {
        return byPid.get(pid, Groups::read);
    }

    private static int[] read(int pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("Groups:")) {
                    String[] parts = line.substring(7).trim().split("\\s+");
                    if (parts.length == 1 && parts[0].isEmpty()) {
                        return new int[0];
                    }
                    int[] g = new int[parts.length];
                    for (int i = 0; i < parts.length; i++) {
                        g[i] = Integer.parseInt(parts[i]);
                    }
                    return g;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // The process is gone or unreadable: it has no groups we can vouch for.
        }
        return new int[0];
    }
}
