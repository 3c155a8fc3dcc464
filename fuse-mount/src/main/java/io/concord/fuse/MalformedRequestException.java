package io.concord.fuse;

/** A request whose bytes do not add up: answered with EINVAL (or EIO), never fatal to the daemon. */
final class MalformedRequestException extends RuntimeException {
    final long unique;

    MalformedRequestException(long unique, String message) {
        super(message);
        this.unique = unique;
    }
}
