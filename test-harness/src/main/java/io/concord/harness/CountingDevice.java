package io.concord.harness;

import io.concord.device.BlockDevice;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/** Passes everything through and counts writes and flushes, so a test can prove none happened. */
public final class CountingDevice implements BlockDevice {
    private final BlockDevice inner;
    private final AtomicLong writes = new AtomicLong();
    private final AtomicLong flushes = new AtomicLong();

    public CountingDevice(BlockDevice inner) {
        this.inner = inner;
    }

    public long writes() {
        return writes.get();
    }

    public long flushes() {
        return flushes.get();
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public long size() {
        return inner.size();
    }

    @Override
    public void read(long offset, ByteBuffer dst) {
        inner.read(offset, dst);
    }

    @Override
    public void write(long offset, ByteBuffer src) {
        writes.incrementAndGet();
        inner.write(offset, src);
    }

    @Override
    public void flush() {
        flushes.incrementAndGet();
        inner.flush();
    }

    @Override
    public boolean readOnly() {
        return inner.readOnly();
    }

    @Override
    public void close() {
        inner.close();
    }
}
