package io.concord.fs;

import io.concord.errors.FsException;
import io.concord.errors.FsException.Kind;
import io.concord.format.DirEntry;
import java.nio.charset.StandardCharsets;

/** Checks on a single path component, as the kernel would make them. */
final class Names {
    private Names() {
    }

    static byte[] utf8(String name) {
        return name.getBytes(StandardCharsets.UTF_8);
    }

    /** A name that may be created: 1..255 bytes, no '/', no NUL, not "." or "..". */
    static void checkNew(byte[] name) {
        check(name);
        if (isDot(name) || isDotDot(name)) {
            throw new FsException(Kind.EXISTS, "'" + new String(name, StandardCharsets.UTF_8) + "' always exists");
        }
    }

    static void check(byte[] name) {
        if (name.length == 0) {
            throw new FsException(Kind.NOT_FOUND, "empty name");
        }
        if (name.length > DirEntry.NAME_MAX) {
            throw new FsException(Kind.NAME_TOO_LONG, "name of " + name.length + " bytes is longer than " + DirEntry.NAME_MAX);
        }
        for (byte b : name) {
            if (b == '/' || b == 0) {
                throw new FsException(Kind.INVALID_ARGUMENT, "a name may not contain '/' or NUL");
            }
        }
    }

    static boolean isDot(byte[] name) {
        return name.length == 1 && name[0] == '.';
    }

    static boolean isDotDot(byte[] name) {
        return name.length == 2 && name[0] == '.' && name[1] == '.';
    }
}
