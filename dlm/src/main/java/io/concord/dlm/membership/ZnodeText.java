package io.concord.dlm.membership;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The shared rules of the membership znodes' text formats: UTF-8, lines ended by {@code '\n'},
 * fields separated by one space, the first line {@code "<magic> <version>"}. Text rather than
 * binary so an operator can read the state with {@code zkCli.sh get}.
 */
final class ZnodeText {
    private ZnodeText() {}

    static byte[] bytes(StringBuilder text) {
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The lines after the header, once the header has been checked against magic and version. */
    static List<String> body(byte[] data, String magic, int version, String what) {
        if (data == null) {
            throw new MembershipException(what + ": no data");
        }
        List<String> lines = new String(data, StandardCharsets.UTF_8).lines().toList();
        String header = magic + " " + version;
        if (lines.isEmpty() || !lines.getFirst().equals(header)) {
            throw new MembershipException(what + ": expected header '" + header + "', found '"
                    + (lines.isEmpty() ? "" : lines.getFirst()) + "'");
        }
        return lines.subList(1, lines.size());
    }

    static String[] fields(String line, int count, String what) {
        String[] fields = line.split(" ", -1);
        if (fields.length != count) {
            throw new MembershipException(what + ": expected " + count + " fields in '" + line + "'");
        }
        return fields;
    }

    static long number(String text, String what) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new MembershipException(what + ": not a number: '" + text + "'", e);
        }
    }

    /** {@code host:port}, host as given (an IPv6 literal keeps its colons, the port follows the last). */
    static String address(InetSocketAddress address) {
        return address.getHostString() + ":" + address.getPort();
    }

    /**
     * The inverse of {@link #address(InetSocketAddress)}. IP literals come back resolved and host
     * names unresolved: decoding must never wait on DNS, and the transport resolves when it connects.
     */
    static InetSocketAddress address(String text, String what) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new MembershipException(what + ": not host:port: '" + text + "'");
        }
        String host = text.substring(0, colon);
        long port = number(text.substring(colon + 1), what);
        if (port < 0 || port > 0xFFFF) {
            throw new MembershipException(what + ": port out of range: '" + text + "'");
        }
        try {
            return new InetSocketAddress(InetAddress.ofLiteral(host), (int) port);
        } catch (IllegalArgumentException notALiteral) {
            return InetSocketAddress.createUnresolved(host, (int) port);
        }
    }
}
