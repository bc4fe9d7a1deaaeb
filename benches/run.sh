#!/usr/bin/env bash
# Benchmarks for peercircle and its peers. Loopback only; every run is
# bounded in size and time. See BENCHMARKS.md.
#
#   benches/run.sh peers       # W2 shape: ceiling, ws, Socket.IO, Python websockets, peercircle
#   benches/run.sh workloads   # peercircle W1..W6 at full size (WORKLOADS="w1 w4 w6" for a subset)
#   benches/run.sh table FILE  # print the side-by-side table of a results file
#
# Environment: CLIENTS (1000), DURATION (seconds per phase, 15), WARMUP (3),
# WINDOW (16), REPEAT (3), SKIP_BUILD (set: use the binaries as built),
# PEERCIRCLE_BIN (default target/release/peercircle), ONLY (space-separated subset of
# "ceiling ws socketio python peercircle"), W_ARGS_W1.. (extra flags).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PEERS="$ROOT/benches/peers"
RESULTS="$PEERS/results"
mkdir -p "$RESULTS"
CLIENTS=${CLIENTS:-1000}
DURATION=${DURATION:-15}
WARMUP=${WARMUP:-3}
WINDOW=${WINDOW:-16}
REPEAT=${REPEAT:-3}
ONLY=${ONLY:-"ceiling ws socketio python peercircle"}
LOAD="$ROOT/target/release/peercircle-load"
PC="${PEERCIRCLE_BIN:-$ROOT/target/release/peercircle}"

install_peers() {
  if [ ! -d "$PEERS/node/node_modules" ]; then
    (cd "$PEERS/node" && npm ci --no-audit --no-fund)
  fi
  if [ ! -x "$PEERS/python/.venv/bin/python" ]; then
    python3 -m venv "$PEERS/python/.venv"
    "$PEERS/python/.venv/bin/pip" install -q -r "$PEERS/python/requirements.txt"
  fi
}

build() {
  # One cargo at a time: the machine is small.
  cargo build --release -p peercircle-load
  if [[ " $ONLY " == *" peercircle "* ]] || [ "${1:-}" = all ]; then
    cargo build --release -p peercircle || echo "peercircle does not build: its rows will be missing" >&2
  fi
}

wait_port() {
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "nothing listening on $1" >&2
  return 1
}

SERVER_PID=""
start_peer() { # name port
  case "$1" in
    ceiling)  "$ROOT/target/release/peer-ceiling" "127.0.0.1:$2" & ;;
    ws)       node "$PEERS/node/ws-server.js" "$2" & ;;
    socketio) node "$PEERS/node/socketio-server.js" "$2" & ;;
    python)   "$PEERS/python/.venv/bin/python" "$PEERS/python/server.py" "$2" & ;;
  esac
  SERVER_PID=$!
  wait_port "$2"
}
stop_peer() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  SERVER_PID=""
}
trap stop_peer EXIT

run_peers() {
  local out="$RESULTS/peers-$(date +%Y%m%d-%H%M%S)-n$CLIENTS.jsonl"
  local common=(--duration "$DURATION" --warmup "$WARMUP" --window "$WINDOW")
  for rep in $(seq 1 "$REPEAT"); do
    for p in $ONLY; do
      echo "== $p (run $rep/$REPEAT, $CLIENTS clients)" >&2
      case "$p" in
        peercircle)
          if [ -x "$PC" ]; then
            "$LOAD" w2 --spawn "$PC" --participants "$CLIENTS" "${common[@]}" --out "$out" >/dev/null || echo "peercircle run failed" >&2
          fi ;;
        socketio)
          start_peer socketio 9103
          "$LOAD" peers --framing socketio --url http://127.0.0.1:9103 --server-pid "$SERVER_PID" --clients "$CLIENTS" --label socketio "${common[@]}" --out "$out" >/dev/null || true
          stop_peer ;;
        *)
          start_peer "$p" 9101
          "$LOAD" peers --framing raw --url http://127.0.0.1:9101 --server-pid "$SERVER_PID" --clients "$CLIENTS" --label "$p" "${common[@]}" --out "$out" >/dev/null || true
          stop_peer ;;
      esac
      sleep 2
    done
  done
  echo "results: $out" >&2
  table "$out"
}

run_workloads() {
  local out="$RESULTS/workloads-$(date +%Y%m%d-%H%M%S).jsonl"
  [ -x "$PC" ] || { echo "no $PC: build peercircle first" >&2; exit 1; }
  for rep in $(seq 1 "$REPEAT"); do
    for w in ${WORKLOADS:-w1 w2-1000 w2-5000 w3 w4 w5 w6}; do
      echo "== $w (run $rep/$REPEAT)" >&2
      case "$w" in
        w2-1000) "$LOAD" w2 --spawn "$PC" --participants 1000 --out "$out" ${W_ARGS_W2:-} >/dev/null || true ;;
        w2-5000) "$LOAD" w2 --spawn "$PC" --participants 5000 --out "$out" ${W_ARGS_W2:-} >/dev/null || true ;;
        *)
          local extra="W_ARGS_${w^^}"
          "$LOAD" "$w" --spawn "$PC" --out "$out" ${!extra:-} >/dev/null || true ;;
      esac
    done
  done
  echo "results: $out" >&2
  table "$out"
}

table() {
  python3 "$PEERS/table.py" "$@"
}

case "${1:-peers}" in
  peers) install_peers; [ -n "${SKIP_BUILD:-}" ] || build; run_peers ;;
  workloads) [ -n "${SKIP_BUILD:-}" ] || ONLY=peercircle build; run_workloads ;;
  table) shift; table "$@" ;;
  *) echo "usage: $0 [peers|workloads|table FILE...]" >&2; exit 2 ;;
esac
