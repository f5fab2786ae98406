#!/usr/bin/env bash
# Installs the Debian packages the test suite needs when their commands are missing: the Ceph
# RADOS Gateway (a real S3 server), the command-line tools the tests check the bucket format
# against (`age`, `zstd`, `aws`) and `promtool`, which checks the metrics exposition. Run as root
# on Debian/Ubuntu; elsewhere it says what is missing and leaves the decision to the test run (a
# failure under CI=true, a loud warning otherwise).
set -euo pipefail
# command=package, one row per command a test runs.
# Debian's awscli is named by path: a pip-installed `aws` elsewhere on PATH is not the one the tests run.
needs=(radosgw=radosgw ceph-mon=ceph-mon ceph-osd=ceph-osd uuidgen=uuid-runtime age=age zstd=zstd /usr/bin/aws=awscli promtool=prometheus)
missing=()
for row in "${needs[@]}"; do
  command -v "${row%%=*}" >/dev/null 2>&1 || missing+=("${row#*=}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing test dependencies: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "warning: missing ${missing[*]}; install with: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
fi
