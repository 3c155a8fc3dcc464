package io.concord.dlm;

/**
 * What a lock protects: a one-letter type and a number, as OCFS2 names its locks. The type keeps
 * the namespaces of different objects apart (inode 7 and resource group 7 are different locks);
 * the number is unsigned (block addresses, journal slots, ...).
 *
 * @param type   an ASCII letter; the filesystem's are the constants below
 * @param number the object's number within its type, unsigned
 */
public record ResourceName(char type, long number) {
    public static final char INODE = 'I';
    public static final char RESOURCE_GROUP = 'R';
    public static final char JOURNAL = 'J';
    public static final char RENAME = 'N';
    public static final char STATFS = 'S';
    public static final char FLOCK = 'F';
    public static final char IOPEN = 'O';

    public ResourceName {
        if (!(type >= 'A' && type <= 'Z' || type >= 'a' && type <= 'z')) {
            throw new IllegalArgumentException("resource type must be an ASCII letter, not U+%04X".formatted((int) type));
        }
    }

    /** {@code I:1234}: the form used in logs and diagnostics. */
    @Override
    public String toString() {
        return type + ":" + Long.toUnsignedString(number);
    }
}
