package io.concord.harness;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** One run of a command to its end, within a limit: its exit code and what it printed. */
record BoundedCommand(int exitCode, String output) {
    /**
     * Runs {@code cmd} with stdin from /dev/null and stdout and stderr together; kills it and
     * throws if it has not ended within {@code limit}.
     */
    static BoundedCommand run(List<String> cmd, Duration limit) throws IOException, InterruptedException {
        Path out = Files.createTempFile("concord-cmd-", ".txt");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new IllegalStateException(String.join(" ", cmd.subList(Math.max(0, cmd.size() - 4), cmd.size()))
                        + " did not end within " + limit.toSeconds() + " s");
            }
            return new BoundedCommand(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
