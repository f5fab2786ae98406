#!/usr/bin/env bash
# A throwaway single-node Ceph RADOS Gateway (real S3: SigV4, payload hashes, Content-MD5,
# part-size limits) on 127.0.0.1, storing everything in memory (memstore).
#
#   scripts/ceph-rgw.sh start [DIR]   start; prints KEY=VALUE lines (also written to DIR/env)
#   scripts/ceph-rgw.sh env   [DIR]   prints DIR/env again
#   scripts/ceph-rgw.sh stop  [DIR]   stops the daemons by their pid files, then deletes DIR
#
# DIR defaults to $CEPH_RGW_DIR, or a new temp dir on start. Needs the Debian packages
# radosgw ceph-mon ceph-osd uuid-runtime, plus node with this repo's node_modules (free
# ports, health check, and the SigV4-signed PUT that creates the bucket, via aws4fetch).
# With CEPH_RGW_OWNER_PID set, a watchdog stops the gateway once that process is gone, so a
# test run that is killed does not leave a cluster behind. A failed start writes DIR/failed.
set -euo pipefail

ACCESS_KEY=${CEPH_RGW_ACCESS_KEY:-backupper-test}
SECRET_KEY=${CEPH_RGW_SECRET_KEY:-backupper-test-secret-0123456789}
BUCKET=${CEPH_RGW_BUCKET:-backupper-test}
REGION=us-east-1
# Without a monitor or an OSD every ceph call waits forever: each one gets a limit.
T=20
ROOT=$(cd "$(dirname "$0")/.." && pwd)

LOG=""
log() {
  echo "ceph-rgw: $*" >&2
  LOG+="$*"$'\n'
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

ceph_() { timeout "$T" ceph --conf "$DIR/ceph.conf" --connect-timeout "$T" "$@"; }

# Kills only the daemons this script started, named by the pid files in DIR.
kill_daemons() {
  local f pid
  for f in "$DIR"/run/*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  for _ in $(seq 50); do
    local alive=0
    for f in "$DIR"/run/*.pid; do
      [ -e "$f" ] || continue
      pid=$(cat "$f" 2>/dev/null || true)
      [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && alive=1
    done
    [ "$alive" = 0 ] && return 0
    sleep 0.1
  done
  for f in "$DIR"/run/*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  done
}

write_conf() {
  cat >"$DIR/ceph.conf" <<EOF
[global]
fsid = $FSID
mon host = v1:127.0.0.1:$MON_PORT
ms bind msgr2 = false
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
pid file = $DIR/run/\$name.pid
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
[mon.a]
mon data = $DIR/mon-a
[osd]
osd data = $DIR/osd-\$id
osd objectstore = memstore
memstore device bytes = 2147483648
osd max object name len = 460
osd max object namespace len = 64
[client.rgw.local]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw dns name = localhost
EOF
}

start_mon() {
  timeout "$T" monmaptool --create --clobber --fsid "$FSID" --addv a "[v1:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null
  timeout "$T" ceph-authtool --create-keyring "$DIR/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  timeout "$T" ceph-mon --conf "$DIR/ceph.conf" --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/mon.keyring"
  ceph-mon --conf "$DIR/ceph.conf" -i a 2>/dev/null
}

# Ceph 16's OSD sometimes exits at boot with "wrong fsid" (a race with the monmap):
# a fresh OSD is retried a few times before the caller gives up on this cluster.
start_osd() {
  local attempt uuid id
  for attempt in 1 2 3; do
    uuid=$(uuidgen)
    id=$(ceph_ osd create "$uuid")
    mkdir -p "$DIR/osd-$id"
    timeout "$T" ceph-osd --conf "$DIR/ceph.conf" -i "$id" --mkfs --osd-uuid "$uuid" >/dev/null 2>&1
    : >"$DIR/log/osd.$id.log"
    ceph-osd --conf "$DIR/ceph.conf" -i "$id" 2>/dev/null
    local pid=""
    for _ in $(seq 80); do
      if ceph_ osd stat 2>/dev/null | grep -q ' 1 up'; then return 0; fi
      if grep -q 'wrong fsid' "$DIR/log/osd.$id.log"; then break; fi
      pid=$(cat "$DIR/run/osd.$id.pid" 2>/dev/null || true)
      if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then break; fi
      sleep 0.25
    done
    log "osd.$id did not come up (attempt $attempt), retrying"
    pid=$(cat "$DIR/run/osd.$id.pid" 2>/dev/null || true)
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    rm -f "$DIR/run/osd.$id.pid"
    ceph_ osd rm "$id" >/dev/null 2>&1 || true
  done
  return 1
}

start_rgw() {
  radosgw --conf "$DIR/ceph.conf" -n client.rgw.local 2>/dev/null
  for _ in $(seq 160); do
    if node -e 'fetch(process.argv[1], { signal: AbortSignal.timeout(1000) }).then(() => process.exit(0), () => process.exit(1))' \
      "http://127.0.0.1:$RGW_PORT/" 2>/dev/null; then return 0; fi
    sleep 0.25
  done
  return 1
}

create_user_and_bucket() {
  timeout "$T" radosgw-admin --conf "$DIR/ceph.conf" user create --uid=test --display-name=test \
    --access-key="$ACCESS_KEY" --secret="$SECRET_KEY" >/dev/null
  # Resolved from the repo root, where aws4fetch is installed.
  (cd "$ROOT" && timeout "$T" node --input-type=module -e '
    import { AwsClient } from "aws4fetch";
    const [url, accessKeyId, secretAccessKey, region] = process.argv.slice(1);
    const client = new AwsClient({ accessKeyId, secretAccessKey, service: "s3", region, retries: 0 });
    const res = await client.fetch(url, { method: "PUT" });
    if (!res.ok) { console.error(`bucket create answered ${res.status}: ${await res.text()}`); process.exit(1); }
  ' "http://127.0.0.1:$RGW_PORT/$BUCKET" "$ACCESS_KEY" "$SECRET_KEY" "$REGION") || { log "could not create bucket $BUCKET"; return 1; }
}

start_once() {
  rm -rf "$DIR"/{run,log,mon-a,osd-*,monmap,mon.keyring,ceph.conf,env}
  mkdir -p "$DIR/run" "$DIR/log" "$DIR/mon-a"
  FSID=$(uuidgen)
  MON_PORT=$(free_port)
  RGW_PORT=$(free_port)
  write_conf
  start_mon
  start_osd || return 1
  start_rgw || return 1
  create_user_and_bucket || return 1
  cat >"$DIR/env" <<EOF
CEPH_RGW_DIR=$DIR
S3_ENDPOINT=http://127.0.0.1:$RGW_PORT
S3_REGION=$REGION
S3_ACCESS_KEY_ID=$ACCESS_KEY
S3_SECRET_ACCESS_KEY=$SECRET_KEY
S3_BUCKET=$BUCKET
EOF
}

# Outlives this script (own session) and stops the gateway when the owner process exits.
start_watchdog() {
  [ -n "${CEPH_RGW_OWNER_PID:-}" ] || return 0
  setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 2; done; exec "$2" stop "$3"' \
    _ "$CEPH_RGW_OWNER_PID" "$(readlink -f "$0")" "$DIR" </dev/null >/dev/null 2>&1 &
  echo $! >"$DIR/watchdog.pid"
}

# Kills the process named in a pid file unless it is this very process.
kill_pidfile() {
  local pid
  pid=$(cat "$1" 2>/dev/null || true)
  [ -n "$pid" ] && [ "$pid" != $$ ] && kill "$pid" 2>/dev/null || true
}

cmd=${1:-}
DIR=${2:-${CEPH_RGW_DIR:-}}
case "$cmd" in
  start)
    command -v radosgw >/dev/null || { log "radosgw not installed (apt-get install radosgw ceph-mon ceph-osd uuid-runtime)"; exit 3; }
    [ -n "$DIR" ] || DIR=$(mktemp -d "${TMPDIR:-/tmp}/ceph-rgw.XXXXXX")
    mkdir -p "$DIR"
    echo $$ >"$DIR/starter.pid"
    start_watchdog
    started=$(date +%s%N)
    for attempt in 1 2 3; do
      if start_once; then
        log "started in $((($(date +%s%N) - started) / 1000000)) ms"
        cat "$DIR/env"
        exit 0
      fi
      log "start attempt $attempt failed; logs in $DIR/log; starting over"
      kill_daemons
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
    kill_pidfile "$DIR/starter.pid"
    kill_pidfile "$DIR/watchdog.pid"
    sleep 0.2
    kill_daemons
    rm -rf "$DIR"
    ;;
  *)
    echo "usage: $0 start|env|stop [DIR]" >&2
    exit 2
    ;;
esac
