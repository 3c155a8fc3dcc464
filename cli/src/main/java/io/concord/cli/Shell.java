package io.concord.cli;

import io.concord.errors.ConcordException;
import io.concord.fs.Attributes;
import io.concord.fs.Caller;
import io.concord.fs.ConcordFs;
import io.concord.fs.DirListEntry;
import io.concord.fs.SetAttr;
import io.concord.fs.StatFs;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * The commands of {@code concord shell}: each line is a command and its arguments, split on
 * spaces; paths are relative to the current directory unless they start with '/'. Runs as root.
 */
final class Shell {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);
    private static final String HELP = """
            ls [PATH]             list a directory          stat PATH          show an inode
            cd PATH / pwd         change / show directory   mkdir PATH         make a directory
            write PATH TEXT...    write TEXT to a file      cat PATH           print a file
            put LOCAL PATH        copy a local file in      get PATH LOCAL     copy a file out
            rm PATH / rmdir PATH  remove                    mv FROM TO         rename
            ln TARGET PATH        hard link                 symlink TARGET PATH
            truncate PATH SIZE    set a file's size         df                 free space
            setfattr PATH NAME VALUE / getfattr PATH NAME   sync               commit the journal
            quit                  unmount and leave""";

    private final ConcordFs fs;
    private final PrintStream out;
    private final PrintStream err;
    private String cwd = "/";

    Shell(ConcordFs fs, PrintStream out, PrintStream err) {
        this.fs = fs;
        this.out = out;
        this.err = err;
    }

    String cwdPath() {
        return cwd;
    }

    /** Runs one command line; false when it failed (the error is printed). */
    boolean execute(String line) {
        String[] w = line.trim().split("\\s+");
        if (w.length == 0 || w[0].isEmpty() || w[0].startsWith("#")) {
            return true;
        }
        try {
            run(w, line.trim());
            return true;
        } catch (ConcordException e) {
            err.println(w[0] + ": " + e.getMessage());
            return false;
        } catch (IOException e) {
            err.println(w[0] + ": " + e.getMessage());
            return false;
        } catch (ArrayIndexOutOfBoundsException | NumberFormatException e) {
            err.println(w[0] + ": bad arguments (type 'help')");
            return false;
        }
    }

    private void run(String[] w, String line) throws IOException {
        Caller root = Caller.ROOT;
        switch (w[0]) {
            case "help" -> out.println(HELP);
            case "pwd" -> out.println(cwd);
            case "cd" -> {
                String p = abs(w[1]);
                if (!fs.resolve(root, p, true).isDirectory()) {
                    throw new io.concord.errors.FsException(io.concord.errors.FsException.Kind.NOT_DIRECTORY, p + " is not a directory");
                }
                cwd = normalize(p);
            }
            case "ls" -> ls(w.length > 1 ? abs(w[1]) : cwd);
            case "stat" -> stat(fs.resolve(root, abs(w[1]), false));
            case "mkdir" -> fs.mkdir(root, parent(w[1]), name(w[1]), 0755);
            case "rmdir" -> fs.rmdir(root, parent(w[1]), name(w[1]));
            case "rm" -> fs.unlink(root, parent(w[1]), name(w[1]));
            case "mv" -> fs.rename(root, parent(w[1]), name(w[1]), parent(w[2]), name(w[2]), 0);
            case "ln" -> fs.link(root, fs.resolve(root, abs(w[1]), false).inode(), parent(w[2]), name(w[2]));
            case "symlink" -> fs.symlink(root, parent(w[2]), name(w[2]), w[1]);
            case "write" -> {
                String text = line.substring(line.indexOf(w[1]) + w[1].length()).strip() + "\n";
                writeFile(w[1], text.getBytes(StandardCharsets.UTF_8));
            }
            case "put" -> writeFile(w[2], Files.readAllBytes(Path.of(w[1])));
            case "cat" -> out.print(new String(readFile(w[1]), StandardCharsets.UTF_8));
            case "get" -> Files.write(Path.of(w[2]), readFile(w[1]));
            case "truncate" -> fs.setattr(root, fs.resolve(root, abs(w[1]), true).inode(), SetAttr.size(Long.parseLong(w[2])));
            case "setfattr" -> fs.setxattr(root, fs.resolve(root, abs(w[1]), true).inode(), w[2], w[3].getBytes(StandardCharsets.UTF_8), 0);
            case "getfattr" -> out.println(new String(fs.getxattr(root, fs.resolve(root, abs(w[1]), true).inode(), w[2]), StandardCharsets.UTF_8));
            case "df" -> {
                StatFs s = fs.statfs();
                long used = s.blocks() - s.freeBlocks();
                out.printf("%d-byte blocks: %d total, %d used, %d free (%d%% used)%n", s.blockSize(), s.blocks(), used, s.freeBlocks(),
                        used * 100 / Math.max(1, s.blocks()));
            }
            case "sync" -> fs.sync();
            default -> throw new io.concord.errors.FsException(io.concord.errors.FsException.Kind.NOT_SUPPORTED, "unknown command (type 'help')");
        }
    }

    private void writeFile(String path, byte[] bytes) {
        long dir = parent(path);
        String n = name(path);
        long ino;
        try {
            ino = fs.lookup(Caller.ROOT, dir, n).inode();
            fs.setattr(Caller.ROOT, ino, SetAttr.size(0));
        } catch (io.concord.errors.FsException e) {
            if (e.kind() != io.concord.errors.FsException.Kind.NOT_FOUND) {
                throw e;
            }
            ino = fs.create(Caller.ROOT, dir, n, 0644).inode();
        }
        for (int off = 0; off < bytes.length; off += 1 << 20) {
            fs.write(Caller.ROOT, ino, off, ByteBuffer.wrap(bytes, off, Math.min(1 << 20, bytes.length - off)));
        }
    }

    private byte[] readFile(String path) {
        Attributes a = fs.resolve(Caller.ROOT, abs(path), true);
        ByteBuffer b = ByteBuffer.allocate((int) Math.min(a.size(), Integer.MAX_VALUE - 16));
        while (b.hasRemaining() && fs.read(a.inode(), b.position(), b) > 0) {
            // read() advances the buffer
        }
        return b.array();
    }

    private void ls(String path) {
        Attributes dir = fs.resolve(Caller.ROOT, path, true);
        long cookie = 0;
        while (true) {
            List<DirListEntry> page = fs.readdir(Caller.ROOT, dir.inode(), cookie, 256);
            if (page.isEmpty()) {
                return;
            }
            for (DirListEntry e : page) {
                cookie = e.cookie();
                Attributes a = e.name().equals("..") ? fs.getattr(e.inode()) : fs.lookup(Caller.ROOT, dir.inode(), e.name());
                out.printf("%s %3d %5d %5d %10d %s %s%s%n", modeString(a.mode()), a.nlink(), a.uid(), a.gid(), a.size(),
                        TIME.format(a.mtime()), e.name(), a.isSymlink() ? " -> " + fs.readlink(a.inode()) : "");
            }
        }
    }

    private void stat(Attributes a) {
        out.printf("inode %d generation %d%nmode %s (0%o) links %d uid %d gid %d%nsize %d blocks %d%natime %s%nmtime %s%nctime %s%nbirth %s%n",
                a.inode(), a.generation(), modeString(a.mode()), a.mode() & 07777, a.nlink(), a.uid(), a.gid(), a.size(), a.blocks(),
                a.atime(), a.mtime(), a.ctime(), a.crtime());
    }

    private static String modeString(int mode) {
        char type = switch (mode & 0170000) {
            case 0040000 -> 'd';
            case 0120000 -> 'l';
            case 0010000 -> 'p';
            case 0140000 -> 's';
            case 0020000 -> 'c';
            case 0060000 -> 'b';
            default -> '-';
        };
        StringBuilder s = new StringBuilder().append(type);
        String rwx = "rwxrwxrwx";
        for (int i = 0; i < 9; i++) {
            s.append((mode & (1 << (8 - i))) != 0 ? rwx.charAt(i) : '-');
        }
        return s.toString();
    }

    private String abs(String path) {
        return path.startsWith("/") ? path : (cwd.endsWith("/") ? cwd : cwd + "/") + path;
    }

    private static String normalize(String path) {
        java.util.ArrayDeque<String> parts = new java.util.ArrayDeque<>();
        for (String p : path.split("/")) {
            if (p.isEmpty() || p.equals(".")) {
                continue;
            }
            if (p.equals("..")) {
                parts.pollLast();
            } else {
                parts.addLast(p);
            }
        }
        return "/" + String.join("/", parts);
    }

    private long parent(String path) {
        String p = normalize(abs(path));
        String dir = p.substring(0, p.lastIndexOf('/'));
        return fs.resolve(Caller.ROOT, dir.isEmpty() ? "/" : dir, true).inode();
    }

    private String name(String path) {
        String p = normalize(abs(path));
        return p.substring(p.lastIndexOf('/') + 1);
    }
}
