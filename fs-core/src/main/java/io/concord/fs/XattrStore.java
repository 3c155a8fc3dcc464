package io.concord.fs;

import io.concord.errors.FsException;
import io.concord.errors.FsException.Kind;
import io.concord.format.BlockType;
import io.concord.format.Inode;
import io.concord.format.Xattrs;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * Extended attributes: inline in the inode while they fit its 512-byte area, else in one xattr
 * block of their own (as ext4 without ea_inode: all of an inode's attributes must fit one block,
 * otherwise ENOSPC). Namespaces, with the kernel's rules (fs/xattr.c and the capability LSM):
 * {@code user.} (regular files and directories only, read and written as the file's data is),
 * {@code trusted.} (root only; invisible to others), {@code security.} (anyone reads, only root
 * writes).
 * POSIX ACLs ({@code system.}) are not supported yet.
 */
final class XattrStore {
    static final int XATTR_CREATE = 1;
    static final int XATTR_REPLACE = 2;
    static final int VALUE_MAX = 65536;

    private final MetadataStore store;
    private final Allocator allocator;

    XattrStore(MetadataStore store, Allocator allocator) {
        this.store = store;
        this.allocator = allocator;
    }

    TreeMap<String, byte[]> all(Inode inode) {
        if (inode.xattrBlock() != 0) {
            byte[] enc = Xattrs.decodeBlock(store.read(inode.xattrBlock(), BlockType.XATTR), inode.xattrBlock(), inode.number(), store.fsId());
            return Xattrs.decode(enc, inode.xattrBlock());
        }
        return Xattrs.decode(inode.xattrInline(), inode.number());
    }

    byte[] get(Caller c, Inode inode, String name) {
        checkName(name);
        checkRead(c, inode, name);
        byte[] v = all(inode).get(name);
        if (v == null) {
            throw new FsException(Kind.NO_XATTR, "no attribute " + name + " on inode " + inode.number());
        }
        return v;
    }

    /** Names visible to {@code c} (trusted.* only to root), as listxattr returns them. */
    java.util.List<String> list(Caller c, Inode inode) {
        return all(inode).keySet().stream().filter(n -> c.isRoot() || !n.startsWith("trusted.")).toList();
    }

    Inode set(Caller c, Inode inode, String name, byte[] value, int flags) {
        checkName(name);
        checkWrite(c, inode, name);
        if (value.length > VALUE_MAX) {
            throw new FsException(Kind.XATTR_RANGE, "attribute value of " + value.length + " bytes is too large");
        }
        TreeMap<String, byte[]> attrs = all(inode);
        boolean exists = attrs.containsKey(name);
        if ((flags & XATTR_CREATE) != 0 && exists) {
            throw new FsException(Kind.EXISTS, "attribute " + name + " exists");
        }
        if ((flags & XATTR_REPLACE) != 0 && !exists) {
            throw new FsException(Kind.NO_XATTR, "no attribute " + name);
        }
        attrs.put(name, value.clone());
        return store(inode, attrs);
    }

    Inode remove(Caller c, Inode inode, String name) {
        checkName(name);
        checkWrite(c, inode, name);
        TreeMap<String, byte[]> attrs = all(inode);
        if (attrs.remove(name) == null) {
            throw new FsException(Kind.NO_XATTR, "no attribute " + name);
        }
        return store(inode, attrs);
    }

    /** Frees the xattr block, if any (for deletion). */
    Inode clear(Inode inode) {
        if (inode.xattrBlock() == 0) {
            return inode.withXattrs(new byte[0], 0);
        }
        freeBlock(inode.xattrBlock());
        return inode.withXattrs(new byte[0], 0).withBlocks(inode.blocks() - 1);
    }

    private Inode store(Inode inode, Map<String, byte[]> attrs) {
        byte[] enc = Xattrs.encode(attrs);
        long block = inode.xattrBlock();
        if (enc.length <= Inode.XATTR_INLINE_SIZE) {
            Inode result = inode.withXattrs(enc, 0);
            if (block != 0) {
                freeBlock(block);
                result = result.withBlocks(result.blocks() - 1);
            }
            return result;
        }
        if (enc.length > Xattrs.blockCapacity(store.blockSize())) {
            throw new FsException(Kind.NO_SPACE, "the attributes of inode " + inode.number() + " do not fit in one block");
        }
        Inode result = inode;
        if (block == 0) {
            block = allocator.allocate(inode.number() + 1, 1).start();
            result = result.withBlocks(result.blocks() + 1);
        }
        var image = store.newImage();
        Xattrs.encodeBlock(image, enc, block, inode.number(), store.journalId(), store.fsId());
        store.write(block, image);
        return result.withXattrs(new byte[0], block);
    }

    private void freeBlock(long block) {
        store.forget(block);
        allocator.free(new Run(block, 1), false);
    }

    private static void checkName(String name) {
        int len = name.getBytes(StandardCharsets.UTF_8).length;
        if (len > Xattrs.NAME_MAX) {
            throw new FsException(Kind.XATTR_RANGE, "attribute name too long");
        }
        if (len == 0) {
            throw new FsException(Kind.INVALID_ARGUMENT, "empty attribute name");
        }
        if (name.indexOf('.') == name.length() - 1) {
            throw new FsException(Kind.INVALID_ARGUMENT, "attribute name '" + name + "' has nothing after its namespace");
        }
        if (!(name.startsWith("user.") || name.startsWith("trusted.") || name.startsWith("security."))) {
            throw new FsException(Kind.NOT_SUPPORTED, "attribute namespace of '" + name + "' is not supported");
        }
    }

    private static void checkRead(Caller c, Inode inode, String name) {
        if (name.startsWith("trusted.") && !c.isRoot()) {
            throw new FsException(Kind.NO_XATTR, "no attribute " + name);
        }
        if (name.startsWith("user.")) {
            Permissions.check(c, inode, Permissions.READ);
        }
    }

    private static void checkWrite(Caller c, Inode inode, String name) {
        if (name.startsWith("trusted.") && !c.isRoot()) {
            throw new FsException(Kind.NOT_PERMITTED, "only root may set trusted.* attributes");
        }
        if (name.startsWith("security.") && !c.isRoot()) {
            throw new FsException(Kind.NOT_PERMITTED, "only root may set security.* attributes");
        }
        if (name.startsWith("user.")) {
            if (!inode.isRegular() && !inode.isDirectory()) {
                throw new FsException(Kind.NOT_PERMITTED, "user.* attributes only on regular files and directories");
            }
            if ((inode.mode() & Permissions.S_ISVTX) != 0 && inode.isDirectory() && !c.isRoot() && c.uid() != inode.uid()) {
                throw new FsException(Kind.NOT_PERMITTED, "user.* attributes of a sticky directory belong to its owner");
            }
            Permissions.check(c, inode, Permissions.WRITE);
        }
    }
}
