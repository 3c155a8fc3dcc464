package io.concord.fuse;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** File handles given to the kernel at OPEN, CREATE and OPENDIR, until RELEASE/RELEASEDIR. */
final class OpenFiles {
    /** What a handle stands for. */
    record Handle(long inode, int flags, boolean directory) {
    }

    private final AtomicLong next = new AtomicLong(1);
    private final ConcurrentHashMap<Long, Handle> handles = new ConcurrentHashMap<>();

    long open(long inode, int flags, boolean directory) {
        long fh = next.getAndIncrement();
        handles.put(fh, new Handle(inode, flags, directory));
        return fh;
    }

    Handle get(long fh) {
        return handles.get(fh);
    }

    Handle close(long fh) {
        return handles.remove(fh);
    }

    int size() {
        return handles.size();
    }
}
