#!/usr/bin/env bash
# The one command that runs every test: installs what is missing, builds, runs
# all test groups (unit, etcd, cli, ipam, kernel, e2e). Run as root.
#   bash scripts/test.sh                 everything
#   bash scripts/test.sh unit etcd       some groups
#   bash scripts/test.sh unit --only selector   files whose path contains "selector"
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
exec node scripts/run-tests.mjs "$@"
