package io.concord.dlm;

import static io.concord.dlm.LockMode.CR;
import static io.concord.dlm.LockMode.CW;
import static io.concord.dlm.LockMode.EX;
import static io.concord.dlm.LockMode.NL;
import static io.concord.dlm.LockMode.PR;
import static io.concord.dlm.LockMode.PW;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LockModeTest {
    // Written out from the DLM's documentation rather than copied from the implementation's table.
    private static final Map<LockMode, Set<LockMode>> COMPATIBLE = Map.of(
            NL, EnumSet.allOf(LockMode.class),
            CR, EnumSet.of(NL, CR, CW, PR, PW),
            CW, EnumSet.of(NL, CR, CW),
            PR, EnumSet.of(NL, CR, PR),
            PW, EnumSet.of(NL, CR),
            EX, EnumSet.of(NL));

    private static final Map<LockMode, Set<LockMode>> COVERS = Map.of(
            NL, EnumSet.of(NL),
            CR, EnumSet.of(NL, CR),
            CW, EnumSet.of(NL, CR, CW),
            PR, EnumSet.of(NL, CR, PR),
            PW, EnumSet.of(NL, CR, PR, PW),
            EX, EnumSet.allOf(LockMode.class));

    @Test
    void compatibilityMatchesTheDlmMatrixForAll36Pairs() {
        int checked = 0;
        for (LockMode held : LockMode.values()) {
            for (LockMode wanted : LockMode.values()) {
                assertEquals(COMPATIBLE.get(held).contains(wanted), held.compatibleWith(wanted), held + " vs " + wanted);
                assertEquals(held.compatibleWith(wanted), wanted.compatibleWith(held), "symmetry of " + held + "/" + wanted);
                checked++;
            }
        }
        assertEquals(36, checked);
    }

    @Test
    void coversMatchesTheDocumentedTableForAll36Pairs() {
        for (LockMode held : LockMode.values()) {
            for (LockMode other : LockMode.values()) {
                assertEquals(COVERS.get(held).contains(other), held.covers(other), held + " covers " + other);
            }
        }
    }

    /** Why a down-conversion can always be granted at once: it conflicts with nothing the old mode did not. */
    @Test
    void aCoveredModeConflictsWithNothingTheCoveringModeAllows() {
        for (LockMode held : LockMode.values()) {
            for (LockMode covered : LockMode.values()) {
                if (!held.covers(covered)) {
                    continue;
                }
                for (LockMode other : LockMode.values()) {
                    if (held.compatibleWith(other)) {
                        assertTrue(covered.compatibleWith(other), held + " covers " + covered + " but " + covered + " conflicts with " + other);
                    }
                }
            }
        }
    }

    @Test
    void onlyPwAndExWriteTheValueBlock() {
        for (LockMode mode : LockMode.values()) {
            assertEquals(mode == PW || mode == EX, mode.writesValueBlock(), mode.toString());
        }
    }
}
