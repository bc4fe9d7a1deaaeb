#!/usr/bin/env bash
# Runs every test of peercircle: formatting, lints, unit + property +
# integration tests, the load generator's smoke run and the browser tests.
# It installs what it needs when missing (npm packages; Debian's chromium),
# so it works on a fresh machine. Usage: bash tests/all.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

started=$SECONDS
step() { printf '\n=== %s (at %ds)\n' "$*" "$((SECONDS - started))"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "PostgreSQL for the store conformance suite (started or installed when missing)"
PEERCIRCLE_TEST_PG="$(bash tests/pg.sh)"
export PEERCIRCLE_TEST_PG

step "HAProxy for the cluster test (installed when missing)"
PEERCIRCLE_TEST_HAPROXY="$(bash tests/haproxy.sh)"
export PEERCIRCLE_TEST_HAPROXY

step "cargo test (unit, property and integration tests)"
cargo test --workspace 2>&1 | tee /tmp/peercircle-cargo-test.log
grep -E '^test result:' /tmp/peercircle-cargo-test.log | awk '{p+=$4; f+=$6} END {printf "cargo tests: %d passed, %d failed\n", p, f}'

step "Schemathesis against /api/openapi.json (its own venv, server and database)"
bash tests/schemathesis.sh target/debug/peercircle

step "fuzz targets (libFuzzer for a few seconds each when built, else their corpus replayed)"
bash fuzz/check.sh

if [ -x benches/smoke.sh ]; then
  step "load generator smoke run"
  bash benches/smoke.sh
fi

if [ -f tests/browser/run.sh ]; then
  step "browser tests"
  bash tests/browser/run.sh
fi

step "all tests passed in $((SECONDS - started)) s"
