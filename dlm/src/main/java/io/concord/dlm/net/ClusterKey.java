package io.concord.dlm.net;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.EnumSet;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.crypto.spec.SecretKeySpec;

/**
 * The secret every node of a cluster shares, as corosync's authkey: a file of raw random bytes.
 * Nodes prove to each other that they hold it before any lock traffic flows ({@link NettyTransport}).
 * The bytes never leave this object except as an HMAC key, and are never logged or printed.
 */
public final class ClusterKey {
    /** Fewer bytes than SHA-256's output would weaken HMAC-SHA256 below its design strength. */
    public static final int MIN_LENGTH = 32;
    /** A bound so that pointing at the wrong (large) file fails fast rather than reading it all. */
    public static final int MAX_LENGTH = 4096;
    /** What {@link #generate} writes. */
    public static final int GENERATED_LENGTH = 64;

    private static final Logger LOG = Logger.getLogger(ClusterKey.class.getName());
    private static final Set<PosixFilePermission> OWNER_ONLY = EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

    private static final Set<PosixFilePermission> GROUP_OR_OTHERS = EnumSet.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private final byte[] key;

    private ClusterKey(byte[] key) {
        if (key.length < MIN_LENGTH || key.length > MAX_LENGTH) {
            throw new IllegalArgumentException("a cluster key is " + MIN_LENGTH + " to " + MAX_LENGTH + " bytes, not " + key.length);
        }
        this.key = key.clone();
    }

    /** A key held in memory only: for tests and for callers that keep the secret elsewhere. */
    public static ClusterKey of(byte[] key) {
        return new ClusterKey(key);
    }

    /**
     * Reads the key file. A file that group or others can read is used, with a warning: refusing
     * it would take a node down over a fix the operator can make at leisure.
     *
     * @throws IOException with a message fit to print when the file is missing, unreadable, or of
     *                     the wrong size
     */
    public static ClusterKey load(Path file) throws IOException {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_LENGTH + 1);
        } catch (NoSuchFileException e) {
            throw new IOException("cluster key file " + file + " does not exist; generate one and copy it to every node", e);
        }
        if (bytes.length < MIN_LENGTH) {
            throw new IOException("cluster key file " + file + " holds " + bytes.length + " bytes; a key needs at least " + MIN_LENGTH);
        }
        if (bytes.length > MAX_LENGTH) {
            throw new IOException("cluster key file " + file + " is larger than " + MAX_LENGTH + " bytes: not a cluster key");
        }
        warnIfExposed(file);
        try {
            return new ClusterKey(bytes);
        } finally {
            java.util.Arrays.fill(bytes, (byte) 0);
        }
    }

    /**
     * Writes a new random key of {@value #GENERATED_LENGTH} bytes to {@code file}, readable by its
     * owner only where the filesystem has POSIX permissions, and returns it. Never overwrites.
     *
     * @throws FileAlreadyExistsException if {@code file} exists
     */
    public static ClusterKey generate(Path file, SecureRandom random) throws IOException {
        var bytes = new byte[GENERATED_LENGTH];
        random.nextBytes(bytes);
        boolean posix = Files.getFileStore(file.toAbsolutePath().getParent()).supportsFileAttributeView(PosixFileAttributeView.class);
        if (posix) {
            // Created 0600 from the start so there is no moment at which another user could open it.
            Files.createFile(file, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        } else {
            Files.createFile(file);
        }
        try {
            Files.write(file, bytes, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
            return new ClusterKey(bytes);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(file);
            throw e;
        } finally {
            java.util.Arrays.fill(bytes, (byte) 0);
        }
    }

    private static void warnIfExposed(Path file) {
        Set<PosixFilePermission> permissions;
        try {
            permissions = Files.getPosixFilePermissions(file);
        } catch (UnsupportedOperationException | IOException e) {
            return;
        }
        if (!java.util.Collections.disjoint(permissions, GROUP_OR_OTHERS)) {
            LOG.log(Level.WARNING, "cluster key file {0} has permissions {1}: others may read it; chmod 600 it",
                    new Object[] {file, PosixFilePermissions.toString(permissions)});
        }
    }

    public int length() {
        return key.length;
    }

    /** The key for HMAC-SHA256. */
    SecretKeySpec hmacKey() {
        return new SecretKeySpec(key, "HmacSHA256");
    }

    /** Deliberately hides the bytes: keys end up in logs through toString more often than any other way. */
    @Override
    public String toString() {
        return "ClusterKey[" + key.length + " bytes]";
    }
}
