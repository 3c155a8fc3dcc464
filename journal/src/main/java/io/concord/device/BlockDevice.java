package io.concord.device;

import java.nio.ByteBuffer;

/**
 * The shared disk as Concord sees it: positioned reads and writes of whole buffers, and a flush
 * that makes every completed write durable. An interface so that tests can put a device that loses
 * power, tears writes or fails I/O between the filesystem and the file.
 *
 * <p>Offsets and lengths are multiples of the filesystem block size. Reads and writes are
 * thread-safe; a write is not durable until a later {@link #flush()} returns.
 * Failures are {@link io.concord.errors.DeviceException}s.
 */
public interface BlockDevice extends AutoCloseable {
    /** A name for messages: the path of the file or device. */
    String name();

    /** Size in bytes. */
    long size();

    /** Fills {@code dst} from its position to its limit with the bytes at {@code offset}. */
    void read(long offset, ByteBuffer dst);

    /** Writes {@code src} from its position to its limit at {@code offset}. */
    void write(long offset, ByteBuffer src);

    /** Returns when every write completed before the call is durable. */
    void flush();

    boolean readOnly();

    @Override
    void close();
}
