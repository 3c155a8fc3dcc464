package io.concord.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.fs.Attributes;
import io.concord.fs.Caller;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A path longer than PATH_MAX (4096) is reachable one directory at a time: bash creates a chain of
 * 200-character directory names with {@code mkdir d && cd d} until its working directory is over
 * 5000 characters long, then creates and reads a file there. The whole path cannot be given to a
 * single system call (ENAMETOOLONG from the kernel), but every step of it works, and tools that
 * walk with relative names (find, rm -r) handle the tree.
 */
@Timeout(60)
class PosixLongPathTest {
    private static final String NAME = "d".repeat(199) + "_";

    @TempDir
    Path tmp;

    @Test
    void aFileDeeperThanPathMaxIsCreatedAndReadThroughRelativeSteps() throws Exception {
        try (MountedFs m = MountedFs.create(tmp)) {
            String script = """
                    set -e
                    name=%s
                    start=${#PWD}
                    depth=0
                    while [ $(( ${#PWD} - start )) -le 5000 ]; do
                        mkdir "$name"
                        cd "$name"
                        depth=$((depth + 1))
                    done
                    echo "depth $depth"
                    echo "length $(( ${#PWD} - start ))"
                    echo "deep content" > file
                    cat file
                    ls
                    if cat "$PWD/file" 2>/dev/null; then echo "absolute path worked"; else echo "absolute path refused"; fi
                    cat "$PWD/file" 2>&1 | grep -o 'File name too long' || true
                    """.formatted(NAME);
            PosixProcess.Outcome o = PosixProcess.bash(m.dir(), script);
            assertEquals(0, o.exit(), o.toString());
            List<String> out = o.out().lines().toList();
            int depth = Integer.parseInt(out.get(0).substring("depth ".length()));
            int length = Integer.parseInt(out.get(1).substring("length ".length()));
            assertTrue(length > 5000, "the path below the mount is " + length + " characters");
            assertEquals(depth * (NAME.length() + 1), length);
            assertEquals("deep content", out.get(2), "the file reads back where it was written");
            assertEquals("file", out.get(3), "and is listed there");
            assertEquals("absolute path refused", out.get(4), "a path over PATH_MAX cannot be passed whole");
            assertEquals("File name too long", out.get(5));

            // The filesystem itself holds the chain, as the shell built it.
            String relative = (NAME + "/").repeat(depth) + "file";
            Attributes a = m.filesystem().resolve(Caller.ROOT, "/" + relative, true);
            assertEquals(13, a.size());
            ByteBuffer b = ByteBuffer.allocate(64);
            int n = m.filesystem().read(a.inode(), 0, b);
            assertEquals("deep content\n", new String(b.array(), 0, n, StandardCharsets.UTF_8));

            PosixProcess.Outcome find = PosixProcess.sh(m.dir(), "find . -name file -printf '%d\\n'; find . -type d | wc -l");
            assertEquals(0, find.exit(), find.toString());
            assertEquals(List.of(Integer.toString(depth + 1), Integer.toString(depth + 1)), find.out().lines().map(String::trim).toList(),
                    "find walks the whole chain");
            PosixProcess.Outcome rm = PosixProcess.sh(m.dir(), "rm -rf " + NAME);
            assertEquals(0, rm.exit(), "rm -r of the deep tree: " + rm);
            try (var s = Files.list(m.dir())) {
                assertEquals(0, s.count(), "the whole chain is gone");
            }
        }
    }
}
