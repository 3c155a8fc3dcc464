package io.concord.fuse;

import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Tells the kernel to drop what it cached for an inode or a name, when the inode changed behind
 * its back (another node wrote it). Notifications go out from this class's own thread, never from
 * a thread that serves requests: the kernel may hold the write of a notification until it can lock
 * pages that a request in flight is holding, which would otherwise deadlock.
 */
final class Notifier implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Notifier.class.getName());

    private final FuseChannel channel;
    private final NodeTable nodes;
    private final BlockingQueue<Runnable> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile boolean closed;

    Notifier(FuseChannel channel, NodeTable nodes) {
        this.channel = channel;
        this.nodes = nodes;
        this.thread = Thread.ofPlatform().daemon().name("concord-fuse-notify").start(this::run);
    }

    /** Drop cached attributes, and cached data from {@code offset} for {@code length} bytes (-1: to the end). */
    void invalidateInode(long inode, long offset, long length) {
        long node = nodes.nodeId(inode);
        queue.add(() -> {
            ByteBuffer b = FuseChannel.le(24).putLong(node).putLong(offset).putLong(length).flip();
            channel.notify(Fuse.NOTIFY_INVAL_INODE, b);
        });
    }

    /** Drop the cached name {@code name} in directory {@code parent}. */
    void invalidateEntry(long parent, byte[] name) {
        long node = nodes.nodeId(parent);
        queue.add(() -> {
            ByteBuffer b = FuseChannel.le(16).putLong(node).putInt(name.length).putInt(0).flip();
            channel.notify(Fuse.NOTIFY_INVAL_ENTRY, b, ByteBuffer.wrap(name), ByteBuffer.wrap(new byte[1]));
        });
    }

    /** The name {@code name} in {@code parent}, which pointed at {@code child}, is gone. */
    void deleted(long parent, long child, byte[] name) {
        long p = nodes.nodeId(parent);
        long c = nodes.nodeId(child);
        queue.add(() -> {
            ByteBuffer b = FuseChannel.le(24).putLong(p).putLong(c).putInt(name.length).putInt(0).flip();
            channel.notify(Fuse.NOTIFY_DELETE, b, ByteBuffer.wrap(name), ByteBuffer.wrap(new byte[1]));
        });
    }

    /** Waits (bounded) until every notification queued so far has been written. */
    boolean drain(long millis) throws InterruptedException {
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        queue.add(done::countDown);
        return done.await(millis, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    private void run() {
        while (!closed) {
            try {
                queue.take().run();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "a cache invalidation could not be sent: " + e.getMessage());
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
    }
}
