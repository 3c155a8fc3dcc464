package io.concord.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.concord.errors.ConcordException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where each cluster setting comes from: a mount option, else concord.conf, else the default. */
class ClusterSettingsTest {
    @TempDir
    Path tmp;

    private Path conf(String text) throws Exception {
        return Files.writeString(tmp.resolve("concord.conf"), text);
    }

    private static ClusterSettings resolve(String options) {
        return ClusterSettings.resolve(MountOptionsParser.parse(options).cluster(), Map.of());
    }

    @Test
    void aZooKeeperEnsembleSurvivesMountsCommaSplitting() {
        assertEquals("h1:2181,h2:2181,h3:2181", MountOptionsParser.parse("zk=h1:2181,h2:2181,h3:2181,ro").cluster().zk());
        assertEquals("h1:2181,h2:2181", MountOptionsParser.parse("zk=h1:2181+h2:2181").cluster().zk());
        assertTrue(MountOptionsParser.parse("zk=h1:2181,h2:2181,ro").readOnly(), "options after the ensemble still count");
        ConcordException e = assertThrows(ConcordException.class, () -> MountOptionsParser.parse("ro,h2:2181"));
        assertTrue(e.getMessage().contains("unknown mount option 'h2:2181'"), e.getMessage());
    }

    @Test
    void journalIsUnsetUnlessGiven() {
        assertEquals(OptionalInt.empty(), MountOptionsParser.parse("ro").journal());
        assertEquals(OptionalInt.of(2), MountOptionsParser.parse("journal=2").journal());
    }

    @Test
    void theFileFillsInWhatTheOptionsLeaveAndAnOptionWins() throws Exception {
        Path c = conf("""
                # cluster settings
                zk = z1:2181,z2:2181
                node = from-file

                listen = 10.0.0.5:7000
                key = /srv/key
                """);
        ClusterSettings s = resolve("conf=" + c + ",node=from-option");
        assertEquals("z1:2181,z2:2181", s.zookeeper());
        assertEquals("from-option", s.node());
        assertEquals(new InetSocketAddress("10.0.0.5", 7000), s.listen());
        assertEquals(Path.of("/srv/key"), s.keyFile());
    }

    @Test
    void theEnvironmentNamesTheFileWhenNoOptionDoes() throws Exception {
        Path c = conf("zk = z:1\n");
        ClusterSettings s = ClusterSettings.resolve(ClusterSettings.Overrides.NONE, Map.of(ClusterSettings.CONF_ENV, c.toString()));
        assertEquals("z:1", s.zookeeper());
        assertEquals(ClusterSettings.hostName(), s.node(), "the node name defaults to the host name");
        assertEquals(new InetSocketAddress("0.0.0.0", 7890), s.listen());
        assertEquals(Path.of(ClusterSettings.DEFAULT_KEY), s.keyFile());
    }

    @Test
    void aBadFileIsRefusedNamingTheLine() throws Exception {
        Path c = conf("zk = z:1\nzk = z:2\n");
        ConcordException twice = assertThrows(ConcordException.class, () -> resolve("conf=" + c));
        assertEquals(c + " line 2: 'zk' is set twice", twice.getMessage());
        Path d = conf("just words\n");
        ConcordException shape = assertThrows(ConcordException.class, () -> resolve("conf=" + d));
        assertEquals(d + " line 1: expected 'key = value', not 'just words'", shape.getMessage());
    }

    @Test
    void aBadListenAddressIsRefused() throws Exception {
        Path c = conf("zk = z:1\n");
        for (String bad : new String[] {"7890", "host:", "h:99999", ":7890"}) {
            ConcordException e = assertThrows(ConcordException.class, () -> resolve("conf=" + c + ",listen=" + bad), bad);
            assertTrue(e.getMessage().startsWith("listen address"), e.getMessage());
        }
        assertEquals(new InetSocketAddress("::1", 5), resolve("conf=" + c + ",listen=[::1]:5").listen());
    }
}
