package io.concord.dlm;

/**
 * The conversion would wait for a conversion already queued ahead of it which in turn waits for
 * this lock's granted mode (two PR holders both converting to EX). As the kernel DLM does with
 * -EDEADLK, the later conversion fails and keeps its granted mode; its holder should unlock or
 * down-convert, which lets the earlier conversion through.
 */
public class ConversionDeadlockException extends LockException {
    public ConversionDeadlockException(ResourceName resource, LockMode held, LockMode wanted) {
        super(resource + ": converting " + held + " to " + wanted + " would deadlock with a queued conversion");
    }
}
