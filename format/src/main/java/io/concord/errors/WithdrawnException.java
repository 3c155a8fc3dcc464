package io.concord.errors;

/**
 * This node has stopped writing to the shared device (GFS2's "withdraw"): after a corrupt block, a
 * failed device write, or loss of cluster membership. Every later operation that would need the
 * device fails with this (EIO) until the filesystem is unmounted and checked.
 */
public final class WithdrawnException extends FsException {
    public WithdrawnException(String reason) {
        super(Kind.IO_ERROR, "filesystem withdrawn: " + reason);
    }
}
