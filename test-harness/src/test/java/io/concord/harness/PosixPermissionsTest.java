package io.concord.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Permission checks as seen by non-root processes (started through {@code setpriv}): owner, group
 * (primary or supplementary) and other bits, directory search and write, the sticky bit, setgid
 * directories, the ownership of what a non-root caller creates, and set-user-ID cleared by a write.
 */
@Timeout(90)
class PosixPermissionsTest {
    private static final PosixProcess.Identity ALICE = new PosixProcess.Identity(1000, 1000);
    private static final PosixProcess.Identity BOB = new PosixProcess.Identity(1001, 1001);
    private static final PosixProcess.Identity BOB_IN_STAFF = new PosixProcess.Identity(1001, 1001, 2000);
    private static final PosixProcess.Identity BOB_PRIMARY_STAFF = new PosixProcess.Identity(1001, 2000);
    private static final PosixProcess.Identity CAROL = new PosixProcess.Identity(1002, 1002);

    @TempDir
    Path tmp;

    @BeforeEach
    void letOtherUsersReachTheMount() throws Exception {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private static void assertDenied(PosixProcess.Outcome o, String message, String what) {
        assertTrue(o.exit() != 0, what + " should have failed: " + o);
        assertTrue(o.err().contains(message), what + ": expected '" + message + "': " + o);
    }

    private static void assertSucceeded(PosixProcess.Outcome o, String what) {
        assertEquals(0, o.exit(), what + ": " + o);
    }

    private static MountedFs openMount(Path tmp) throws Exception {
        MountedFs m = MountedFs.create(tmp);
        try {
            PosixSyscalls.chmod(m.dir(), 0777).expectOk("chmod 777 the root");
            return m;
        } catch (RuntimeException | Error e) {
            m.close();
            throw e;
        }
    }

    @Test
    void whatANonRootCallerCreatesIsOwnedByItsUidAndPrimaryGid() throws Exception {
        try (MountedFs m = openMount(tmp)) {
            PosixProcess.Outcome o = PosixProcess.sh(new PosixProcess.Identity(1000, 1500, 5000), m.dir(),
                    "umask 022 && echo x > file && mkdir dir && mkfifo fifo && ln -s file link && ln file hard"
                            + " && stat -c '%n %u %g %a' file dir fifo hard && stat -c '%n %u %g' link");
            assertSucceeded(o, "create as uid 1000");
            assertEquals("""
                    file 1000 1500 644
                    dir 1000 1500 755
                    fifo 1000 1500 644
                    hard 1000 1500 644
                    link 1000 1500
                    """, o.out(), "new inodes take the caller's uid and primary gid, not a supplementary group's, nor root's");
            assertEquals(1000, PosixSyscalls.lstat(m.dir().resolve("link")).uid(), "the symlink itself is the caller's");
            assertEquals(1500, m.filesystem().lookup(io.concord.fs.Caller.ROOT, m.filesystem().root(), "dir").gid(),
                    "as stored, not only as the kernel shows it");
        }
    }

    @Test
    void ownerGroupAndOtherBitsApplyByClassAndASupplementaryGroupCounts() throws Exception {
        try (MountedFs m = openMount(tmp)) {
            Path f = Files.writeString(m.dir().resolve("f"), "secret\n");
            PosixSyscalls.chown(f, 1000, 2000).expectOk("chown");
            PosixSyscalls.chmod(f, 0640).expectOk("chmod 640");

            assertEquals("secret\n", PosixProcess.sh(ALICE, m.dir(), "cat f").out(), "the owner reads");
            assertSucceeded(PosixProcess.sh(ALICE, m.dir(), "echo more >> f"), "the owner writes");
            PosixProcess.Outcome member = PosixProcess.sh(BOB_IN_STAFF, m.dir(), "cat f");
            assertEquals("secret\nmore\n", member.out(), "a supplementary member of the group reads: " + member);
            assertDenied(PosixProcess.sh(BOB_IN_STAFF, m.dir(), "echo x >> f"), "Permission denied", "the group may not write");
            assertEquals("secret\nmore\n", PosixProcess.sh(BOB_PRIMARY_STAFF, m.dir(), "cat f").out(), "the primary group reads");
            assertDenied(PosixProcess.sh(BOB, m.dir(), "cat f"), "Permission denied", "others may not read");
            assertDenied(PosixProcess.sh(BOB, m.dir(), "echo x >> f"), "Permission denied", "others may not write");

            // Only the first matching class counts: an owner without bits is refused though others have them.
            PosixSyscalls.chmod(f, 0077).expectOk("chmod 077");
            assertDenied(PosixProcess.sh(ALICE, m.dir(), "cat f"), "Permission denied", "the owner class has no bits");
            assertSucceeded(PosixProcess.sh(BOB, m.dir(), "cat f"), "another user reads by the other bits");
            PosixSyscalls.chmod(f, 0604).expectOk("chmod 604");
            assertDenied(PosixProcess.sh(BOB_IN_STAFF, m.dir(), "cat f"), "Permission denied", "the group class has no bits");
            assertSucceeded(PosixProcess.sh(BOB, m.dir(), "cat f"), "a non-member reads by the other bits");
            assertEquals("secret\nmore\n", Files.readString(f), "root reads whatever the bits");

            // Execute needs the x bit of the caller's class.
            Path script = Files.writeString(m.dir().resolve("script"), "#!/bin/sh\necho executed\n");
            PosixSyscalls.chown(script, 1000, 2000).expectOk("chown");
            PosixSyscalls.chmod(script, 0754).expectOk("chmod 754");
            assertEquals("executed\n", PosixProcess.sh(BOB_IN_STAFF, m.dir(), "./script").out(), "group executes");
        }
    }

    @Test
    void executingAFileNeedsTheExecuteBitOfTheCallersOwnClass() throws Exception {
        try (MountedFs m = openMount(tmp)) {
            Path script = Files.writeString(m.dir().resolve("script"), "#!/bin/sh\necho executed\n");
            PosixSyscalls.chown(script, 1000, 2000).expectOk("chown");
            PosixSyscalls.chmod(script, 0754).expectOk("chmod 754: others may read but not execute");
            assertEquals("executed\n", PosixProcess.sh(ALICE, m.dir(), "./script").out(), "the owner executes");
            assertDenied(PosixProcess.sh(BOB, m.dir(), "./script"), "Permission denied", "others may not execute");
            assertDenied(PosixProcess.sh(BOB, m.dir(), "sh ./script && exec ./script"), "Permission denied",
                    "others may run it only through an interpreter that reads it");
            PosixSyscalls.chmod(script, 0645).expectOk("chmod 645: others may execute, the group may not");
            assertDenied(PosixProcess.sh(BOB_IN_STAFF, m.dir(), "./script"), "Permission denied", "the group class has no x bit");
        }
    }

    @Test
    void directoryBitsGovernListingSearchingAndChangingEntries() throws Exception {
        try (MountedFs m = openMount(tmp)) {
            Path d = Files.createDirectory(m.dir().resolve("d"));
            Files.writeString(d.resolve("known"), "known\n");
            PosixSyscalls.chmod(d.resolve("known"), 0644).expectOk("chmod");

            PosixSyscalls.chmod(d, 0711).expectOk("chmod 711");
            assertDenied(PosixProcess.sh(ALICE, m.dir(), "ls d"), "Permission denied", "listing without r");
            assertEquals("known\n", PosixProcess.sh(ALICE, m.dir(), "cat d/known").out(), "search (x) alone reaches a known name");

            PosixSyscalls.chmod(d, 0744).expectOk("chmod 744");
            assertDenied(PosixProcess.sh(ALICE, m.dir(), "bash -c 'cd d'"), "Permission denied", "chdir without x");

            PosixSyscalls.chmod(d, 0755).expectOk("chmod 755");
            assertDenied(PosixProcess.sh(ALICE, m.dir(), "touch d/new"), "Permission denied", "create without w");
            assertDenied(PosixProcess.sh(ALICE, m.dir(), "mkdir d/sub"), "Permission denied", "mkdir without w");
            assertDenied(PosixProcess.sh(ALICE, m.dir(), "rm -f d/known"), "Permission denied", "unlink without w");
            assertDenied(PosixProcess.sh(ALICE, m.dir(), "mv d/known d/renamed"), "Permission denied", "rename without w");
            // Linking someone else's file alice cannot write is refused before the directory is even
            // looked at when fs.protected_hardlinks is on (as on ext4); so probe the directory's
            // write bit with a file alice owns.
            Files.writeString(d.resolve("alices"), "a\n");
            PosixSyscalls.chown(d.resolve("alices"), 1000, 1000).expectOk("give alices to alice");
            assertDenied(PosixProcess.sh(ALICE, m.dir(), "ln d/alices d/link"), "Permission denied", "link without w");
            if (Files.readString(Path.of("/proc/sys/fs/protected_hardlinks")).trim().equals("1")) {
                assertDenied(PosixProcess.sh(ALICE, m.dir(), "ln d/known link-elsewhere"), "Operation not permitted",
                        "protected_hardlinks: no link to a file one may not write");
            }
            assertDenied(PosixProcess.sh(ALICE, m.dir(), "mv d/known mine"), "Permission denied", "moving out without w on the source");
            assertTrue(Files.exists(d.resolve("known")));

            PosixSyscalls.chown(d, 1000, 1000).expectOk("give d to alice");
            assertSucceeded(PosixProcess.sh(ALICE, m.dir(), "touch d/new && mkdir d/sub && mv d/known d/renamed && rm d/new"),
                    "the owner of a 755 directory changes its entries");
            assertDenied(PosixProcess.sh(BOB, m.dir(), "rm -f d/renamed"), "Permission denied", "another user may not");
            assertDenied(PosixProcess.sh(BOB, m.dir(), "rmdir d/sub"), "Permission denied", "nor rmdir");
        }
    }

    @Test
    void withoutSearchPermissionOnADirectoryNoNameInItCanBeReached() throws Exception {
        try (MountedFs m = openMount(tmp)) {
            Path d = Files.createDirectory(m.dir().resolve("d"));
            Files.writeString(d.resolve("known"), "known\n");
            PosixSyscalls.chmod(d.resolve("known"), 0644).expectOk("chmod");
            PosixSyscalls.chmod(d, 0744).expectOk("chmod 744: others may list but not search");
            assertDenied(PosixProcess.sh(ALICE, m.dir(), "cat d/known"), "Permission denied", "open below a directory without x");
            assertDenied(PosixProcess.sh(ALICE, m.dir(), "stat d/known"), "Permission denied", "stat below a directory without x");
            assertDenied(PosixProcess.sh(ALICE, m.dir(), "echo x > d/new"), "Permission denied", "create below a directory without x");
            assertFalse(Files.exists(d.resolve("new")));
        }
    }

    @Test
    void whenTheKernelAsksOnEveryLookupTheDaemonRefusesASearchWithoutExecutePermission() throws Exception {
        // With entry_timeout=0 every path walk reaches the daemon's LOOKUP, which makes the check itself.
        Files.createDirectories(tmp);
        try (MountedFs m = MountedFs.create(tmp, 1L << 30, "entry_timeout=0,attr_timeout=0")) {
            PosixSyscalls.chmod(m.dir(), 0777).expectOk("chmod 777 the root");
            Path d = Files.createDirectory(m.dir().resolve("d"));
            Files.writeString(d.resolve("known"), "known\n");
            PosixSyscalls.chmod(d.resolve("known"), 0644).expectOk("chmod");
            PosixSyscalls.chmod(d, 0744).expectOk("chmod 744");
            assertDenied(PosixProcess.sh(ALICE, m.dir(), "cat d/known"), "Permission denied", "open below a directory without x");
            PosixSyscalls.chmod(d, 0711).expectOk("chmod 711");
            assertEquals("known\n", PosixProcess.sh(ALICE, m.dir(), "cat d/known").out(), "x alone is enough");
        }
    }

    @Test
    void inAStickyDirectoryOnlyTheEntrysOwnerTheDirectorysOwnerOrRootRemoveOrRename() throws Exception {
        try (MountedFs m = openMount(tmp)) {
            Path shared = Files.createDirectory(m.dir().resolve("shared"));
            PosixSyscalls.chown(shared, 1002, 1002).expectOk("carol owns the directory");
            PosixSyscalls.chmod(shared, 01777).expectOk("chmod 1777");
            assertSucceeded(PosixProcess.sh(ALICE, shared, "echo alice > a && mkdir adir"), "alice creates");
            assertSucceeded(PosixProcess.sh(BOB, shared, "echo bob > b"), "bob creates");

            assertDenied(PosixProcess.sh(BOB, shared, "rm -f a"), "Operation not permitted", "bob removes alice's file");
            assertDenied(PosixProcess.sh(BOB, shared, "rmdir adir"), "Operation not permitted", "bob removes alice's directory");
            assertDenied(PosixProcess.sh(BOB, shared, "mv a stolen"), "Operation not permitted", "bob renames alice's file");
            assertDenied(PosixProcess.sh(BOB, shared, "mv -f b a"), "Operation not permitted", "bob renames over alice's file");
            assertEquals("alice\n", Files.readString(shared.resolve("a")));
            assertEquals("bob\n", Files.readString(shared.resolve("b")), "the refused rename left bob's file");

            assertSucceeded(PosixProcess.sh(BOB, shared, "mv b b2 && rm b2"), "bob renames and removes his own");
            assertSucceeded(PosixProcess.sh(ALICE, shared, "mv a a2"), "alice renames her own");
            assertSucceeded(PosixProcess.sh(CAROL, shared, "rm a2 && rmdir adir"), "the directory's owner removes anything");
            assertSucceeded(PosixProcess.sh(BOB, shared, "echo again > b"), "bob creates again");
            PosixSyscalls.unlink(shared.resolve("b")).expectOk("root removes anything");
            try (var s = Files.list(shared)) {
                assertEquals(0, s.count());
            }
        }
    }

    @Test
    void aSetgidDirectoryGivesItsGroupToNewEntriesAndItsSetgidBitToNewSubdirectories() throws Exception {
        try (MountedFs m = openMount(tmp)) {
            Path proj = Files.createDirectory(m.dir().resolve("proj"));
            PosixSyscalls.chown(proj, 0, 3000).expectOk("chgrp 3000");
            PosixSyscalls.chmod(proj, 02777).expectOk("chmod 2777");
            PosixProcess.Outcome o = PosixProcess.sh(ALICE, proj, "umask 022 && echo x > f && mkdir sub && echo y > sub/g && mkdir sub/deeper"
                    + " && stat -c '%n %u %g %a' f sub sub/g sub/deeper");
            assertSucceeded(o, "alice (not in group 3000) creates in a setgid directory");
            assertEquals("""
                    f 1000 3000 644
                    sub 1000 3000 2755
                    sub/g 1000 3000 644
                    sub/deeper 1000 3000 2755
                    """, o.out(), "files inherit the group; directories inherit the group and the setgid bit, all the way down");

            // A non-member owner who sets setgid on a file of that group has the bit cleared, as Linux does.
            PosixProcess.Outcome chmod = PosixProcess.sh(ALICE, proj, "chmod 2755 f && stat -c %a f");
            assertSucceeded(chmod, "chmod g+s");
            assertEquals("755\n", chmod.out(), "setgid on a file of a group the caller is not in is dropped");
            PosixProcess.Outcome member = PosixProcess.sh(new PosixProcess.Identity(1001, 1001, 3000), proj,
                    "echo z > h && chmod 2755 h && stat -c '%g %a' h");
            assertEquals("3000 2755\n", member.out(), "a member keeps it: " + member);
        }
    }

    @Test
    void droppingASupplementaryGroupTakesEffectAtTheNextOpen() throws Exception {
        try (MountedFs m = openMount(tmp)) {
            Path f = Files.writeString(m.dir().resolve("staff-only"), "for staff\n");
            PosixSyscalls.chown(f, 0, 2000).expectOk("chgrp staff");
            PosixSyscalls.chmod(f, 0640).expectOk("chmod 640");
            // Bob starts in group 2000 and keeps CAP_SETGID so that he can leave it, as a daemon dropping privileges does.
            try (PosixProcess bob = PosixProcess.syscallsWithCapability(BOB_IN_STAFF, "setgid")) {
                long fd = bob.callOk("open", f, 0, "0");
                bob.callOk("close", fd);
                assertEquals("ok 0", bob.call("setgroups", ""), "bob leaves every supplementary group");
                assertEquals("err 13 EACCES", bob.call("open", f, 0, "0"), "without group 2000 bob may not read the file any more");
                assertEquals("ok 0", bob.call("setgroups", "2000"), "and joins it again");
                String again = bob.call("open", f, 0, "0");
                assertTrue(again.startsWith("ok"), "with group 2000 back he may: " + again);
            }
        }
    }

    @Test
    void settingTimesToNowNeedsWritePermissionAndExplicitTimesNeedOwnership() throws Exception {
        try (MountedFs m = openMount(tmp)) {
            Path f = Files.writeString(m.dir().resolve("f"), "x");
            PosixSyscalls.chown(f, 1000, 1000).expectOk("chown alice");
            PosixSyscalls.chmod(f, 0666).expectOk("chmod 666");
            assertSucceeded(PosixProcess.sh(BOB, m.dir(), "touch f"), "touch (UTIME_NOW) by a non-owner who may write");
            assertDenied(PosixProcess.sh(BOB, m.dir(), "touch -d '2000-01-01 00:00:00' f"), "Operation not permitted",
                    "explicit times by a non-owner");
            assertSucceeded(PosixProcess.sh(ALICE, m.dir(), "touch -d '2000-01-01 00:00:00 UTC' f"), "explicit times by the owner");
            assertEquals(946684800L, Files.getLastModifiedTime(f).toInstant().getEpochSecond());
            PosixSyscalls.chmod(f, 0644).expectOk("chmod 644");
            assertDenied(PosixProcess.sh(BOB, m.dir(), "touch f"), "Permission denied", "touch by a non-owner who may not write");
            assertDenied(PosixProcess.sh(BOB, m.dir(), "truncate -s 0 f"), "Permission denied", "truncate without write permission");
            assertDenied(PosixProcess.sh(BOB, m.dir(), ": > f"), "Permission denied", "O_TRUNC without write permission");
            assertEquals("x", Files.readString(f), "nothing was truncated");
        }
    }

    @Test
    void aWriteOrTruncateByANonRootCallerClearsSetuid() throws Exception {
        try (MountedFs m = openMount(tmp)) {
            Path f = Files.writeString(m.dir().resolve("prog"), "binary");
            PosixSyscalls.chown(f, 1000, 1000).expectOk("chown");
            PosixSyscalls.chmod(f, 04755).expectOk("chmod 4755");
            assertSucceeded(PosixProcess.sh(ALICE, m.dir(), "echo patched >> prog"), "alice appends");
            assertEquals(0755, PosixSyscalls.stat(f).permissions(), "the write cleared set-user-ID");
            PosixSyscalls.chmod(f, 06775).expectOk("chmod 6775");
            assertSucceeded(PosixProcess.sh(ALICE, m.dir(), "truncate -s 3 prog"), "alice truncates");
            assertEquals(0775, PosixSyscalls.stat(f).permissions(), "truncate cleared set-user-ID and (group-executable) set-group-ID");
            PosixSyscalls.chmod(f, 04755).expectOk("chmod 4755");
            Files.writeString(f, "root writes", java.nio.file.StandardOpenOption.APPEND);
            assertEquals(04755, PosixSyscalls.stat(f).permissions(), "a write by root (CAP_FSETID) keeps it");
            assertFalse(Files.readString(f).isEmpty());
        }
    }

    /** The open that creates a file is not checked against the new file's mode (git writes loose objects this way). */
    @Test
    void createWithAModeThatForbidsTheRequestedAccessStillOpensTheNewFile() throws Exception {
        try (MountedFs m = openMount(tmp); PosixProcess alice = PosixProcess.syscalls(ALICE)) {
            PosixSyscalls.chmod(m.dir(), 0777).expectOk("chmod 777 the root");
            Path f = m.dir().resolve("readonly-object");
            long fd = alice.callOk("open", f, PosixSyscalls.O_CREAT | PosixSyscalls.O_EXCL | PosixSyscalls.O_RDWR, "444");
            assertTrue(fd >= 0, "open(O_CREAT|O_EXCL|O_RDWR, 0444) by its creator succeeds");
            assertEquals(0100444, PosixSyscalls.stat(f).mode() & 0177777, "and the file has the mode asked for");
        }
    }
}
