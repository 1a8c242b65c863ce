#!/usr/bin/env bash
# Run the test suite as `make test` does (2 workers), from empty run and XLA caches, with every
# process accounting its compile stages and CPU time; then summarise.
#   benchmarks/suite_profile/run.sh [OUT.json]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/records"
PY="${PY:-.venv/bin/python}"
time SUITE_PROFILE_OUT="$tmp/records" PYTHONPATH="$PWD/benchmarks/suite_profile:$PWD/lib" \
    HYLA_CACHE="$tmp/runs" HYLA_XLA_CACHE="$tmp/xla" \
    "$PY" -m pytest -q -n 2 --dist loadgroup -p no:cacheprovider | tail -3
"$PY" benchmarks/suite_profile/summarize.py "$tmp/records" ${1:+--json "$1"}
