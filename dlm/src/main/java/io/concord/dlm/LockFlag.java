package io.concord.dlm;

/** Options of one {@link Lock#request}. The value block needs no flag: every lock carries one. */
public enum LockFlag {
    /**
     * Try-lock (DLM_LKF_NOQUEUE): if the request cannot be granted at once it fails with
     * {@link WouldBlockException} and leaves nothing queued, and no holder is sent a BAST.
     * A conversion that fails this way keeps its granted mode.
     */
    NOQUEUE
}
