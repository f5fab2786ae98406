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
. "$(dirname "$0")/install-missing.sh"
install_missing "benchmark tools" "${needs[@]}"
