#!/usr/bin/env bash
# Where the bytes of an idle joined socket go: two W4 runs (A and B sessions
# of SIZE idle sockets) against peercircle-heap (the server under dhat); the
# heap of each is written while its sockets are held (SIGUSR1), and the
# difference B − A, itemized by part of the socket, is what one more idle
# socket costs (fixed costs cancel out). See BENCHMARKS.md.
#
#   benches/heap/run.sh            # A=50, B=100 sessions of 12
#   SKIP_BUILD=1 A=20 B=40 benches/heap/run.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
A=${A:-50}
B=${B:-100}
SIZE=${SIZE:-12}
OUT=${OUT:-/tmp/peercircle-heap-$$}
HEAP_BIN=${HEAP_BIN:-target/release/peercircle-heap}
mkdir -p "$OUT"
if [ -z "${SKIP_BUILD:-}" ]; then
  cargo build --release -p peercircle-heap -p peercircle-load
fi
profile() { # sessions -> $OUT/heap-N.json
  local n=$1 log="$OUT/load-$1.log"
  PEERCIRCLE_HEAP_OUT="$OUT/heap-$n.json" target/release/peercircle-load w4 \
    --spawn "$HEAP_BIN" --sessions "$n" --size "$SIZE" --hold 20 \
    --out "$OUT/w4-$n.jsonl" 2>"$log" >/dev/null &
  local load=$!
  for _ in $(seq 1 600); do
    grep -q "holding" "$log" && break
    kill -0 "$load" 2>/dev/null || { cat "$log" >&2; return 1; }
    sleep 0.5
  done
  sleep 3
  local server
  server=$(pgrep -P "$load" -x peercircle-heap)
  kill -USR1 "$server"
  for _ in $(seq 1 120); do
    [ -s "$OUT/heap-$n.json" ] && break
    sleep 0.5
  done
  wait "$load" || true
  grep -h "\[w4\]" "$log" >&2 || true
}
profile "$A"
profile "$B"
python3 benches/heap/itemize.py "$OUT/heap-$B.json" --baseline "$OUT/heap-$A.json" \
  --sockets $(( (B - A) * SIZE ))
echo "profiles and logs in $OUT" >&2
