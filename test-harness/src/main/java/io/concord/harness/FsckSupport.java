package io.concord.harness;

import io.concord.device.FileBlockDevice;
import io.concord.fsck.Fsck;
import io.concord.fsck.FsckReport;
import java.nio.file.Path;

/** The check every crash and cluster test ends with: the image must be clean by fsck -n. */
public final class FsckSupport {
    private FsckSupport() {
    }

    public static FsckReport check(Path image) {
        try (FileBlockDevice dev = FileBlockDevice.open(image, true, false)) {
            return Fsck.check(dev, null);
        }
    }

    public static void assertClean(Path image) {
        FsckReport r = check(image);
        if (!r.isClean()) {
            StringBuilder why = new StringBuilder("fsck -n " + image + ": " + r.summary());
            if (r.operationalError() != null) {
                why.append("\n  ").append(r.operationalError());
            }
            r.problems().stream().limit(20).forEach(p -> why.append("\n  ").append(p.message()));
            throw new AssertionError(why.toString());
        }
    }
}
