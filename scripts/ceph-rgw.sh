#!/usr/bin/env bash
# A throwaway single-node Ceph RADOS Gateway (real S3: SigV4, payload hashes, Content-MD5,
# part-size limits) on 127.0.0.1, storing everything in memory (memstore).
#
#   scripts/ceph-rgw.sh start [DIR]   start; prints KEY=VALUE lines (also written to DIR/env)
#   scripts/ceph-rgw.sh env   [DIR]   prints DIR/env again
#   scripts/ceph-rgw.sh stop  [DIR]   stops the daemons by their pid files, then deletes DIR
#
# DIR defaults to $CEPH_RGW_DIR, or a new temp dir on start. Needs Linux (/proc), the Debian
# packages radosgw ceph-mon ceph-osd uuid-runtime, plus node with this repo's node_modules (free
# ports, health check, and the SigV4-signed PUT that creates the bucket, via aws4fetch).
# With CEPH_RGW_OWNER_PID set, a watchdog stops the gateway once that process is gone, so a
# test run that is killed does not leave a cluster behind. The whole start gives up after
# CEPH_RGW_DEADLINE seconds (default 140, under test/helpers/s3.ts' 150 s wait), and a failed
# start writes DIR/failed.
#
# Ports: radosgw is given port 0, so the kernel picks a free port as it binds, and the port is
# read from its listening socket (/proc): no race. The monitor's port must be in the monmap
# before it starts, so free_port picks one by binding and closing it, and another process can
# take it before ceph-mon binds. That is detected, not prevented: ceph-mon then exits non-zero
# ("unable to bind" in its log), and the start begins again on fresh ports within the deadline;
# nothing but the monitor's own files exists by then. The OSD picks its own ports (6800-7300)
# and retries them itself.
set -euo pipefail

ACCESS_KEY=${CEPH_RGW_ACCESS_KEY:-backupper-test}
SECRET_KEY=${CEPH_RGW_SECRET_KEY:-backupper-test-secret-0123456789}
BUCKET=${CEPH_RGW_BUCKET:-backupper-test}
REGION=us-east-1
# Without a monitor or an OSD every ceph call waits forever: each one gets a limit (seconds),
# shortened to what is left before the deadline.
T=20
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# Set by `start`: the time (epoch seconds) after which the start gives up.
DEADLINE=0

LOG=""
log() {
  echo "ceph-rgw: $*" >&2
  LOG+="$*"$'\n'
}

now() { date +%s; }

# Seconds left before the deadline, at most $1 (default T); fails once the deadline has passed.
budget() {
  local cap=${1:-$T} left
  left=$((DEADLINE - $(now)))
  [ "$left" -gt 0 ] || return 1
  echo $((left < cap ? left : cap))
}

# Runs a command under `timeout`, with at most T seconds and never past the deadline.
limited() {
  local t
  t=$(budget) || { log "deadline passed before: $1"; return 124; }
  timeout "$t" "$@"
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# The pids in the given pid files, one a line: missing or empty files, and this very process
# (the watchdog execs `stop`), are left out. The one place that reads pid files.
pids() {
  local f pid
  for f in "$@"; do
    [ -e "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    [[ "$pid" =~ ^[0-9]+$ ]] && [ "$pid" != $$ ] && echo "$pid"
  done
  return 0
}

# Whether the pid file names a live process.
alive() {
  local pid
  for pid in $(pids "$1"); do kill -0 "$pid" 2>/dev/null && return 0; done
  return 1
}

# Stops the processes named by the pid files: SIGTERM, up to 5 s to exit, then SIGKILL.
# Only processes this script started are ever named there; nothing is found by name.
kill_pidfiles() {
  local pid left
  for pid in $(pids "$@"); do kill "$pid" 2>/dev/null || true; done
  for _ in $(seq 50); do
    left=0
    for pid in $(pids "$@"); do kill -0 "$pid" 2>/dev/null && left=1; done
    [ "$left" = 0 ] && return 0
    sleep 0.1
  done
  for pid in $(pids "$@"); do kill -9 "$pid" 2>/dev/null || true; done
}

# kill_daemons DIR: the daemons of the cluster in DIR.
kill_daemons() { kill_pidfiles "$1"/run/*.pid; }

# ceph_ DIR ARGS...: the ceph CLI on the cluster in DIR, time-limited.
ceph_() {
  local dir=$1 t
  shift
  t=$(budget) || return 124
  timeout "$t" ceph --conf "$dir/ceph.conf" --connect-timeout "$t" "$@"
}

# write_conf DIR FSID MON_PORT
write_conf() {
  local dir=$1 fsid=$2 mon_port=$3
  cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$mon_port
ms bind msgr2 = false
# A port taken since free_port: fail fast (ceph-mon tries 3 times) and retry with another.
ms bind retry delay = 1
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
run dir = $dir/run
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
pid file = $dir/run/\$name.pid
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
[mon.a]
mon data = $dir/mon-a
[osd]
osd data = $dir/osd-\$id
osd objectstore = memstore
memstore device bytes = 2147483648
osd max object name len = 460
osd max object namespace len = 64
[client.rgw.local]
# Port 0: the kernel picks a free one as radosgw binds (start_rgw reads which). tcp_nodelay:
# with Nagle on, beast sends an answer's body only once the client acknowledged its headers,
# and a client's delayed ACK adds ~40 ms to every answer with a body (a list, a Complete).
rgw frontends = beast endpoint=127.0.0.1:0 tcp_nodelay=1
rgw dns name = localhost
EOF
}

# start_mon DIR FSID MON_PORT. Fails with 2 if the port was taken: ceph-mon binds before it
# detaches, and its parent exits with the child's status.
start_mon() {
  local dir=$1 fsid=$2 mon_port=$3
  limited monmaptool --create --clobber --fsid "$fsid" --addv a "[v1:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null || return 1
  limited ceph-authtool --create-keyring "$dir/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null || return 1
  limited ceph-mon --conf "$dir/ceph.conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/mon.keyring" || return 1
  if ! limited ceph-mon --conf "$dir/ceph.conf" -i a 2>/dev/null; then
    if grep -q 'unable to bind' "$dir/log/mon.a.log" 2>/dev/null; then
      log "mon port $mon_port was taken by another process"
      return 2
    fi
    log "ceph-mon did not start (see $dir/log/mon.a.log)"
    return 1
  fi
}

# start_osd DIR. Ceph 16's OSD sometimes exits at boot with "wrong fsid" (a race with the
# monmap): a fresh OSD is retried a few times before the caller gives up on this cluster.
start_osd() {
  local dir=$1 attempt uuid id until
  for attempt in 1 2 3; do
    uuid=$(uuidgen) || return 1
    id=$(ceph_ "$dir" osd create "$uuid") || return 1
    mkdir -p "$dir/osd-$id"
    limited ceph-osd --conf "$dir/ceph.conf" -i "$id" --mkfs --osd-uuid "$uuid" >/dev/null 2>&1 || return 1
    : >"$dir/log/osd.$id.log"
    limited ceph-osd --conf "$dir/ceph.conf" -i "$id" 2>/dev/null || true
    until=$(($(now) + T))
    while [ "$(now)" -lt "$until" ] && budget >/dev/null; do
      if ceph_ "$dir" osd stat 2>/dev/null | grep -q ' 1 up'; then return 0; fi
      if grep -q 'wrong fsid' "$dir/log/osd.$id.log"; then break; fi
      if [ -e "$dir/run/osd.$id.pid" ] && ! alive "$dir/run/osd.$id.pid"; then break; fi
      sleep 0.25
    done
    budget >/dev/null || return 1
    log "osd.$id did not come up (attempt $attempt), retrying"
    kill_pidfiles "$dir/run/osd.$id.pid"
    rm -f "$dir/run/osd.$id.pid"
    ceph_ "$dir" osd rm "$id" >/dev/null 2>&1 || true
  done
  return 1
}

# listen_port PID: the TCP port the process listens on at 127.0.0.1, read from Linux's /proc
# (its socket inodes, matched in /proc/net/tcp); fails while it listens on none.
listen_port() {
  local pid=$1 fd inodes="" hex
  for fd in /proc/"$pid"/fd/*; do
    fd=$(readlink "$fd" 2>/dev/null) || continue
    [[ "$fd" =~ ^socket:\[([0-9]+)\]$ ]] && inodes+=" ${BASH_REMATCH[1]}"
  done
  [ -n "$inodes" ] || return 1
  # Columns: sl local_address rem_address st ... inode (10th); 0A is LISTEN, 0100007F is 127.0.0.1.
  hex=$(awk -v inodes="$inodes " 'NR > 1 && $4 == "0A" && $2 ~ /^0100007F:/ && index(inodes, " " $10 " ") { print substr($2, 10); exit }' /proc/net/tcp)
  [ -n "$hex" ] || return 1
  echo $((16#$hex))
}

# start_rgw DIR VAR: radosgw up and answering HTTP; sets the variable named VAR to its port.
# ceph.conf gives it port 0, so the kernel picks a free port at the very bind: nothing can
# take it in between. The port is then read from the process's own listening socket.
start_rgw() {
  local dir=$1 rgw_log=$1/log/client.rgw.local.log pidfile=$1/run/client.rgw.local.pid until seen=0 pid port
  local -n port_out=$2
  : >"$rgw_log"
  limited radosgw --conf "$dir/ceph.conf" -n client.rgw.local 2>/dev/null || return 1
  until=$(($(now) + 40))
  while [ "$(now)" -lt "$until" ] && budget >/dev/null; do
    if grep -q 'failed to bind' "$rgw_log"; then
      log "radosgw could not bind (see $rgw_log)"
      return 1
    fi
    # radosgw detaches at once; its pid file appears a little later and goes when it exits.
    pid=$(pids "$pidfile")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      seen=1
      if port=$(listen_port "$pid") &&
        node -e 'fetch(process.argv[1], { signal: AbortSignal.timeout(1000) }).then(() => process.exit(0), () => process.exit(1))' \
          "http://127.0.0.1:$port/" 2>/dev/null; then
        port_out=$port
        return 0
      fi
    elif [ "$seen" = 1 ]; then
      log "radosgw exited (see $rgw_log)"
      return 1
    fi
    sleep 0.25
  done
  # Past the deadline the caller says so.
  budget >/dev/null && log "radosgw did not answer within 40 s"
  return 1
}

# create_user DIR
create_user() {
  limited radosgw-admin --conf "$1/ceph.conf" user create --uid=test --display-name=test \
    --access-key="$ACCESS_KEY" --secret="$SECRET_KEY" >/dev/null || { log "could not create the S3 user"; return 1; }
}

# create_bucket RGW_PORT
create_bucket() {
  local rgw_port=$1 t
  t=$(budget) || return 1
  # Resolved from the repo root, where aws4fetch is installed.
  (cd "$ROOT" && timeout "$t" node --input-type=module -e '
    import { AwsClient } from "aws4fetch";
    const [url, accessKeyId, secretAccessKey, region] = process.argv.slice(1);
    const client = new AwsClient({ accessKeyId, secretAccessKey, service: "s3", region, retries: 0 });
    const res = await client.fetch(url, { method: "PUT" });
    if (!res.ok) { console.error(`bucket create answered ${res.status}: ${await res.text()}`); process.exit(1); }
  ' "http://127.0.0.1:$rgw_port/$BUCKET" "$ACCESS_KEY" "$SECRET_KEY" "$REGION") || { log "could not create bucket $BUCKET"; return 1; }
}

# start_once DIR: a whole cluster in DIR, its settings in DIR/env. Fails with 2 if the mon
# port was taken, 1 otherwise.
start_once() {
  local dir=$1 fsid mon_port rgw_port=0
  rm -rf "$dir"/{run,log,mon-a,osd-*,monmap,mon.keyring,ceph.conf,env}
  mkdir -p "$dir/run" "$dir/log" "$dir/mon-a"
  fsid=$(uuidgen) || return 1
  mon_port=$(free_port) || return 1
  write_conf "$dir" "$fsid" "$mon_port"
  start_mon "$dir" "$fsid" "$mon_port" || return $?
  start_osd "$dir" || return 1
  start_rgw "$dir" rgw_port || return 1
  create_user "$dir" || return 1
  create_bucket "$rgw_port" || return 1
  cat >"$dir/env" <<EOF
CEPH_RGW_DIR=$dir
S3_ENDPOINT=http://127.0.0.1:$rgw_port
S3_REGION=$REGION
S3_ACCESS_KEY_ID=$ACCESS_KEY
S3_SECRET_ACCESS_KEY=$SECRET_KEY
S3_BUCKET=$BUCKET
EOF
}

# start_watchdog DIR OWNER_PID: outlives this script (own session) and stops the gateway when
# the owner process exits.
start_watchdog() {
  local dir=$1 owner=$2
  [ -n "$owner" ] || return 0
  setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 2; done; exec "$2" stop "$3"' \
    _ "$owner" "$(readlink -f "$0")" "$dir" </dev/null >/dev/null 2>&1 &
  echo $! >"$dir/watchdog.pid"
}

cmd=${1:-}
DIR=${2:-${CEPH_RGW_DIR:-}}
case "$cmd" in
  start)
    command -v radosgw >/dev/null || { log "radosgw not installed (apt-get install radosgw ceph-mon ceph-osd uuid-runtime)"; exit 3; }
    [ -n "$DIR" ] || DIR=$(mktemp -d "${TMPDIR:-/tmp}/ceph-rgw.XXXXXX")
    mkdir -p "$DIR"
    echo $$ >"$DIR/starter.pid"
    start_watchdog "$DIR" "${CEPH_RGW_OWNER_PID:-}"
    started=$(date +%s%N)
    seconds=${CEPH_RGW_DEADLINE:-140}
    DEADLINE=$(($(now) + seconds))
    # Whole starts over: 3 for a cluster that did not come up, a few more for a taken mon port.
    failures=0
    for attempt in 1 2 3 4 5; do
      rc=0
      start_once "$DIR" || rc=$?
      if [ "$rc" = 0 ]; then
        log "started in $((($(date +%s%N) - started) / 1000000)) ms"
        cat "$DIR/env"
        exit 0
      fi
      kill_daemons "$DIR"
      [ "$rc" = 2 ] || failures=$((failures + 1))
      if ! budget >/dev/null; then
        log "gave up: the start took more than CEPH_RGW_DEADLINE=$seconds s"
        break
      fi
      [ "$failures" -lt 3 ] || break
      log "start attempt $attempt failed; logs in $DIR/log; starting over"
    done
    printf 'scripts/ceph-rgw.sh could not start a gateway:\n%s' "$LOG" >"$DIR/failed"
    exit 1
    ;;
  env)
    [ -n "$DIR" ] && [ -f "$DIR/env" ] || { log "no running gateway (give DIR or CEPH_RGW_DIR)"; exit 1; }
    cat "$DIR/env"
    ;;
  stop)
    [ -n "$DIR" ] && [ -d "$DIR" ] || { log "nothing to stop (give DIR or CEPH_RGW_DIR)"; exit 1; }
    [ -e "$DIR/starter.pid" ] || { log "$DIR was not made by '$0 start'; not touching it"; exit 1; }
    # A start still in progress would launch daemons after they were killed: end it first.
    # (When the watchdog runs this, watchdog.pid names this very process: pids leaves it out.)
    kill_pidfiles "$DIR/starter.pid" "$DIR/watchdog.pid"
    kill_daemons "$DIR"
    rm -rf "$DIR"
    ;;
  *)
    echo "usage: $0 start|env|stop [DIR]" >&2
    exit 2
    ;;
esac
