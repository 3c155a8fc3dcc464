package io.concord.journal;

import io.concord.device.BlockDevice;
import java.nio.ByteBuffer;
import java.util.function.BooleanSupplier;
import java.util.function.LongPredicate;

/**
 * The durable device under a {@link io.concord.device.FaultyDevice} for one adversarial crash:
 * once {@code lost} says power is gone, only writes to blocks that {@code survives} accepts reach
 * the file. A disk may persist any subset of its unflushed sectors; random persistence makes the
 * subsets that matter (say, the far end of a write but not its start) astronomically unlikely, so a
 * test that needs one picks it here.
 */
final class SelectivelyDurableDevice implements BlockDevice {
    private final BlockDevice file;
    private final int blockSize;
    private final BooleanSupplier lost;
    private final LongPredicate survives;

    SelectivelyDurableDevice(BlockDevice file, int blockSize, BooleanSupplier lost, LongPredicate survives) {
        this.file = file;
        this.blockSize = blockSize;
        this.lost = lost;
        this.survives = survives;
    }

    @Override
    public String name() {
        return "selective(" + file.name() + ")";
    }

    @Override
    public long size() {
        return file.size();
    }

    @Override
    public void read(long offset, ByteBuffer dst) {
        file.read(offset, dst);
    }

    @Override
    public void write(long offset, ByteBuffer src) {
        if (lost.getAsBoolean() && !survives.test(offset / blockSize)) {
            src.position(src.limit());
            return;
        }
        file.write(offset, src);
    }

    @Override
    public void flush() {
        file.flush();
    }

    @Override
    public boolean readOnly() {
        return file.readOnly();
    }

    @Override
    public void close() {
        file.close();
    }
}
