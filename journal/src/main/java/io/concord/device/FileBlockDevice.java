package io.concord.device;

import com.sun.nio.file.ExtendedOpenOption;
import io.concord.errors.DeviceException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A regular file (a disk image) or a block device. With {@code direct} the device is opened
 * O_DIRECT, as a real shared device must be: another node's writes never hide behind this node's
 * page cache. O_DIRECT wants aligned memory, so I/O then goes through an aligned bounce buffer.
 */
public final class FileBlockDevice implements BlockDevice {
    private static final int DIRECT_ALIGNMENT = 4096;

    private final Path path;
    private final FileChannel channel;
    private final boolean direct;
    private final boolean readOnly;
    private final long size;
    private final ThreadLocal<ByteBuffer> bounce = new ThreadLocal<>();

    private FileBlockDevice(Path path, FileChannel channel, boolean direct, boolean readOnly, long size) {
        this.path = path;
        this.channel = channel;
        this.direct = direct;
        this.readOnly = readOnly;
        this.size = size;
    }

    public static FileBlockDevice open(Path path, boolean readOnly, boolean direct) {
        List<OpenOption> options = new ArrayList<>(List.of(StandardOpenOption.READ));
        if (!readOnly) {
            options.add(StandardOpenOption.WRITE);
        }
        if (direct) {
            options.add(ExtendedOpenOption.DIRECT);
        }
        try {
            if (Files.isDirectory(path)) {
                throw new DeviceException(path + " is a directory, not a device or image file");
            }
            FileChannel channel = FileChannel.open(path, options.toArray(OpenOption[]::new));
            long size = channel.size();
            if (size == 0 && !Files.isRegularFile(path)) {
                size = blockDeviceSize(path);
            }
            return new FileBlockDevice(path, channel, direct, readOnly, size);
        } catch (NoSuchFileException e) {
            throw new DeviceException(path + ": no such device or file");
        } catch (IOException e) {
            throw new DeviceException(path + ": cannot open: " + e.getMessage(), e);
        }
    }

    /** The size of a block device from sysfs (FileChannel reports 0 for them). */
    private static long blockDeviceSize(Path path) throws IOException {
        long rdev = ((Number) Files.getAttribute(path, "unix:rdev")).longValue();
        long major = ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL);
        long minor = (rdev & 0xff) | ((rdev >>> 12) & ~0xffL);
        Path sectors = Path.of("/sys/dev/block/" + major + ":" + minor + "/size");
        return Long.parseLong(Files.readString(sectors).trim()) * 512;
    }

    @Override
    public String name() {
        return path.toString();
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public boolean readOnly() {
        return readOnly;
    }

    @Override
    public void read(long offset, ByteBuffer dst) {
        checkRange(offset, dst.remaining());
        try {
            if (direct) {
                // O_DIRECT moves whole aligned units only: read the units around the range.
                long start = alignDown(offset);
                int skip = (int) (offset - start);
                ByteBuffer b = bounce(alignUp(skip + dst.remaining()));
                readFully(start, b);
                dst.put(b.flip().position(skip).limit(skip + dst.remaining()));
            } else {
                readFully(offset, dst);
            }
        } catch (IOException e) {
            throw new DeviceException(path + ": read of " + dst.remaining() + " bytes at " + offset + " failed: " + e.getMessage(), e);
        }
    }

    private void readFully(long offset, ByteBuffer dst) throws IOException {
        long at = offset;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, at);
            if (n < 0) {
                // Past the end of a short image file: unwritten space reads as zeros.
                while (dst.hasRemaining()) {
                    dst.put((byte) 0);
                }
                return;
            }
            at += n;
        }
    }

    @Override
    public void write(long offset, ByteBuffer src) {
        if (readOnly) {
            throw new DeviceException(path + " is open read-only");
        }
        checkRange(offset, src.remaining());
        try {
            ByteBuffer b = src;
            long at = offset;
            if (direct) {
                // O_DIRECT moves whole aligned units only: a partial unit (the 1 KiB superblock) is
                // read, patched and written back whole.
                long start = alignDown(offset);
                int skip = (int) (offset - start);
                int span = alignUp(skip + src.remaining());
                b = bounce(span);
                if (skip != 0 || span != src.remaining()) {
                    readFully(start, b);
                    b.clear().limit(span);
                }
                b.position(skip);
                b.put(src.duplicate()).clear().limit(span);
                src.position(src.limit());
                at = start;
            }
            while (b.hasRemaining()) {
                at += channel.write(b, at);
            }
        } catch (IOException e) {
            throw new DeviceException(path + ": write at " + offset + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void flush() {
        try {
            channel.force(false);
        } catch (IOException e) {
            throw new DeviceException(path + ": flush failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new DeviceException(path + ": close failed: " + e.getMessage(), e);
        }
    }

    private void checkRange(long offset, int length) {
        if (offset < 0 || length < 0 || offset > size - length) {
            throw new DeviceException(path + ": I/O at " + offset + "+" + length + " is outside the device (" + size + " bytes)");
        }
    }

    private static long alignDown(long offset) {
        return offset & -DIRECT_ALIGNMENT;
    }

    private static int alignUp(int length) {
        return (length + DIRECT_ALIGNMENT - 1) & -DIRECT_ALIGNMENT;
    }

    private ByteBuffer bounce(int length) {
        ByteBuffer b = bounce.get();
        if (b == null || b.capacity() < length) {
            // alignedSlice rounds the capacity down to the alignment, so ask for a whole number of
            // aligned units beyond the worst-case misalignment of the start.
            int units = (length + DIRECT_ALIGNMENT - 1) / DIRECT_ALIGNMENT;
            b = ByteBuffer.allocateDirect((units + 1) * DIRECT_ALIGNMENT).alignedSlice(DIRECT_ALIGNMENT);
            bounce.set(b);
        }
        return b.clear().limit(length);
    }
}
