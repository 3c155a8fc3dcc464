# Sourced by bin/concord: `up`, `status` and `down` of a Concord cluster on this one machine.
#
# Everything lives under one directory (--dir, default run/ in the checkout):
#   zookeeper/        ZooKeeper's data; zookeeper.pid, zookeeper.port, zookeeper.log
#   cluster.key       the key the nodes' lock managers authenticate each other with
#   concord.conf      empty, so that /etc/concord/concord.conf does not reach these nodes
#   concord.img       the shared "disk": a sparse image file (CONCORD_IMAGE, CONCORD_IMAGE_SIZE)
#   nodeN/            node N's mount; nodeN.pid its daemon, nodeN.log its log
# Each node is one mount.concord daemon with its own ZooKeeper session, journal slot and DLM port
# on loopback, as separate machines would be. Processes are only ever stopped by the pid this
# script recorded, after checking that the pid still runs what it recorded.

lc_table=local:concord
lc_zk_main=io.concord.cli.ConcordCommand
lc_mount_main=io.concord.cli.MountCommand

lc_die() { echo "concord: $*" >&2; exit 1; }
lc_say() { echo "concord: $*"; }

lc_usage() {
  cat >&2 <<EOF
usage: bin/concord up [--nodes N] [--dir DIR]    start ZooKeeper and N nodes (3) mounting DIR/concord.img at DIR/node1..N
       bin/concord status [--dir DIR]           the nodes, and the members, journal slots and epoch in ZooKeeper
       bin/concord down [--dir DIR]             unmount every node, wait for the daemons, stop ZooKeeper
EOF
}

lc_parse() { # sets lc_cmd, lc_nodes, lc_dir
  lc_cmd=$1; shift
  lc_nodes=3
  lc_dir=$root/run
  while [ $# -gt 0 ]; do
    case "$1" in
      --nodes) [ $# -ge 2 ] || lc_die "--nodes needs a number"; lc_nodes=$2; shift 2 ;;
      --nodes=*) lc_nodes=${1#--nodes=}; shift ;;
      --dir) [ $# -ge 2 ] || lc_die "--dir needs a directory"; lc_dir=$2; shift 2 ;;
      --dir=*) lc_dir=${1#--dir=}; shift ;;
      -h|--help) lc_usage; exit 0 ;;
      *) echo "concord: unknown argument '$1'" >&2; lc_usage; exit 1 ;;
    esac
  done
  [[ $lc_nodes =~ ^[0-9]+$ ]] && [ "$lc_nodes" -ge 1 ] && [ "$lc_nodes" -le 64 ] || lc_die "--nodes takes a number from 1 to 64, not '$lc_nodes'"
  [ "$lc_cmd" = up ] || [ "$lc_nodes" = 3 ] || lc_die "--nodes goes with up only"
  mkdir -p "$lc_dir" 2>/dev/null || lc_die "cannot make the directory $lc_dir"
  lc_dir=$(cd "$lc_dir" && pwd -P)
  lc_image=${CONCORD_IMAGE:-$lc_dir/concord.img}
  lc_key=$lc_dir/cluster.key
}

# ---- processes, by recorded pid only ----

lc_cmdline_has() { # $1 = pid, rest = words that must all be arguments of it
  local pid=$1 word args; shift
  args=$(tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline") || return 1
  for word in "$@"; do grep -qxF -- "$word" <<<"$args" || return 1; done
}

lc_zk_pid() { # the live ZooKeeper this directory's pid file names, or nothing (a stale file is removed, said once)
  local f=$lc_dir/zookeeper.pid pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if [[ $pid =~ ^[0-9]+$ ]] && lc_cmdline_has "$pid" "$lc_zk_main" zookeeper "$lc_dir/zookeeper"; then
    echo "$pid"
  else
    rm -f "$f" "$lc_dir/zookeeper.port"
    echo "concord: removed the stale pid file $f (pid ${pid:-?} is not a ZooKeeper of $lc_dir)" >&2
  fi
}

lc_daemon_pid() { # $1 = mount dir: the live daemon serving it (found by its arguments), or nothing
  local p
  for p in /proc/[0-9]*; do
    if lc_cmdline_has "${p#/proc/}" "$lc_mount_main" --daemon "$1"; then echo "${p#/proc/}"; return 0; fi
  done
}

lc_wait_gone() { # $1 = pid, $2 = seconds; true once it has exited
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    [ -d "/proc/$1" ] || return 0
    sleep 0.1
  done
  [ ! -d "/proc/$1" ]
}

lc_mounted() { grep -qs " $1 fuse.concord " /proc/mounts; }
lc_answers() { timeout 10 ls "$1" >/dev/null 2>&1; }

lc_node_dirs() { # the node directories that exist under DIR, in order (-r: the last first)
  local d
  for d in "$lc_dir"/node[0-9]*; do [ -d "$d" ] && echo "$d"; done | sort -V ${1:-}
}

# ---- up ----

lc_start_zookeeper() { # sets lc_zk_port
  local pid port_file=$lc_dir/zookeeper.port i
  pid=$(lc_zk_pid)
  if [ -n "$pid" ] && [ -s "$port_file" ]; then
    lc_zk_port=$(cat "$port_file")
    return 0
  fi
  local node
  for node in $(lc_node_dirs); do
    if lc_mounted "$node"; then lc_die "$node is mounted but ZooKeeper is not running: run bin/concord down first"; fi
  done
  # A fresh ensemble for a cluster starting from nothing running: membership, epochs and slot claims
  # of earlier runs describe incarnations that are all gone. (A node killed with its journal dirty
  # gets it replayed when its slot is next mounted.)
  rm -rf "$lc_dir/zookeeper" "$port_file"
  setsid "$bin/concord" zookeeper --port "${CONCORD_ZK_PORT:-0}" --dir "$lc_dir/zookeeper" --port-file "$port_file" \
    >>"$lc_dir/zookeeper.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$lc_dir/zookeeper.pid"
  for ((i = 0; i < 300; i++)); do
    if [ -s "$port_file" ]; then lc_zk_port=$(cat "$port_file"); return 0; fi
    if [ ! -d "/proc/$pid" ]; then
      rm -f "$lc_dir/zookeeper.pid"
      lc_die "ZooKeeper did not start: $(grep '^concord:' "$lc_dir/zookeeper.log" | tail -n 1 | sed 's/^concord: //')"
    fi
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  rm -f "$lc_dir/zookeeper.pid"
  lc_die "ZooKeeper did not serve within 30 s (log: $lc_dir/zookeeper.log)"
}

lc_make_image() {
  if [ ! -e "$lc_image" ]; then
    truncate -s "${CONCORD_IMAGE_SIZE:-4G}" "$lc_image"
    "$bin/mkfs.concord" -q -p dlm -t "$lc_table" -j "$lc_nodes" "$lc_image" || { rm -f "$lc_image"; lc_die "mkfs.concord failed on $lc_image"; }
    lc_say "made $lc_image ($lc_nodes journals, lock table $lc_table, sparse ${CONCORD_IMAGE_SIZE:-4G})"
    return 0
  fi
  local info journals
  info=$("$bin/concord" info "$lc_image") || lc_die "$lc_image is not a usable Concord filesystem (see: bin/concord info $lc_image)"
  grep -q '^lock protocol dlm' <<<"$info" || lc_die "$lc_image was made for one node (lock protocol nolock): move it away (its files go with it) or use another --dir"
  lc_table=$(sed -n 's/^lock table *//p' <<<"$info")
  journals=$(sed -n 's/^journals *\([0-9]*\).*/\1/p' <<<"$info")
  [ "$journals" -ge "$lc_nodes" ] || lc_die "$lc_image has $journals journals, fewer than $lc_nodes nodes: use --nodes $journals or another --dir"
}

lc_mount_node() { # $1 = node number
  local name=node$1 at=$lc_dir/node$1 pid
  if lc_mounted "$at" && lc_answers "$at"; then
    pid=$(lc_daemon_pid "$at")
    [ -n "$pid" ] && echo "$pid" >"$lc_dir/$name.pid"
    return 0
  fi
  mkdir -p "$at" 2>/dev/null || true # a dead daemon's mount stays listed; mount.concord clears it
  "$bin/mount.concord" "$lc_image" "$at" \
    -o "zk=127.0.0.1:$lc_zk_port,node=$name,listen=127.0.0.1:0,key=$lc_key,conf=$lc_dir/concord.conf,log=$lc_dir/$name.log${CONCORD_MOUNT_OPTIONS:+,$CONCORD_MOUNT_OPTIONS}" \
    || lc_die "$name did not mount (log: $lc_dir/$name.log); bin/concord down stops the rest"
  lc_answers "$at" || lc_die "$name reported its mount ready but $at does not answer (log: $lc_dir/$name.log)"
  pid=$(lc_daemon_pid "$at")
  echo "$pid" >"$lc_dir/$name.pid"
}

lc_up() {
  if ! ls "$root"/cli/target/concord-cli-*.jar >/dev/null 2>&1; then
    echo "concord: building (first run)..." >&2
    "$bin/build"
  fi
  local i up=0
  for ((i = 1; i <= lc_nodes; i++)); do lc_mounted "$lc_dir/node$i" && lc_answers "$lc_dir/node$i" && up=$((up + 1)); done
  if [ "$up" = "$lc_nodes" ] && [ -n "$(lc_zk_pid)" ]; then
    lc_say "already up: $lc_nodes nodes at $lc_dir/node1..node$lc_nodes (bin/concord status shows them)"
    return 0
  fi
  [ -e "$lc_key" ] || "$bin/concord" keygen "$lc_key" >/dev/null
  # The nodes take every setting from their options; nothing from this machine's /etc/concord.
  [ -e "$lc_dir/concord.conf" ] || echo "# empty: bin/concord up gives each node its settings as mount options" >"$lc_dir/concord.conf"
  lc_make_image
  lc_start_zookeeper
  for ((i = 1; i <= lc_nodes; i++)); do lc_mount_node "$i"; done
  lc_say "up: $lc_nodes nodes of $lc_table on $lc_image, mounted at $lc_dir/node1..node$lc_nodes; ZooKeeper on 127.0.0.1:$lc_zk_port; logs in $lc_dir"
  lc_say "see it with: bin/concord status; stop it with: bin/concord down"
}

# ---- status ----

lc_status() {
  local zk node pid state any=0
  zk=$(lc_zk_pid)
  # DIR/mnt: where bin/concord up mounted its one nolock node before the cluster.
  for node in $(lc_node_dirs) ${CONCORD_MOUNT:-$lc_dir/mnt}; do
    [ -d "$node" ] || continue
    pid=$(lc_daemon_pid "$node")
    if lc_mounted "$node"; then
      if [ -z "$pid" ]; then state="mount left by a dead daemon (bin/concord down clears it)"
      elif lc_answers "$node"; then state="mounted, daemon pid $pid"
      else state="mounted but not answering, daemon pid $pid"; fi
    else
      state=${pid:+"not mounted, yet daemon pid $pid runs"}
      state=${state:-not mounted}
    fi
    printf '%-28s %s\n' "$node" "$state"
    any=1
  done
  if [ -z "$zk" ]; then
    [ "$any" = 1 ] || lc_say "nothing is up under $lc_dir (start it with: bin/concord up)"
    echo "ZooKeeper: not running"
    return 0
  fi
  local port
  port=$(cat "$lc_dir/zookeeper.port" 2>/dev/null) || lc_die "ZooKeeper (pid $zk) runs but has written no port file yet"
  echo "ZooKeeper: 127.0.0.1:$port, pid $zk"
  if [ -e "$lc_image" ]; then
    lc_table=$("$bin/concord" info "$lc_image" 2>/dev/null | sed -n 's/^lock table *//p')
  fi
  "$bin/concord" status --zk "127.0.0.1:$port" --table "${lc_table:-local:concord}"
}

# ---- down ----

lc_unmount() { # $1 = mount dir; prints what happened; false if it is still mounted
  local at=$1 pid name
  name=$(basename "$at")
  pid=$(lc_daemon_pid "$at")
  if ! lc_mounted "$at"; then
    if [ -n "$pid" ]; then
      # A daemon without its mount (its mount detached behind its back): stop it, by its pid.
      kill "$pid" 2>/dev/null || true
      lc_wait_gone "$pid" 20 || lc_die "$name's daemon (pid $pid) has no mount and did not exit within 20 s of SIGTERM"
      echo "$name: its daemon (pid $pid) had no mount; stopped it"
    fi
    rm -f "$lc_dir/$name.pid"
    return 0
  fi
  if [ -z "$pid" ]; then
    umount "$at" 2>/dev/null || umount -l "$at" || { echo "$name: cannot unmount the dead daemon's mount at $at" >&2; return 1; }
    rm -f "$lc_dir/$name.pid"
    echo "$name: cleared the mount its dead daemon left"
    return 0
  fi
  local why
  if ! why=$(umount "$at" 2>&1); then
    echo "$name: not unmounted: ${why:-umount failed} (close what uses it: fuser -vm $at)" >&2
    return 1
  fi
  if ! lc_wait_gone "$pid" 30; then
    # Its SIGTERM path waits up to 10 s itself for the session to end before writing back.
    kill "$pid" 2>/dev/null || true
    if lc_wait_gone "$pid" 30; then
      echo "$name: unmounted, but its daemon (pid $pid) did not exit until SIGTERM 30 s later (see $lc_dir/$name.log)"
    else
      echo "$name: unmounted, but its daemon (pid $pid) is still running 60 s later (see $lc_dir/$name.log)" >&2
      return 1
    fi
  else
    echo "$name: unmounted; daemon (pid $pid) exited"
  fi
  rm -f "$lc_dir/$name.pid"
}

lc_down() {
  local node failed=0 zk did=0
  # The last node first: node1 is the oldest member, the coordinator, which then sees the others
  # leave one by one instead of being replaced first.
  for node in $(lc_node_dirs -r) ${CONCORD_MOUNT:-$lc_dir/mnt}; do
    [ -d "$node" ] || continue
    if lc_mounted "$node" || [ -n "$(lc_daemon_pid "$node")" ]; then
      did=1
      lc_unmount "$node" || failed=1
    fi
  done
  zk=$(lc_zk_pid)
  if [ "$failed" = 1 ]; then
    lc_die "not every node is down${zk:+; ZooKeeper (pid $zk) left running for them}: fix the above and run bin/concord down again"
  fi
  if [ -n "$zk" ]; then
    kill "$zk" 2>/dev/null || true
    lc_wait_gone "$zk" 15 || lc_die "ZooKeeper (pid $zk) did not exit within 15 s of SIGTERM"
    rm -f "$lc_dir/zookeeper.pid"
    echo "ZooKeeper: stopped (pid $zk)"
    did=1
  fi
  if [ "$did" = 1 ]; then lc_say "down: nothing of $lc_dir runs any more"; else lc_say "nothing was up under $lc_dir"; fi
}

lc_main() {
  lc_parse "$@"
  case "$lc_cmd" in
    up) lc_up ;;
    status) lc_status ;;
    down) lc_down ;;
  esac
}
