package io.concord.dlm;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One holder's lock on one resource, reused across grants: request, convert up and down, unlock,
 * request again. At most one request or conversion is in flight at a time.
 *
 * <p>Futures complete on the thread that delivers grants and BASTs: the caller's own thread, or in
 * the distributed manager a transport thread, which may hold the lock space's internal read lock.
 * Dependent stages and BAST handlers must therefore not block: not on another grant, not on I/O,
 * and not in {@link #cancel()} of a request already sent (it waits for the master's answer, which
 * that same thread may have to deliver). Use the {@code *Async} stage methods for anything that
 * waits. Cancel a request with {@link #cancel()}; cancelling the future itself does not withdraw it.
 */
public interface Lock {
    ResourceName resource();

    /**
     * The mode currently granted, {@code null} when not held. During a conversion it is the mode
     * held before it. It changes when the grant happens, which may be just before the request's
     * future completes.
     */
    LockMode grantedMode();

    /**
     * Asks for {@code mode}: a first request if nothing is held, else a conversion of the held mode.
     * A conversion to a mode the held one {@linkplain LockMode#covers covers} is granted at once,
     * publishing a staged value block if it drops below PW.
     *
     * @return completes with {@code mode} when granted, or exceptionally with
     *     {@link WouldBlockException} ({@link LockFlag#NOQUEUE}), {@link LockCancelledException},
     *     {@link ConversionDeadlockException} or {@link LockSpaceClosedException}
     * @throws IllegalStateException if a request or conversion of this lock is already in flight
     */
    CompletableFuture<LockMode> request(LockMode mode, Set<LockFlag> flags);

    /** {@link #request(LockMode, Set)} without flags. */
    default CompletableFuture<LockMode> request(LockMode mode) {
        return request(mode, Set.of());
    }

    /**
     * Withdraws the request or conversion in flight: its future fails with
     * {@link LockCancelledException} and a conversion keeps the previously granted mode. In the
     * distributed manager this waits for the master's answer (the grant may have beaten the
     * cancel), through a recovery if one is running; never call it from a callback.
     *
     * @return false if nothing was in flight, including when it was granted first
     */
    boolean cancel();

    /**
     * Releases the lock, publishing a staged value block if held in PW or EX. A request in flight
     * is cancelled first. Unlocking a lock that is not held does nothing.
     */
    CompletableFuture<Void> unlock();

    /** The resource's value block as read at this lock's last grant; {@code null} when not held. */
    LockValueBlock valueBlock();

    /**
     * Stages a new value block; it is published (sequence + 1) when this lock next converts below
     * PW or unlocks. Staging again replaces the staged value.
     *
     * @param value {@link LockValueBlock#SIZE} bytes, copied
     * @throws IllegalStateException unless held in PW or EX
     */
    void setValueBlock(byte[] value);

    /**
     * Requests {@code mode} and waits for the grant.
     *
     * @throws LockTimeoutException if not granted within {@code timeout}; the request is cancelled
     * @throws LockException        for the failures listed at {@link #request(LockMode, Set)}
     */
    default LockMode lock(LockMode mode, Duration timeout) {
        CompletableFuture<LockMode> grant = request(mode, Set.of());
        try {
            return grant.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            if (cancel()) {
                throw new LockTimeoutException(resource(), mode, timeout);
            }
            return awaitResolved(grant); // granted (or failed) just as we gave up
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            if (cancel()) {
                throw new LockCancelledException(resource(), mode);
            }
            return awaitResolved(grant);
        } catch (ExecutionException e) {
            throw rethrown(e.getCause());
        }
    }

    /** Waits for a future whose request is no longer queued, so its completion is already on its way. */
    private static LockMode awaitResolved(CompletableFuture<LockMode> grant) {
        try {
            return grant.join();
        } catch (CompletionException e) {
            throw rethrown(e.getCause());
        }
    }

    private static RuntimeException rethrown(Throwable cause) {
        return cause instanceof RuntimeException r ? r : new LockException("lock request failed", cause);
    }
}
