package io.concord.errors;

/**
 * The device is not a Concord filesystem this code can use: no superblock, an unknown incompatible
 * feature, a newer format, or geometry that does not add up. Tools print its message as one line.
 */
public final class FormatException extends ConcordException {
    public FormatException(String message) {
        super(message);
    }
}
