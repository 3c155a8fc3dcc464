package io.concord.dlm.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterKeyTest {
    @TempDir
    Path dir;

    private boolean posix() throws IOException {
        return Files.getFileStore(dir).supportsFileAttributeView(PosixFileAttributeView.class);
    }

    @Test
    void generatedKeyIsOwnerOnlyAndLoadsBack() throws IOException {
        var file = dir.resolve("authkey");
        var generated = ClusterKey.generate(file, new SecureRandom());
        assertEquals(ClusterKey.GENERATED_LENGTH, Files.size(file));
        if (posix()) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        }
        var loaded = ClusterKey.load(file);
        assertEquals(generated.length(), loaded.length());
        assertTrue(java.util.Arrays.equals(generated.hmacKey().getEncoded(), loaded.hmacKey().getEncoded()));
    }

    @Test
    void generateNeverOverwrites() throws IOException {
        var file = dir.resolve("authkey");
        Files.write(file, new byte[40]);
        assertThrows(FileAlreadyExistsException.class, () -> ClusterKey.generate(file, new SecureRandom()));
        assertEquals(40, Files.size(file));
    }

    @Test
    void missingShortAndHugeFilesAreRefusedClearly() throws IOException {
        var missing = assertThrows(IOException.class, () -> ClusterKey.load(dir.resolve("nope")));
        assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());

        var shortFile = Files.write(dir.resolve("short"), new byte[ClusterKey.MIN_LENGTH - 1]);
        var tooShort = assertThrows(IOException.class, () -> ClusterKey.load(shortFile));
        assertTrue(tooShort.getMessage().contains("at least " + ClusterKey.MIN_LENGTH), tooShort.getMessage());

        var hugeFile = Files.write(dir.resolve("huge"), new byte[ClusterKey.MAX_LENGTH + 1]);
        var tooLarge = assertThrows(IOException.class, () -> ClusterKey.load(hugeFile));
        assertTrue(tooLarge.getMessage().contains("larger than"), tooLarge.getMessage());

        assertEquals(ClusterKey.MIN_LENGTH, ClusterKey.load(Files.write(dir.resolve("min"), new byte[ClusterKey.MIN_LENGTH])).length());
    }

    @Test
    void readableByOthersLoadsWithAWarningThatHidesTheKey() throws IOException {
        assumeTrue(posix());
        var file = dir.resolve("authkey");
        byte[] secret = new byte[48];
        new SecureRandom().nextBytes(secret);
        Files.write(file, secret);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        List<LogRecord> records = new CopyOnWriteArrayList<>();
        var logger = Logger.getLogger(ClusterKey.class.getName());
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord r) {
                records.add(r);
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        logger.addHandler(handler);
        try {
            var key = ClusterKey.load(file);
            assertEquals(48, key.length());
        } finally {
            logger.removeHandler(handler);
        }
        assertEquals(1, records.size());
        assertEquals(Level.WARNING, records.get(0).getLevel());
        String text = new java.util.logging.SimpleFormatter().formatMessage(records.get(0));
        assertTrue(text.contains("chmod 600"), text);
        assertFalse(text.contains(HexFormat.of().formatHex(secret, 0, 4)), "key bytes in the log");
    }

    @Test
    void toStringHidesTheBytes() {
        byte[] secret = new byte[32];
        java.util.Arrays.fill(secret, (byte) 0xAB);
        var s = ClusterKey.of(secret).toString();
        assertFalse(s.toLowerCase().contains("abab"), s);
        assertFalse(s.contains("-85"), s);
        assertThrows(IllegalArgumentException.class, () -> ClusterKey.of(new byte[31]));
    }
}
