package io.concord.dlm.wire;

import io.concord.dlm.LockMode;
import io.concord.dlm.LockValueBlock;
import io.concord.dlm.ResourceName;

/**
 * What DLM nodes say to each other. Every message travels in a {@link Frame} that names the lock
 * space, the sender and the epoch it was sent in; {@link MessageCodec} turns both into bytes.
 *
 * <p>A lock is named on the wire by its holder's node incarnation (the frame's sender, or the
 * addressee for master-to-holder messages) and {@code lockId}, a number the holder chose. Nullable
 * fields are marked; a {@code publish} value, when present, is {@link LockValueBlock#SIZE} bytes.
 */
public sealed interface Message {
    ResourceName resource();

    // ---- holder -> master ----

    /** A first request for {@code mode}. */
    record Request(long lockId, ResourceName resource, LockMode mode, boolean noQueue) implements Message {}

    /**
     * A conversion of the held lock to {@code mode}.
     *
     * @param publish nullable: the value block to publish first (a PW/EX holder converting below PW)
     */
    record Convert(long lockId, ResourceName resource, LockMode mode, boolean noQueue, byte[] publish) implements Message {}

    /** Withdraws the request or conversion in flight; answered by {@link Granted} or {@link Refused}. */
    record Cancel(long lockId, ResourceName resource) implements Message {}

    /**
     * Releases the lock (and cancels a request in flight); answered by {@link Unlocked}.
     *
     * @param publish nullable: the value block to publish first (a PW/EX holder)
     */
    record Unlock(long lockId, ResourceName resource, byte[] publish) implements Message {}

    // ---- master -> holder ----

    /** The request or conversion in flight was granted; {@code valueBlock} is the resource's at the grant. */
    record Granted(long lockId, ResourceName resource, LockMode mode, LockValueBlock valueBlock) implements Message {}

    /** The request or conversion in flight for {@code mode} failed; a conversion keeps its granted mode. */
    record Refused(long lockId, ResourceName resource, LockMode mode, Reason reason) implements Message {}

    /** The unlock was done. */
    record Unlocked(long lockId, ResourceName resource) implements Message {}

    /** A BAST: the holder's granted mode blocks a request for {@code wanted}. */
    record Blocking(long lockId, ResourceName resource, LockMode wanted) implements Message {}

    // ---- recovery, all tagged with the frame's epoch ----

    /**
     * A holder's own view of one of its locks, sent to the resource's master for the new epoch so
     * that it can rebuild its queues. {@code granted} and {@code requested} both null means "I
     * hold nothing here: drop any entry of mine" (an unlock whose answer was lost).
     *
     * @param granted   nullable: the mode held
     * @param requested nullable: the mode of the request or conversion in flight
     * @param read      nullable: the value block read at the last grant
     * @param publish   nullable: a value still to publish (sent with an operation that may have been lost)
     */
    record Resend(long lockId, ResourceName resource, LockMode granted, LockMode requested, boolean noQueue,
                  LockValueBlock read, byte[] publish) implements Message {}

    /** An old master hands a resource's value block to the resource's new master. */
    record MasterState(ResourceName resource, LockValueBlock valueBlock) implements Message {}

    /** The sender has sent the addressee everything it will resend for the frame's epoch. */
    record RecoveryDone() implements Message {
        @Override
        public ResourceName resource() {
            return null;
        }
    }

    /** The sender has every member's {@link RecoveryDone} for the frame's epoch. */
    record RecoveryReady() implements Message {
        @Override
        public ResourceName resource() {
            return null;
        }
    }

    /** Why a request failed. */
    enum Reason {
        WOULD_BLOCK,
        CANCELLED,
        CONVERSION_DEADLOCK
    }
}
