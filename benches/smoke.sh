#!/usr/bin/env bash
# A tiny run of every load workload (a few sockets, a few seconds) against a
# fresh peercircle on loopback, so the generator cannot rot. Part of
# tests/all.sh. Uses the debug builds the tests already made.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p peercircle --bin peercircle
cargo build -q -p peercircle-load --bin peercircle-load
target/debug/peercircle-load smoke --spawn target/debug/peercircle
