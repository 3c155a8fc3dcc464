package io.concord.dlm;

import io.concord.dlm.wire.Message;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.LongPredicate;

/**
 * The master's side of a lock space: the queues of the resources this node masters, fed by the
 * holders' messages (its own holders' directly, other nodes' through frames), answering through
 * {@link Replies}.
 *
 * <p>The queues are {@link ResourceQueues} engines with {@link HolderId}s naming (holder
 * incarnation, holder's lock id); their futures and BASTs become messages to the holder. The
 * engines are frozen while the lock space is not running (see {@link ResourceQueues}).
 *
 * <p>The recovery methods at the bottom are called by {@link LockSpaceRecovery} only, with the lock
 * space's phase lock held for writing, so no holder message runs concurrently with them.
 */
final class MasterRole {
    private static final System.Logger LOG = System.getLogger(MasterRole.class.getName());

    /** Where answers to holders go. */
    interface Replies {
        void toHolder(long holder, Message message);
    }

    private final ResourceTable table;
    private final Replies replies;

    // Remastering state of the epoch being recovered; guarded by the phase lock (write).
    private final Set<ResourceName> keptFromBefore = new HashSet<>();
    private final Set<ResourceName> handedOver = new HashSet<>();
    private final Map<ResourceName, List<Message.Resend>> resent = new HashMap<>();

    MasterRole(java.util.function.BooleanSupplier frozen, Replies replies) {
        this.table = new ResourceTable(frozen);
        this.replies = replies;
    }

    // ---- holder messages; the phase lock is held for reading ----

    void request(long holder, Message.Request m) {
        HolderId id = new HolderId(holder, m.lockId());
        try {
            table.withQueues(m.resource(), engine -> {
                engine.request(id, m.mode(), m.noQueue(), blocking(id, m.resource()), answer(engine, id, m.resource(), m.mode()));
                return null;
            });
        } catch (IllegalStateException e) {
            LOG.log(System.Logger.Level.WARNING, "refusing request " + m + " from " + holder + ": " + e.getMessage());
            replies.toHolder(holder, new Message.Refused(m.lockId(), m.resource(), m.mode(), Message.Reason.CANCELLED));
        }
    }

    void convert(long holder, Message.Convert m) {
        HolderId id = new HolderId(holder, m.lockId());
        try {
            table.withQueues(m.resource(), engine -> {
                if (m.publish() != null) {
                    engine.stageValue(id, m.publish());
                }
                engine.convert(id, m.mode(), m.noQueue(), answer(engine, id, m.resource(), m.mode()));
                return null;
            });
        } catch (IllegalStateException e) {
            LOG.log(System.Logger.Level.WARNING, "refusing conversion " + m + " from " + holder + ": " + e.getMessage());
            replies.toHolder(holder, new Message.Refused(m.lockId(), m.resource(), m.mode(), Message.Reason.CANCELLED));
        }
    }

    void cancel(long holder, Message.Cancel m) {
        table.withExisting(m.resource(), engine -> engine.cancel(new HolderId(holder, m.lockId())), false);
    }

    void unlock(long holder, Message.Unlock m) {
        HolderId id = new HolderId(holder, m.lockId());
        table.withExisting(m.resource(), engine -> {
            if (m.publish() != null && engine.grantedMode(id) != null && engine.grantedMode(id).compareTo(LockMode.PW) >= 0) {
                engine.stageValue(id, m.publish());
            }
            return engine.unlock(id);
        }, false);
        replies.toHolder(holder, new Message.Unlocked(m.lockId(), m.resource()));
    }

    private java.util.function.Consumer<LockMode> blocking(HolderId id, ResourceName resource) {
        return wanted -> replies.toHolder(id.node(), new Message.Blocking(id.lockId(), resource, wanted));
    }

    // Attached to the engine's future before it can complete, so the engine delivers it in order
    // with its BASTs: the holder sees its Granted before any Blocking aimed at that grant.
    private java.util.function.BiConsumer<LockMode, Throwable> answer(ResourceQueues engine, HolderId id, ResourceName resource, LockMode mode) {
        return (grantedMode, failure) -> {
            if (failure == null) {
                // Only this holder's next message changes its entry, and it sends none before this answer.
                LockValueBlock read = engine.valueBlock(id);
                replies.toHolder(id.node(), new Message.Granted(id.lockId(), resource, grantedMode, read == null ? LockValueBlock.EMPTY : read));
                return;
            }
            Throwable why = failure instanceof CompletionException ? failure.getCause() : failure;
            Message.Reason reason = switch (why) {
                case WouldBlockException w -> Message.Reason.WOULD_BLOCK;
                case ConversionDeadlockException d -> Message.Reason.CONVERSION_DEADLOCK;
                case LockCancelledException c -> Message.Reason.CANCELLED;
                default -> null; // purged: the holder is gone or the space closed; nobody to tell
            };
            if (reason != null) {
                replies.toHolder(id.node(), new Message.Refused(id.lockId(), resource, mode, reason));
            }
        };
    }

    // ---- recovery; the phase lock is held for writing ----

    /**
     * Starts remastering for a new epoch: resources this node no longer masters are handed to their
     * new master (their value block; the holders resend their own locks) and forgotten here.
     *
     * @param masterOf the master of a resource in the new epoch
     * @param departed incarnations that are no longer members: if one held PW or EX, the value
     *                 block it may have been changing is marked invalid
     * @param handOff  sends a {@link Message.MasterState} to a node
     */
    void beginRemaster(java.util.function.ToLongFunction<ResourceName> masterOf, long self, LongPredicate departed,
                       java.util.function.BiConsumer<Long, Message.MasterState> handOff) {
        keptFromBefore.clear();
        handedOver.clear();
        resent.clear();
        for (ResourceName resource : table.resources()) {
            ResourceQueues engine = table.existing(resource);
            if (engine == null) {
                continue;
            }
            long newMaster = masterOf.applyAsLong(resource);
            if (newMaster == self) {
                keptFromBefore.add(resource);
                continue;
            }
            LockValueBlock value = engine.valueBlock();
            if (engine.writerAmong(departed)) {
                value = value.invalidated();
            }
            if (!value.equals(LockValueBlock.EMPTY)) {
                handOff.accept(newMaster, new Message.MasterState(resource, value));
            }
            table.remove(resource);
        }
    }

    /** A holder's resent view of one lock (see {@link ClusterLock#resendTo}). */
    void install(long holder, Message.Resend m) {
        HolderId id = new HolderId(holder, m.lockId());
        table.withQueues(m.resource(), engine -> {
            engine.install(id, m.granted(), m.requested(), blocking(id, m.resource()),
                    m.requested() == null ? null : answer(engine, id, m.resource(), m.requested()));
            return null;
        });
        resent.computeIfAbsent(m.resource(), r -> new ArrayList<>()).add(m);
    }

    /** The old master's value block of a resource now mastered here. */
    void takeOver(Message.MasterState m) {
        table.withQueues(m.resource(), engine -> {
            engine.takeValueBlock(m.valueBlock());
            return null;
        });
        handedOver.add(m.resource());
    }

    /**
     * Every member has sent all it will resend for the epoch: settle the rebuilt resources. A
     * resource whose old master handed its value block over, or that stayed here, keeps that
     * block. One whose master died gets the newest copy its holders read, trusted only if a
     * surviving holder holds a mode that excludes every writer (CW, PR, PW or EX exclude PW and
     * EX elsewhere); otherwise the dead master may have seen a newer value, so it is marked
     * invalid. Then values resent with lost unlocks are published, and conversions granted before
     * the change but reported as still waiting are settled.
     */
    void finishRemaster() {
        for (Map.Entry<ResourceName, List<Message.Resend>> e : resent.entrySet()) {
            ResourceName resource = e.getKey();
            List<Message.Resend> views = e.getValue();
            table.withQueues(resource, engine -> {
                boolean rebuiltUntrusted = false;
                if (!keptFromBefore.contains(resource) && !handedOver.contains(resource)) {
                    LockValueBlock newest = LockValueBlock.EMPTY;
                    for (Message.Resend view : views) {
                        if (view.read() != null && view.read().sequence() > newest.sequence()) {
                            newest = view.read();
                        }
                    }
                    boolean trusted = views.stream()
                            .anyMatch(view -> view.granted() != null && !view.granted().compatibleWith(LockMode.PW));
                    engine.takeValueBlock(trusted ? newest : newest.invalidated());
                    rebuiltUntrusted = !trusted;
                }
                // A value resent with a lost unlock is published if the block is still at the
                // sequence its sender read. That proves the value never arrived only when the block
                // is exact (kept here or handed over). A block rebuilt from the reads of the locks
                // that happened to resend may lag publications that did arrive at the dead master,
                // so it stays invalid rather than take an older value as valid.
                for (Message.Resend view : views) {
                    if (view.publish() != null && view.read() != null && !rebuiltUntrusted) {
                        engine.publishIfAt(view.read().sequence(), view.publish());
                    }
                }
                int settled = engine.settleConflicts();
                if (settled > 0) {
                    LOG.log(System.Logger.Level.DEBUG, "granted " + settled + " conversions on " + resource + " that were granted before the change");
                }
                return null;
            });
        }
        resent.clear();
    }

    /** Drops the locks of nodes whose recovery is done, marking value blocks they may have been writing invalid. */
    void purge(LongPredicate recovered) {
        table.forEach(engine -> {
            if (engine.writerAmong(recovered)) {
                engine.invalidateValueBlock();
            }
            engine.purgeNodes(recovered, () -> new LockSpaceClosedException("purged"));
        });
    }

    /** Lets the frozen engines grant again and resend their BASTs. */
    void thaw() {
        table.forEach(ResourceQueues::thaw);
    }

    /** Drops everything: the lock space closed or this node left the cluster. */
    void clear() {
        for (ResourceName resource : table.resources()) {
            table.remove(resource);
        }
    }

    void describe(StringBuilder out) {
        table.forEach(engine -> out.append("  masters ").append(engine).append('\n'));
    }

    /** For tests: the value block of a resource mastered here, or null. */
    LockValueBlock valueBlock(ResourceName resource) {
        ResourceQueues engine = table.existing(resource);
        return engine == null ? null : engine.valueBlock();
    }

    /** For tests and diagnostics. */
    Set<ResourceName> resources() {
        return table.resources();
    }

    /** For tests: the engines' invariants. */
    void checkInvariants() {
        table.checkInvariants();
    }

    /** For diagnostics: the mode each node holds on {@code resource}, if mastered here. */
    List<LockMode> heldModes(ResourceName resource, LongPredicate node) {
        ResourceQueues engine = table.existing(resource);
        return engine == null ? List.of() : engine.heldModes(node);
    }
}
