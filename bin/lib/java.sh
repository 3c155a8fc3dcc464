# Sourced by Concord's scripts: sets CONCORD_JAVA_HOME to a JDK >= 25, or stops with a clear message.
# Order: $JAVA_HOME, then every JDK under /usr/lib/jvm (newest first).

concord_java_major() { # $1 = a JDK home; prints its feature version, or nothing
  local release="$1/release" v
  [ -x "$1/bin/java" ] || return 0
  if [ -r "$release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$release")
  else
    v=$("$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
  fi
  printf '%s' "$v"
}

concord_find_java() {
  local candidate major
  for candidate in ${JAVA_HOME:+"$JAVA_HOME"} $(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV); do
    candidate=${candidate%/}
    major=$(concord_java_major "$candidate")
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then
      CONCORD_JAVA_HOME=$candidate
      return 0
    fi
  done
  echo "concord: no JDK 25 or newer found (looked at \$JAVA_HOME and /usr/lib/jvm/*); install one, e.g. Temurin 25, or set JAVA_HOME" >&2
  return 1
}
