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
. "$(dirname "$0")/install-missing.sh"
install_missing "test dependencies" "${needs[@]}"
