package io.concord.dlm;

/**
 * A blocking AST: tells the holder of a granted lock that its mode is keeping someone else's
 * request from being granted, so that it can write back what it caches and down-convert or unlock.
 *
 * <p>It is called at most once per grant of the lock for a given wanted mode (again only if a
 * stronger mode is wanted later; a new grant starts afresh; after a recovery it may come again).
 * It may call {@link Lock#unlock()} or {@link Lock#request} on any lock, but it must not block:
 * it runs on the thread that delivers grants (in the distributed manager, often a transport
 * thread holding the lock space's internal read lock), so waiting there for a grant, for I/O or
 * in {@link Lock#cancel()} can stall the lock space. Hand slow work (writing back a cache) to
 * another thread and unlock or convert from there.
 */
@FunctionalInterface
public interface BlockingCallback {
    /**
     * @param lock   the granted lock that is in the way
     * @param wanted the mode some other request wants and cannot get while {@code lock} is held
     */
    void blocking(Lock lock, LockMode wanted);
}
