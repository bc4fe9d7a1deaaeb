#!/usr/bin/env bash
# A tiny run of every load workload (a few sockets, a few seconds) against a
# fresh peercircle on loopback, so the generator cannot rot. Part of
# tests/all.sh. Uses the debug builds the tests already made.
#
# The spawned server also serves /metrics on a private loopback address; a
# scrape each second keeps the last answer, and the figures an operator
# watches must have moved under the load (issue 12).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p peercircle --bin peercircle
cargo build -q -p peercircle-load --bin peercircle-load

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export PEERCIRCLE_METRICS_LISTEN="127.0.0.1:$port"
scrape=$(mktemp)
(
  for _ in $(seq 1 600); do
    curl -sf --max-time 2 "http://127.0.0.1:$port/metrics" > "$scrape.new" 2>/dev/null && mv "$scrape.new" "$scrape"
    sleep 1
  done
) &
scraper=$!
trap 'kill $scraper 2>/dev/null || true; rm -f "$scrape" "$scrape.new"' EXIT

target/debug/peercircle-load smoke --spawn target/debug/peercircle

# Sum of a metric's samples (all label sets) in the last scrape.
total() { awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $NF } END { print s + 0 }' "$scrape"; }
failed=0
for m in peercircle_joins_total peercircle_commands_total peercircle_events_total \
         peercircle_deliveries_total peercircle_welcome_bytes_count peercircle_store_seconds_count; do
  v=$(total "$m")
  printf 'metrics after the smoke run: %s = %s\n' "$m" "$v"
  if ! awk -v v="$v" 'BEGIN { exit !(v > 0) }'; then
    echo "metrics: $m did not move under the smoke run" >&2
    failed=1
  fi
done
exit $failed
