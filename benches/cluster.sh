#!/usr/bin/env bash
# BENCHMARKS.md "Cluster": three nodes on one PostgreSQL behind HAProxy; one
# node runs CLUSTER_SESSIONS sessions (default 100) of 12 people; prints the
# database's transactions per second per 1,000 live sessions (leases and
# snapshots), then the time until every person has a new welcome after
# `kill -9` of that node (p50, p99, max).
#   bash benches/cluster.sh             # CLUSTER_SESSIONS=200 bash benches/cluster.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PEERCIRCLE_TEST_PG="$(bash tests/pg.sh)"; export PEERCIRCLE_TEST_PG
PEERCIRCLE_TEST_HAPROXY="$(bash tests/haproxy.sh)"; export PEERCIRCLE_TEST_HAPROXY

cargo test --test cluster -- --ignored --nocapture measure_failover_of_a_node_running_many_sessions 2>&1 \
  | grep -E '^CLUSTER|test result|panicked'
