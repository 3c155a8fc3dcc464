package io.concord.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Short-option parsing as the classic tools do it: {@code -j 2}, {@code -j2}, flags bundled
 * ({@code -nf}), {@code --} ends options. Unknown options are an error naming the option.
 * The operator subcommands that take settings rather than flags use long options instead
 * ({@link #parseLong}): {@code --port 2181} or {@code --port=2181}.
 */
final class Args {
    final Map<Character, String> values = new HashMap<>();
    final Set<Character> flags = new java.util.HashSet<>();
    final List<String> operands = new ArrayList<>();
    final Map<String, String> named = new HashMap<>();

    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }

    static Args parse(String[] argv, String withValue, String flagChars) {
        Args a = new Args();
        boolean options = true;
        for (int i = 0; i < argv.length; i++) {
            String arg = argv[i];
            if (options && arg.equals("--")) {
                options = false;
            } else if (options && arg.startsWith("-") && arg.length() > 1) {
                for (int k = 1; k < arg.length(); k++) {
                    char c = arg.charAt(k);
                    if (withValue.indexOf(c) >= 0) {
                        String v = k + 1 < arg.length() ? arg.substring(k + 1) : (++i < argv.length ? argv[i] : null);
                        if (v == null) {
                            throw new UsageException("option -" + c + " needs a value");
                        }
                        a.values.put(c, v);
                        break;
                    } else if (flagChars.indexOf(c) >= 0) {
                        a.flags.add(c);
                    } else {
                        throw new UsageException("unknown option -" + c);
                    }
                }
            } else {
                a.operands.add(arg);
            }
        }
        return a;
    }

    /** Long options that each take a value ({@code --name VALUE} or {@code --name=VALUE}), and operands. */
    static Args parseLong(String[] argv, Set<String> names) {
        Args a = new Args();
        for (int i = 0; i < argv.length; i++) {
            String arg = argv[i];
            if (!arg.startsWith("--")) {
                a.operands.add(arg);
                continue;
            }
            int eq = arg.indexOf('=');
            String name = arg.substring(2, eq < 0 ? arg.length() : eq);
            if (!names.contains(name)) {
                throw new UsageException("unknown option --" + name);
            }
            String v = eq >= 0 ? arg.substring(eq + 1) : (++i < argv.length ? argv[i] : null);
            if (v == null || v.isEmpty()) {
                throw new UsageException("option --" + name + " needs a value");
            }
            a.named.put(name, v);
        }
        return a;
    }

    /** The value of long option {@code --name}, which must have been given. */
    String required(String name) {
        String v = named.get(name);
        if (v == null) {
            throw new UsageException("--" + name + " is required");
        }
        return v;
    }

    int intValue(char option, int fallback) {
        String v = values.get(option);
        if (v == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new UsageException("-" + option + " takes a number, not '" + v + "'");
        }
    }
}
