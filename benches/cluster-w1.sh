#!/usr/bin/env bash
# BENCHMARKS.md "Cluster", "W1 through HAProxy": the load generator's W1
# (evening peak, stick mode) scaled to W1_SESSIONS × W1_SIZE sockets, run
#   A. through HAProxy (deploy/haproxy.cfg on loopback) in front of three
#      release nodes on one fresh PostgreSQL database, and
#   B. against one release node on SQLite (`peercircle-load w1 --spawn`),
# W1_RUNS times each, alternating. Prints each run's latency (p50/p99/max),
# errors, join failures, and per-process CPU and peak RSS.
#
#   bash benches/cluster-w1.sh                      # 600 × 12, 60 s, 3 runs
#   W1_RUNS=1 W1_DURATION=30 bash benches/cluster-w1.sh
#
# Why scaled: through HAProxy each socket costs HAProxy two open files, and
# this machine caps a process at 20,000 (full W1 is 18,000 sockets).
# Everything listens on loopback; every wait is bounded; whatever the script
# started (nodes, HAProxy, the database) is stopped or dropped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

SESSIONS="${W1_SESSIONS:-600}"
SIZE="${W1_SIZE:-12}"
DURATION="${W1_DURATION:-60}"
WARMUP="${W1_WARMUP:-10}"
RUNS="${W1_RUNS:-3}"
HAPROXY_MAXCONN="${W1_HAPROXY_MAXCONN:-9000}"

say() { printf 'cluster-w1: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

nice -n 5 cargo build --release -q -p peercircle -p peercircle-load
BIN="$PWD/target/release/peercircle"
LOAD="$PWD/target/release/peercircle-load"

ADMIN="$(bash tests/pg.sh)"
HAPROXY="$(bash tests/haproxy.sh)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/peercircle-w1.XXXXXX")"
PIDS=()
DBNAME=""
cleanup() {
  local p
  for p in "${PIDS[@]}"; do
    pkill -TERM -P "$p" 2>/dev/null || true # what `peercircle-load --spawn` started
    kill "$p" 2>/dev/null || true
  done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  PIDS=()
  if [ -n "$DBNAME" ]; then
    psql "$ADMIN" -w -qc "DROP DATABASE IF EXISTS $DBNAME WITH (FORCE)" >/dev/null 2>&1 || true
    DBNAME=""
  fi
}
trap 'cleanup; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The admin URL with another database name.
db_url() { python3 - "$ADMIN" "$1" <<'EOF'
import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))
EOF
}

# Waits (at most $2 seconds) until $1 answers 200.
wait_ok() {
  local deadline=$((SECONDS + $2))
  until curl -fs -o /dev/null --max-time 2 "$1"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# utime + stime of a process, in clock ticks.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
peak_rss_mib() { awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo "?"; }
HZ="$(getconf CLK_TCK)"

# Node settings: the shipped peercircle.env.example's cluster settings,
# plus the load-test limits that `peercircle-load --spawn` uses.
node_env=(
  PEERCIRCLE_DEMO=false
  PEERCIRCLE_LEASE_SECS=6
  PEERCIRCLE_TRUST_FORWARDED_FOR=true
  PEERCIRCLE_HTTP_CONNECTIONS_PER_ADDRESS=0
  PEERCIRCLE_RATE_LIMIT_LOOPBACK=false
  PEERCIRCLE_JOIN_PER_MINUTE=1000000
  PEERCIRCLE_LOGIN_PER_MINUTE=100000
  PEERCIRCLE_SAY_RATE_COUNT=1000000
  PEERCIRCLE_MAX_CONNECTIONS=100000
  PEERCIRCLE_MAX_CAPACITY=100000
  PEERCIRCLE_LOG=warn
  RUST_LOG=warn
)

# deploy/haproxy.cfg for loopback (as tests/cluster.rs adapts it): bind
# 127.0.0.1:$1 instead of TLS on 80/443, no syslog, maxconn for this
# machine's open-file cap, and the nodes given as "host:port" arguments.
haproxy_config() {
  local port="$1"; shift
  awk -v port="$port" -v maxconn="$HAPROXY_MAXCONN" -v nodes="$*" '
    { t = $0; sub(/^[ \t]+/, "", t) }
    t ~ /^(bind |http-request redirect|log |ssl-default-bind|server )/ { next }
    t ~ /^maxconn / { print "    maxconn " maxconn; next }
    { print }
    t ~ /^frontend / { print "    bind 127.0.0.1:" port }
    t ~ /^default-server / {
      n = split(nodes, a, " ")
      for (i = 1; i <= n; i++) print "    server n" i " " a[i] " check"
    }' deploy/haproxy.cfg
}

# Reads "latency p50/p99/max, errors, joins failed" from a RESULT line.
summarise() {
  jq -r '"p50 \(.latency.p50_ms) ms, p99 \(.latency.p99_ms) ms, max \(.latency.max_ms) ms; ack p99 \(.ack_latency.p99_ms) ms; posts/s \(.posts_per_s), deliveries/s \(.delivered_per_s); sockets \(.sockets), join failures \(.join_failed), errors \(.errors | add // 0) \(.errors), refusals \(.refusals | add // 0); joins p99 \(.join_time.p99_ms) ms"' <<<"$1"
}

run_cluster() {
  local run="$1"
  DBNAME="peercircle_w1_$$_$run"
  psql "$ADMIN" -w -qc "CREATE DATABASE $DBNAME" >/dev/null
  local db; db="$(db_url "$DBNAME")"
  printf 'load-test-password-1\n' | env "${node_env[@]}" "$BIN" --database "$db" \
    facilitator add --email load@example.org --name "Load Facilitator" --password-stdin >/dev/null

  # The address people use is HAProxy's (as PEERCIRCLE_PUBLIC_URL in
  # peercircle.env.example): the nodes accept sockets from pages there.
  local hport; hport="$(free_port)"
  local ports=() addrs=() node_pids=() i port
  for i in 1 2 3; do
    port="$(free_port)"
    env "${node_env[@]}" PEERCIRCLE_NODE_ID="n$i" PEERCIRCLE_PUBLIC_URL="http://127.0.0.1:$hport" "$BIN" --database "$db" \
      serve --listen "127.0.0.1:$port" >"$WORK/node$i.log" 2>&1 &
    PIDS+=("$!"); node_pids+=("$!"); ports+=("$port"); addrs+=("127.0.0.1:$port")
  done
  for i in 0 1 2; do
    wait_ok "http://${addrs[$i]}/readyz" 30 || { cat "$WORK/node$((i + 1)).log" >&2; die "node $((i + 1)) did not start"; }
  done

  haproxy_config "$hport" "${addrs[@]}" >"$WORK/haproxy.cfg"
  "$HAPROXY" -c -q -f "$WORK/haproxy.cfg" || die "HAProxy rejects the adapted configuration"
  "$HAPROXY" -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
  local hpid=$!; PIDS+=("$hpid")
  wait_ok "http://127.0.0.1:$hport/readyz" 10 || { cat "$WORK/haproxy.log" >&2; die "HAProxy did not start"; }
  sleep 3 # health checks: `rise 2` at `inter 1s` before every node is up

  "$LOAD" --url "http://127.0.0.1:$hport" w1 --sessions "$SESSIONS" --size "$SIZE" \
    --duration "$DURATION" --warmup "$WARMUP" >"$WORK/out" 2>"$WORK/err" &
  local lpid=$!; PIDS+=("$lpid")
  # CPU from "everyone joined" to the end of the measured window.
  local deadline=$((SECONDS + 600))
  until grep -q '^\[w1\] ' "$WORK/err"; do
    kill -0 "$lpid" 2>/dev/null || break
    [ "$SECONDS" -lt "$deadline" ] || { kill "$lpid"; die "joins took over 600 s"; }
    sleep 0.2
  done
  local t0=$SECONDS c0=() p
  for p in "${node_pids[@]}" "$hpid"; do c0+=("$(ticks "$p")"); done
  until grep -q '^== w1 ==' "$WORK/err"; do
    kill -0 "$lpid" 2>/dev/null || break
    [ "$SECONDS" -lt "$deadline" ] || { kill "$lpid"; die "W1 did not end in time"; }
    sleep 0.2
  done
  local secs=$((SECONDS - t0)); [ "$secs" -gt 0 ] || secs=1
  local usage="" k=0 name
  for p in "${node_pids[@]}" "$hpid"; do
    name="n$((k + 1))"; [ "$p" = "$hpid" ] && name=haproxy
    usage+="$name $(awk -v a="${c0[$k]}" -v b="$(ticks "$p")" -v hz="$HZ" -v s="$secs" \
      'BEGIN { printf "%.0f", 100 * (b - a) / hz / s }') % CPU, peak RSS $(peak_rss_mib "$p") MiB; "
    k=$((k + 1))
  done
  wait "$lpid" || say "peercircle-load exited with $?"
  grep -E '^\[w1\]' "$WORK/err" >&2 || true
  local result; result="$(sed -n 's/^RESULT //p' "$WORK/out")"
  [ -n "$result" ] || { cat "$WORK/err" >&2; die "no RESULT from the cluster run"; }
  local owners
  owners="$(psql "$db" -w -Atc "SELECT string_agg(n || ' ' || c, ', ') FROM (SELECT node_id AS n, count(*) AS c FROM session_lease GROUP BY 1 ORDER BY 1) x" 2>/dev/null || echo '?')"
  echo "CLUSTER run $run: $(summarise "$result")"
  echo "CLUSTER run $run: ${usage}sessions run per node: ${owners}"
  echo "$result" >>"$WORK/cluster.json"
  cleanup
}

run_single() {
  local run="$1"
  "$LOAD" --spawn "$BIN" w1 --sessions "$SESSIONS" --size "$SIZE" \
    --duration "$DURATION" --warmup "$WARMUP" >"$WORK/out" 2>"$WORK/err" &
  local lpid=$!; PIDS+=("$lpid")
  wait "$lpid" || say "peercircle-load exited with $?"
  PIDS=()
  grep -E '^\[w1\]' "$WORK/err" >&2 || true
  local result; result="$(sed -n 's/^RESULT //p' "$WORK/out")"
  [ -n "$result" ] || { cat "$WORK/err" >&2; die "no RESULT from the single-node run"; }
  echo "SINGLE  run $run: $(summarise "$result")"
  echo "SINGLE  run $run: $(jq -r '"node \(.usage.server_cpu_pct) % CPU (measured window), peak RSS \(.usage.server_peak_rss_mib) MiB; load generator \(.usage.loadgen_cpu_pct) % CPU"' <<<"$result")"
  echo "$result" >>"$WORK/single.json"
}

say "W1 ${SESSIONS} × ${SIZE} = $((SESSIONS * SIZE)) sockets, ${WARMUP} s warm-up + ${DURATION} s; ${RUNS} run(s) each; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq "$RUNS"); do
  run_cluster "$run"
  run_single "$run"
done

median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
for kind in cluster single; do
  f="$WORK/$kind.json"
  echo "MEDIAN $kind ($RUNS run(s)): p50 $(jq '.latency.p50_ms' "$f" | median) ms, p99 $(jq '.latency.p99_ms' "$f" | median) ms, max $(jq '.latency.max_ms' "$f" | median) ms; errors (all runs) $(jq -s 'map(.errors | add // 0) | add' "$f"), join failures (all runs) $(jq -s 'map(.join_failed) | add' "$f")"
done
say "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
