package io.concord.dlm;

/**
 * A blocking AST: tells the holder of a granted lock that its mode is keeping someone else's
 * request from being granted, so that it can write back what it caches and down-convert or unlock.
 *
 * <p>It is called at most once per grant of the lock for a given wanted mode (again only if a
 * stronger mode is wanted later; a new grant starts afresh). It runs on a thread that holds none
 * of the lock manager's locks, so it may call {@link Lock#unlock()} or {@link Lock#request} on
 * any lock; it must not block waiting for a grant, since grants on the same resource are
 * delivered by the thread running it.
 */
@FunctionalInterface
public interface BlockingCallback {
    /**
     * @param lock   the granted lock that is in the way
     * @param wanted the mode some other request wants and cannot get while {@code lock} is held
     */
    void blocking(Lock lock, LockMode wanted);
}
