package io.concord.dlm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ResourceNameTest {
    @Test
    void printsTypeColonNumber() {
        assertEquals("I:1234", new ResourceName(ResourceName.INODE, 1234).toString());
        assertEquals("R:18446744073709551615", new ResourceName('R', -1).toString(), "numbers are unsigned");
    }

    @Test
    void typeSeparatesNamespaces() {
        assertNotEquals(new ResourceName('I', 7), new ResourceName('R', 7));
        assertEquals(new ResourceName('I', 7), new ResourceName('I', 7));
    }

    @Test
    void rejectsTypesThatAreNotAsciiLetters() {
        for (char bad : new char[] {'1', ':', ' ', '\0', 'é', 'Ж', '@', '['}) {
            assertThrows(IllegalArgumentException.class, () -> new ResourceName(bad, 1), "type " + (int) bad);
        }
    }
}
