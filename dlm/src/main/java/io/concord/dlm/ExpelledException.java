package io.concord.dlm;

/** This node is no longer a member of the lock space's cluster: every lock it held is void. */
public final class ExpelledException extends LockSpaceClosedException {
    private final String why;

    public ExpelledException(String lockSpace, String why) {
        super(lockSpace);
        this.why = why;
    }

    @Override
    public String getMessage() {
        return super.getMessage() + ": this node was expelled from the cluster (" + why + ")";
    }
}
