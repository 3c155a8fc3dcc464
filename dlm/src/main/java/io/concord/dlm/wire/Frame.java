package io.concord.dlm.wire;

import static java.util.Objects.requireNonNull;

/**
 * One message with its envelope.
 *
 * @param lockSpace the lock space's wire id ({@link #lockSpaceId(String)})
 * @param epoch     the sender's epoch when it sent this; receivers refuse older ones
 * @param sender    the sender's incarnation in that lock space (its member znode's creation zxid)
 */
public record Frame(int lockSpace, long epoch, long sender, Message message) {
    public Frame {
        requireNonNull(message, "message");
    }

    /** The id under which a lock space's frames travel: a CRC32C of its name, as the kernel DLM's global id. */
    public static int lockSpaceId(String name) {
        var crc = new java.util.zip.CRC32C();
        crc.update(name.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return (int) crc.getValue();
    }
}
