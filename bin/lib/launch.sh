# Sourced by the launchers: runs a Concord entry point on a JDK >= 25 from the built classpath.
concord_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$concord_root/bin/lib/java.sh"

concord_launch() { # $1 = tool name for messages, $2 = main class, rest = arguments
  local tool=$1 main=$2; shift 2
  concord_find_java || exit 8
  local lib="$concord_root/cli/target/lib" jar
  jar=$(ls "$concord_root"/cli/target/concord-cli-*.jar 2>/dev/null | head -n 1)
  if [ -z "$jar" ] || [ ! -d "$lib" ]; then
    echo "$tool: Concord is not built yet: run $concord_root/bin/build first" >&2
    exit 8
  fi
  exec "$CONCORD_JAVA_HOME/bin/java" ${CONCORD_JAVA_OPTS:-} --enable-native-access=ALL-UNNAMED \
    -Djava.util.logging.SimpleFormatter.format='%4$s: %5$s%6$s%n' \
    -cp "$jar:$lib/*" "$main" "$@"
}
