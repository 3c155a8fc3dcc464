package io.concord.dlm;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The {@link ResourceQueues} of a lock space, created on first use and dropped again when
 * unused, so that a long-lived filesystem does not keep one engine per inode it ever touched.
 *
 * <p>Dropping races with lookups: a thread may fetch an engine just as another retires it. The
 * engine refuses new locks once retired, and {@link #withQueues} then removes it from the map and
 * looks again, so two live engines never exist for one resource. No lock is held while an
 * engine runs (its callbacks may come back here).
 */
final class ResourceTable {
    private final ConcurrentMap<ResourceName, ResourceQueues> queues = new ConcurrentHashMap<>();
    private final java.util.function.Function<ResourceName, ResourceQueues> factory;

    ResourceTable() {
        this(() -> false);
    }

    /** @param frozen given to every engine: see {@link ResourceQueues} */
    ResourceTable(java.util.function.BooleanSupplier frozen) {
        this.factory = resource -> new ResourceQueues(resource, frozen);
    }

    /** Runs {@code operation} on the resource's engine, creating it if needed. */
    <T> T withQueues(ResourceName resource, Function<ResourceQueues, T> operation) {
        while (true) {
            ResourceQueues engine = queues.computeIfAbsent(resource, factory);
            try {
                return operation.apply(engine);
            } catch (ResourceQueues.Retired e) {
                queues.remove(resource, engine);
            } finally {
                dropIfUnused(engine);
            }
        }
    }

    /** Runs {@code operation} on the resource's engine if there is one, else returns {@code absent}. */
    <T> T withExisting(ResourceName resource, Function<ResourceQueues, T> operation, T absent) {
        ResourceQueues engine = queues.get(resource);
        if (engine == null) {
            return absent;
        }
        try {
            return operation.apply(engine);
        } finally {
            dropIfUnused(engine);
        }
    }

    /** Looks without creating or dropping anything: for queries. */
    ResourceQueues existing(ResourceName resource) {
        return queues.get(resource);
    }

    /** {@link ResourceQueues#purgeNode} on every resource. */
    void purgeNode(long node, Supplier<? extends LockException> reason) {
        for (ResourceQueues engine : queues.values()) {
            engine.purgeNode(node, reason);
            dropIfUnused(engine);
        }
    }

    /** Runs {@code action} on every engine, then drops those left unused. */
    void forEach(java.util.function.Consumer<ResourceQueues> action) {
        for (ResourceQueues engine : queues.values()) {
            action.accept(engine);
            dropIfUnused(engine);
        }
    }

    /** Every resource with an engine now. */
    java.util.Set<ResourceName> resources() {
        return java.util.Set.copyOf(queues.keySet());
    }

    /** Forgets a resource's engine, whatever it holds: its mastery moved to another node. */
    void remove(ResourceName resource) {
        queues.remove(resource);
    }

    /** For tests. */
    int size() {
        return queues.size();
    }

    /** For tests: {@link ResourceQueues#checkInvariants()} on every resource. */
    void checkInvariants() {
        queues.values().forEach(ResourceQueues::checkInvariants);
    }

    private void dropIfUnused(ResourceQueues engine) {
        if (engine.retireIfUnused()) {
            queues.remove(engine.resource(), engine);
        }
    }
}
