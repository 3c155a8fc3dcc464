package io.concord.device;

import io.concord.errors.DeviceException;
import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * A device with a volatile write cache that can lose power, for crash and fault tests.
 *
 * <p>Writes land in a cache of 512-byte sectors and reach the durable device beneath only at
 * {@link #flush()}. When power is lost (at a chosen write, or by {@link #losePower()}), each
 * cached sector independently reaches the durable device or not, as the random generator decides:
 * a disk may persist unflushed writes in any order and tear a multi-sector write anywhere. After
 * that every operation fails, as a dead disk's would. Flushes can also be made to lie (return
 * without persisting), and writes to fail, to test error paths.
 *
 * <p>Thread-safe: every method is synchronized (tests value determinism over speed here).
 * Closing it does not close the durable device beneath, which outlives the "power cycle".
 */
public final class FaultyDevice implements BlockDevice {
    public static final int SECTOR = 512;

    private final BlockDevice durable;
    private final RandomGenerator random;
    private final LinkedHashMap<Long, byte[]> cache = new LinkedHashMap<>();
    private long writes;
    private long powerLossAtWrite = Long.MAX_VALUE;
    private long failWritesFrom = Long.MAX_VALUE;
    private boolean flushesLie;
    private boolean powerLost;

    public FaultyDevice(BlockDevice durable, RandomGenerator random) {
        this.durable = durable;
        this.random = random;
    }

    /** The {@code n}-th write from now (1 = the next) is torn and power is lost with it. */
    public synchronized void losePowerAtWrite(long n) {
        powerLossAtWrite = writes + n;
    }

    /** Writes from the {@code n}-th from now on fail with an I/O error (nothing reaches the cache). */
    public synchronized void failWritesFrom(long n) {
        failWritesFrom = writes + n;
    }

    /** Flushes return without persisting anything (a lying write cache). */
    public synchronized void setFlushesLie(boolean lie) {
        flushesLie = lie;
    }

    public synchronized long writes() {
        return writes;
    }

    public synchronized boolean powerLost() {
        return powerLost;
    }

    /** Power fails now: a random subset of the cached sectors persists, the rest is gone. */
    public synchronized void losePower() {
        if (powerLost) {
            return;
        }
        powerLost = true;
        for (Map.Entry<Long, byte[]> e : cache.entrySet()) {
            if (random.nextBoolean()) {
                durable.write(e.getKey(), ByteBuffer.wrap(e.getValue()));
            }
        }
        cache.clear();
        durable.flush();
    }

    @Override
    public String name() {
        return "faulty(" + durable.name() + ")";
    }

    @Override
    public long size() {
        return durable.size();
    }

    @Override
    public boolean readOnly() {
        return durable.readOnly();
    }

    @Override
    public synchronized void read(long offset, ByteBuffer dst) {
        checkAlive();
        int length = dst.remaining();
        ByteBuffer window = dst.duplicate();
        durable.read(offset, window);
        for (long at = offset & -SECTOR; at < offset + length; at += SECTOR) {
            byte[] sector = cache.get(at);
            if (sector != null) {
                long from = Math.max(at, offset);
                long to = Math.min(at + SECTOR, offset + length);
                dst.put(dst.position() + (int) (from - offset), sector, (int) (from - at), (int) (to - from));
            }
        }
        dst.position(dst.position() + length);
    }

    @Override
    public synchronized void write(long offset, ByteBuffer src) {
        checkAlive();
        writes++;
        if (writes >= failWritesFrom) {
            throw new DeviceException(name() + ": injected write error at " + offset);
        }
        if ((offset & (SECTOR - 1)) != 0 || (src.remaining() & (SECTOR - 1)) != 0) {
            throw new DeviceException(name() + ": unaligned write at " + offset + "+" + src.remaining());
        }
        for (long at = offset; src.hasRemaining(); at += SECTOR) {
            byte[] sector = new byte[SECTOR];
            src.get(sector);
            cache.remove(at); // re-insert: the cache keeps write order
            cache.put(at, sector);
        }
        if (writes >= powerLossAtWrite) {
            losePower();
            throw new DeviceException(name() + ": power lost");
        }
    }

    @Override
    public synchronized void flush() {
        checkAlive();
        if (flushesLie) {
            return;
        }
        Iterator<Map.Entry<Long, byte[]>> it = cache.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Long, byte[]> e = it.next();
            durable.write(e.getKey(), ByteBuffer.wrap(e.getValue()));
            it.remove();
        }
        durable.flush();
    }

    @Override
    public synchronized void close() {
        if (!powerLost) {
            flush();
        }
    }

    private void checkAlive() {
        if (powerLost) {
            throw new DeviceException(name() + ": power lost");
        }
    }
}
