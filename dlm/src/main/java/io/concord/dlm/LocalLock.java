package io.concord.dlm;

import static java.util.Objects.requireNonNull;

import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link Lock} of {@link NoLockSpace}: a handle that keeps no state of its own. What it holds,
 * what it read and what it staged live in the resource's {@link ResourceQueues} entry, so the
 * handle cannot disagree with the engine.
 */
final class LocalLock implements Lock {
    private final NoLockSpace space;
    private final ResourceName resource;
    private final HolderId holder;
    private final BlockingCallback onBlocking;

    LocalLock(NoLockSpace space, ResourceName resource, HolderId holder, BlockingCallback onBlocking) {
        this.space = space;
        this.resource = resource;
        this.holder = holder;
        this.onBlocking = onBlocking;
    }

    @Override
    public ResourceName resource() {
        return resource;
    }

    @Override
    public LockMode grantedMode() {
        ResourceQueues engine = space.existing(resource);
        return engine == null ? null : engine.grantedMode(holder);
    }

    @Override
    public CompletableFuture<LockMode> request(LockMode mode, Set<LockFlag> flags) {
        requireNonNull(mode, "mode");
        boolean noQueue = flags.contains(LockFlag.NOQUEUE);
        try {
            return space.withQueues(resource, engine -> engine.grantedMode(holder) == null
                    ? engine.request(holder, mode, noQueue, this::blocked)
                    : engine.convert(holder, mode, noQueue));
        } catch (LockSpaceClosedException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public boolean cancel() {
        return space.withExisting(resource, engine -> engine.cancel(holder), false);
    }

    @Override
    public CompletableFuture<Void> unlock() {
        space.withExisting(resource, engine -> engine.unlock(holder), false);
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public LockValueBlock valueBlock() {
        ResourceQueues engine = space.existing(resource);
        return engine == null ? null : engine.valueBlock(holder);
    }

    @Override
    public void setValueBlock(byte[] value) {
        requireNonNull(value, "value");
        space.requireOpen();
        ResourceQueues engine = space.existing(resource);
        if (engine == null) {
            throw new IllegalStateException(holder + " holds no lock on " + resource);
        }
        engine.stageValue(holder, value);
    }

    private void blocked(LockMode wanted) {
        if (onBlocking != null) {
            onBlocking.blocking(this, wanted);
        }
    }

    @Override
    public String toString() {
        return "Lock{" + resource + " #" + holder.lockId() + " " + grantedMode() + "}";
    }
}
