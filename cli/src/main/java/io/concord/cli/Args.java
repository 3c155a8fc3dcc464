package io.concord.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Short-option parsing as the classic tools do it: {@code -j 2}, {@code -j2}, flags bundled
 * ({@code -nf}), {@code --} ends options. Unknown options are an error naming the option.
 */
final class Args {
    final Map<Character, String> values = new HashMap<>();
    final Set<Character> flags = new java.util.HashSet<>();
    final List<String> operands = new ArrayList<>();

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
