package io.concord.dlm;

/**
 * The six DLM lock modes, weakest first (the order of fs/dlm's {@code DLM_LOCK_NL..EX}).
 *
 * <p>Two rules matter to the rest of the module. {@link #compatibleWith} decides what may be held
 * at once on one resource. {@link #covers} says a held mode already gives what another mode
 * would; every mode incompatible with the covered mode is also incompatible with the covering one,
 * which is why a conversion to a covered mode (a down-conversion) can always be granted at once.
 */
public enum LockMode {
    /** Null: holds nothing; keeps the lock (and the holder's place for BASTs) alive. */
    NL,
    /** Concurrent read: read while others may write (cached, unprotected reads). */
    CR,
    /** Concurrent write: write while other CW holders also write (e.g. direct I/O). */
    CW,
    /** Protected read: shared read; no writer may hold. */
    PR,
    /** Protected write: one writer, alongside CR readers only. May write the value block. */
    PW,
    /** Exclusive: alone except for NL holders. May write the value block. */
    EX;

    private static final boolean Y = true;
    private static final boolean N = false;

    // Symmetric; rows and columns in declaration order.
    private static final boolean[][] COMPATIBLE = {
        //        NL CR CW PR PW EX
        /* NL */ {Y, Y, Y, Y, Y, Y},
        /* CR */ {Y, Y, Y, Y, Y, N},
        /* CW */ {Y, Y, Y, N, N, N},
        /* PR */ {Y, Y, N, Y, N, N},
        /* PW */ {Y, Y, N, N, N, N},
        /* EX */ {Y, N, N, N, N, N},
    };

    // Row covers column. Not a total order: CW and PR (and CW and PW) cover neither each other.
    private static final boolean[][] COVERS = {
        //        NL CR CW PR PW EX
        /* NL */ {Y, N, N, N, N, N},
        /* CR */ {Y, Y, N, N, N, N},
        /* CW */ {Y, Y, Y, N, N, N},
        /* PR */ {Y, Y, N, Y, N, N},
        /* PW */ {Y, Y, N, Y, Y, N},
        /* EX */ {Y, Y, Y, Y, Y, Y},
    };

    /** Whether a lock in this mode and one in {@code other} may be granted on one resource at once. */
    public boolean compatibleWith(LockMode other) {
        return COMPATIBLE[ordinal()][other.ordinal()];
    }

    /** Whether holding this mode already gives the holder everything {@code other} would. */
    public boolean covers(LockMode other) {
        return COVERS[ordinal()][other.ordinal()];
    }

    /** Whether a holder in this mode may publish a new value block (only PW and EX exclude other writers). */
    boolean writesValueBlock() {
        return this == PW || this == EX;
    }
}
