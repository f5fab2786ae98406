#!/usr/bin/env bash
# Installs the Debian packages the benchmark (npm run bench, its pre-step) compares backupper
# against, when their commands are missing: restic (`restic backup --stdin`, `restic dump`), pigz,
# zstd and the AWS CLI (`aws s3 cp`), on top of what the test suite needs (Ceph RGW, gzip).
# Run as root on Debian/Ubuntu; elsewhere it says what is missing, and the benchmark reports the
# cases that need it as skipped.
set -euo pipefail
# command=package, one row per command a benchmark case runs.
# Debian's awscli is named by path: a pip-installed `aws` elsewhere on PATH is not the one the cases run.
needs=(restic=restic pigz=pigz zstd=zstd /usr/bin/aws=awscli /usr/bin/time=time)
missing=()
for row in "${needs[@]}"; do
  command -v "${row%%=*}" >/dev/null 2>&1 || missing+=("${row#*=}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing benchmark tools: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "warning: missing ${missing[*]}; install with: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
fi
