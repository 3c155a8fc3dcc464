package io.concord.cli;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * How loud ZooKeeper's and Curator's own logging (through slf4j-jdk14) is in the operator commands:
 * their INFO lines (a banner, every setting, every connection) would bury the one line a command
 * says. Failures still reach the user, as the command's own message.
 */
final class ZooKeeperLogging {
    /** Held: the JDK keeps loggers only weakly, and a collected logger forgets its level. */
    private static final Logger ZOOKEEPER = Logger.getLogger("org.apache.zookeeper");
    private static final Logger CURATOR = Logger.getLogger("org.apache.curator");

    private ZooKeeperLogging() {
    }

    static void atLeast(Level level) {
        ZOOKEEPER.setLevel(level);
        CURATOR.setLevel(level);
    }
}
