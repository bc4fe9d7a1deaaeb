#!/usr/bin/env bash
# Peak memory of the server under a burst of concurrent wrong logins
# (issue 10, item 2). Starts BIN on a fresh database, adds one facilitator,
# fires N logins with a wrong password at once (half for the account, half
# for unknown addresses), then prints the answers by status and the
# server's peak resident memory (VmHWM).
#
#   bash benches/login_burst.sh [BIN] [N]
#   BIN defaults to target/release/peercircle, N to 150.
# Loopback rate limiting is turned off so the hashing bound is what is measured.
set -euo pipefail
BIN="${1:-target/release/peercircle}"
N="${2:-150}"
PORT="${PORT:-18990}"
DIR="$(mktemp -d)"
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$DIR"' EXIT
export PEERCIRCLE_DATABASE="sqlite://$DIR/burst.db" PEERCIRCLE_DEMO=false \
  PEERCIRCLE_LISTEN="127.0.0.1:$PORT" PEERCIRCLE_LOG=warn \
  PEERCIRCLE_RATE_LIMIT_LOOPBACK=false PEERCIRCLE_LOGIN_PER_MINUTE=100000
echo 'a good password' | "$BIN" facilitator add --email burst@example.org --name Burst --password-stdin >/dev/null
"$BIN" serve >"$DIR/server.log" 2>&1 &
PID=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
echo "idle:  $(grep VmRSS /proc/$PID/status)"
START=$(date +%s.%N)
seq "$N" | xargs -P "$N" -I{} sh -c '
  if [ $(({} % 2)) -eq 0 ]; then e=burst@example.org; else e=nobody{}@example.org; fi
  curl -s -o /dev/null -w "%{http_code}\n" -H "content-type: application/json" \
    -d "{\"email\":\"$e\",\"password\":\"wrong-password\"}" "http://127.0.0.1:'"$PORT"'/api/login"' \
  | sort | uniq -c | sed 's/^/answers: /'
END=$(date +%s.%N)
echo "burst took $(echo "$END - $START" | bc) s"
echo "after: $(grep VmRSS /proc/$PID/status)"
echo "peak:  $(grep VmHWM /proc/$PID/status)"
