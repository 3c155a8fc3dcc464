package io.concord.errors;

/** The block device failed an I/O, or cannot be opened. Carries the device path or offset. */
public final class DeviceException extends FsException {
    public DeviceException(String message, Throwable cause) {
        super(Kind.IO_ERROR, message, cause);
    }

    public DeviceException(String message) {
        super(Kind.IO_ERROR, message);
    }
}
