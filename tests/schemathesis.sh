#!/usr/bin/env bash
# Checks the running server against its own OpenAPI document
# (/api/openapi.json) with an outside tool, Schemathesis (PyPI): every
# operation, as a signed-in facilitator, with real group, session and
# participant ids for the path parameters (and random ones), positive and
# negative data. It fails on any server error (5xx) and on any answer the
# document does not describe (status, content type, headers, body schema).
#
# Usage: bash tests/schemathesis.sh [PEERCIRCLE_BINARY]
# (default: builds and uses target/debug/peercircle). Bounded in time:
# the three runs have 115 s of budget between them, every wait here is
# bounded too (about 2.5 minutes in all on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${SCHEMATHESIS_VENV:-target/schemathesis-venv}"
if [ ! -x "$VENV/bin/schemathesis" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q 'schemathesis>=4.3,<5'
fi

BIN="${1:-}"
if [ -z "$BIN" ]; then
  cargo build -q --bin peercircle
  BIN=target/debug/peercircle
fi

WORK="$(mktemp -d)"
PID=""
cleanup() {
  if [ -n "$PID" ]; then
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

DB="sqlite://$WORK/peercircle.db"
EMAIL=schemathesis@example.org
PASSWORD=schemathesis-password-1
export PEERCIRCLE_DEMO=false PEERCIRCLE_LOG=warn RUST_LOG=
# Loopback is not rate limited here: Schemathesis signs in and joins often.
export PEERCIRCLE_RATE_LIMIT_LOOPBACK=false
echo "$PASSWORD" | "$BIN" --database "$DB" facilitator add \
  --email "$EMAIL" --name "Schema Tester" --password-stdin >/dev/null

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
"$BIN" --database "$DB" serve --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 300); do
  if curl -fsS "$BASE/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$PID" 2>/dev/null; then cat "$WORK/server.log"; echo "the server exited"; exit 1; fi
  sleep 0.1
done
curl -fsS "$BASE/healthz" >/dev/null

# Sign in, and make a group with a session open now and one who joined, so
# that the path parameters can name things that exist.
json() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }
TOKEN="$(curl -fsS "$BASE/api/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" | json "['token']")"
AUTH="Authorization: Bearer $TOKEN"
GROUP="$(curl -fsS "$BASE/api/groups" -H "$AUTH" -H 'content-type: application/json' \
  -d '{"name":"Schema circle","agreement":"Be kind."}' | json "['id']")"
NOW="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
SESSION="$(curl -fsS "$BASE/api/groups/$GROUP/sessions" -H "$AUTH" -H 'content-type: application/json' \
  -d "{\"starts_at\":\"$NOW\",\"duration_minutes\":120}" | json "[0]['id']")"
PARTICIPANT="$(curl -fsS "$BASE/api/sessions/$SESSION/join" -H 'content-type: application/json' \
  -d '{"name":"Robin","agree":true}' | json "['participant_id']")"

cat >"$WORK/schemathesis.toml" <<EOF
[parameters]
"path.group" = "$GROUP"
"path.session" = "$SESSION"
"path.participant" = "$PARTICIPANT"
EOF

CHECKS="${SCHEMATHESIS_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance}"
run() {
  timeout 150 "$VENV/bin/schemathesis" --config-file "$WORK/schemathesis.toml" run \
    "$BASE/api/openapi.json" --url "$BASE" \
    --checks "$CHECKS" \
    --phases examples,coverage,fuzzing,stateful \
    --workers 2 --seed 4711 --no-color --request-timeout 10 "$@"
}
status=0
# Every operation but deleting and signing out, which would take away the
# group, session and token the others work on…
run --header "$AUTH" --exclude-method DELETE --exclude-path /api/logout \
  --max-examples 40 --max-time 75 || status=$?
# …then the deletions and erasures…
if [ "$status" -eq 0 ]; then
  run --header "$AUTH" --include-method DELETE --max-examples 30 --max-time 25 || status=$?
fi
# …and signing out last, on a token of its own.
if [ "$status" -eq 0 ]; then
  SECOND="$(curl -fsS "$BASE/api/login" -H 'content-type: application/json' \
    -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" | json "['token']")"
  run --header "Authorization: Bearer $SECOND" --include-path /api/logout \
    --max-examples 20 --max-time 15 || status=$?
fi

if [ "$status" -ne 0 ]; then
  echo "--- server log"
  tail -n 50 "$WORK/server.log"
  echo "schemathesis: 0 passed, 1 failed"
  exit "$status"
fi
if grep -q "panicked" "$WORK/server.log"; then
  cat "$WORK/server.log"
  echo "schemathesis: the server panicked"
  exit 1
fi
echo "schemathesis: 1 passed, 0 failed"
