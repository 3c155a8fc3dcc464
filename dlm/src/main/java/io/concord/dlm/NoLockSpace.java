package io.concord.dlm;

import static java.util.Objects.requireNonNull;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A lock space of {@link NoLockManager}: a {@link ResourceTable} whose every holder is this node.
 *
 * <p>Closing marks the space closed, then purges every resource. An operation that passed the
 * closed check just before could still queue a lock after that purge, so every operation purges
 * again if it finds the space closed when it finishes.
 */
final class NoLockSpace implements LockSpace {
    /** The node id of every holder here. */
    static final long LOCAL_NODE = 0;

    private final String name;
    private final Consumer<NoLockSpace> onClose;
    private final ResourceTable resources = new ResourceTable();
    private final AtomicLong lockIds = new AtomicLong();
    private volatile boolean closed;

    NoLockSpace(String name, Consumer<NoLockSpace> onClose) {
        this.name = name;
        this.onClose = onClose;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public boolean clustered() {
        return false;
    }

    @Override
    public Lock newLock(ResourceName resource, BlockingCallback onBlocking) {
        requireNonNull(resource, "resource");
        requireOpen();
        return new LocalLock(this, resource, new HolderId(LOCAL_NODE, lockIds.incrementAndGet()), onBlocking);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            purgeAll();
            onClose.accept(this);
        }
    }

    /** Runs {@code operation} on the resource's engine, creating it if needed. */
    <T> T withQueues(ResourceName resource, Function<ResourceQueues, T> operation) {
        requireOpen();
        try {
            return resources.withQueues(resource, operation);
        } finally {
            if (closed) {
                purgeAll();
            }
        }
    }

    /** Runs {@code operation} on the resource's engine if it exists, else returns {@code absent}. */
    <T> T withExisting(ResourceName resource, Function<ResourceQueues, T> operation, T absent) {
        return resources.withExisting(resource, operation, absent);
    }

    /** For queries: the engine if it exists, without creating or dropping it. */
    ResourceQueues existing(ResourceName resource) {
        return resources.existing(resource);
    }

    void requireOpen() {
        if (closed) {
            throw new LockSpaceClosedException(name);
        }
    }

    /** For tests. */
    ResourceTable resources() {
        return resources;
    }

    private void purgeAll() {
        resources.purgeNode(LOCAL_NODE, () -> new LockSpaceClosedException(name));
    }

    @Override
    public String toString() {
        return "NoLockSpace{" + name + (closed ? ", closed" : "") + "}";
    }
}
