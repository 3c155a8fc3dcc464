package io.concord.fsck;

import java.util.ArrayList;
import java.util.List;

/**
 * Where the checks put what they find. Every problem is counted; the first {@link #LISTED_MAX}
 * are kept, so that a wrecked device cannot make the checker itself run out of memory.
 */
class Problems {
    static final int LISTED_MAX = 200_000;

    private final List<Problem> listed = new ArrayList<>();
    private long total;

    void add(String code, long block, String message) {
        total++;
        if (listed.size() < LISTED_MAX) {
            listed.add(new Problem(code, block, message));
        }
    }

    long total() {
        return total;
    }

    List<Problem> listed() {
        return List.copyOf(listed);
    }

    /** A sink that forgets everything: for the second walk that only gathers the owners of shared blocks. */
    static Problems discarding() {
        return new Problems() {
            @Override
            void add(String code, long block, String message) {
            }
        };
    }
}
