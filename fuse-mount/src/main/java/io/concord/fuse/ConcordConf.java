package io.concord.fuse;

import io.concord.errors.ConcordException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@value #DEFAULT_PATH}: one {@code key = value} a line, {@code #} starts a comment line, blank
 * lines ignored. The keys are {@code zk}, {@code node}, {@code listen} and {@code key}, as the
 * mount options of those names ({@link ClusterSettings}); anything else is refused with its line
 * number, so that a typo does not silently fall back to a default. The default file may be absent
 * (every setting then comes from the options); a file named by {@code conf=} or
 * {@code $CONCORD_CONF} must exist.
 */
final class ConcordConf {
    static final String DEFAULT_PATH = "/etc/concord/concord.conf";
    private static final Set<String> KEYS = Set.of("zk", "node", "listen", "key");

    private final Path path;
    private final Map<String, String> values;

    private ConcordConf(Path path, Map<String, String> values) {
        this.path = path;
        this.values = values;
    }

    /** @param named the file the operator named, or null for the default */
    static ConcordConf load(Path named) {
        Path path = named != null ? named : Path.of(DEFAULT_PATH);
        List<String> lines;
        try {
            lines = Files.readAllLines(path);
        } catch (NoSuchFileException e) {
            if (named == null) {
                return new ConcordConf(path, Map.of());
            }
            throw new ConcordException("configuration file " + path + " does not exist");
        } catch (IOException e) {
            throw new ConcordException("cannot read " + path + ": " + e.getMessage());
        }
        Map<String, String> values = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int eq = line.indexOf('=');
            String key = eq < 0 ? line : line.substring(0, eq).strip();
            String value = eq < 0 ? "" : line.substring(eq + 1).strip();
            String where = path + " line " + (i + 1);
            if (eq < 0 || value.isEmpty()) {
                throw new ConcordException(where + ": expected 'key = value', not '" + line + "'");
            }
            if (!KEYS.contains(key)) {
                throw new ConcordException(where + ": unknown setting '" + key + "' (known: zk, node, listen, key)");
            }
            if (values.putIfAbsent(key, value) != null) {
                throw new ConcordException(where + ": '" + key + "' is set twice");
            }
        }
        return new ConcordConf(path, values);
    }

    Path path() {
        return path;
    }

    /** The value of {@code key}, or null. */
    String get(String key) {
        return values.get(key);
    }
}
