#!/usr/bin/env bash
# Installs the Debian packages the test suite needs (the Ceph RADOS Gateway, a real S3 server)
# when they are missing. Run as root on Debian/Ubuntu; elsewhere it says what is missing and
# leaves the decision to the test run (a failure under CI=true, a loud warning otherwise).
set -euo pipefail
packages=(radosgw ceph-mon ceph-osd uuid-runtime)
missing=()
command -v radosgw >/dev/null 2>&1 || missing+=(radosgw)
command -v ceph-mon >/dev/null 2>&1 || missing+=(ceph-mon)
command -v ceph-osd >/dev/null 2>&1 || missing+=(ceph-osd)
command -v uuidgen >/dev/null 2>&1 || missing+=(uuid-runtime)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing test servers: ${packages[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
else
  echo "warning: missing ${missing[*]}; install with: sudo apt-get install --no-install-recommends ${packages[*]}" >&2
fi
