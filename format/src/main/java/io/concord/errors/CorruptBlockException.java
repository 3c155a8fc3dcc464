package io.concord.errors;

/**
 * A block read from the shared device is not what it must be: bad magic, wrong type, wrong
 * self-address, another filesystem's id, or a CRC32C mismatch. It names the block, so that the
 * log line and {@code fsck.concord} point at the same place. Operations that need the block fail
 * with EIO; the filesystem withdraws (stops writing) when it meets one.
 */
public final class CorruptBlockException extends FsException {
    private final long block;

    public CorruptBlockException(long block, String what) {
        super(Kind.IO_ERROR, "corrupt metadata block " + block + ": " + what);
        this.block = block;
    }

    public long block() {
        return block;
    }
}
