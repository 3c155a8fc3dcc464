package io.concord.fs;

import java.time.Clock;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Resource groups that a try-lock lately found held by another node: allocation skips them for a
 * while rather than asking again on every operation, and so stays in groups of its own.
 */
final class RgrpSkips {
    private static final long SKIP_MILLIS = 1_000;

    private final Clock clock;
    private final ConcurrentHashMap<Integer, Long> until = new ConcurrentHashMap<>();

    RgrpSkips(Clock clock) {
        this.clock = clock;
    }

    void heldElsewhere(int rgrp) {
        until.put(rgrp, clock.millis() + SKIP_MILLIS);
    }

    boolean recentlyHeldElsewhere(int rgrp) {
        Long u = until.get(rgrp);
        if (u == null) {
            return false;
        }
        if (clock.millis() >= u) {
            until.remove(rgrp, u);
            return false;
        }
        return true;
    }
}
