#!/usr/bin/env bash
# Makes sure a PostgreSQL server the tests can use is running, and prints its
# admin URL (and nothing else) on standard output. Progress goes to stderr.
#
#   PEERCIRCLE_TEST_PG="$(bash tests/pg.sh)"; export PEERCIRCLE_TEST_PG
#
# (Two statements: `export X="$(…)"` would hide a failure from `set -e`.)
#
# The wanted server is PEERCIRCLE_TEST_PG if set, else
# postgres://postgres@127.0.0.1:5432/postgres (user postgres, trust auth).
#  1. It answers and lets us in: done.
#  2. It does not answer but a Debian cluster is configured on that port:
#     start it with pg_ctlcluster, and use it if it lets us in.
#  3. No PostgreSQL installed: apt-get install postgresql.
#  4. Still nothing usable (e.g. the packaged cluster wants a password):
#     start a throw-away cluster (initdb, trust auth, loopback only, run as
#     the `postgres` user when we are root) on that port, or on the next free
#     one if that port is taken, and print its URL. It keeps running after
#     this script; the command to stop it is printed on stderr.
# Every wait is bounded. Exits non-zero with a message when it cannot help.
set -euo pipefail

say() { printf 'pg.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

url="${PEERCIRCLE_TEST_PG:-postgres://postgres@127.0.0.1:5432/postgres}"
[ "$url" = skip ] && die "PEERCIRCLE_TEST_PG=skip: nothing to start"

# postgres[ql]://[user[:password]@]host[:port][/database][?query]
re='^postgres(ql)?://(([^:@/]+)(:[^@/]*)?@)?([^:/?]+)(:([0-9]+))?(/([^?]*))?(\?.*)?$'
[[ "$url" =~ $re ]] || die "cannot read the PostgreSQL URL in PEERCIRCLE_TEST_PG"
user="${BASH_REMATCH[3]:-postgres}"
host="${BASH_REMATCH[5]}"
port="${BASH_REMATCH[7]:-5432}"

has() { command -v "$1" >/dev/null 2>&1; }

# pg_isready's status: 0 accepting, 1 rejecting (starting up), 2 no answer.
ready() {
  has pg_isready || return 2
  local rc=0
  pg_isready -q -h "$1" -p "$2" -t 3 || rc=$?
  return "$rc"
}

# Can we log in and run a statement at this URL?
usable() { psql "$1" -w -Atqc 'SELECT 1' >/dev/null 2>&1; }

# Waits up to $3 seconds for host $1 port $2 to accept connections.
wait_ready() {
  local deadline=$((SECONDS + $3))
  while [ "$SECONDS" -lt "$deadline" ]; do
    ready "$1" "$2" && return 0
    sleep 0.5
  done
  return 1
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif has sudo; then sudo "$@"
  else die "need root to run: $*"
  fi
}

install_postgresql() {
  say "PostgreSQL is not installed: installing Debian's postgresql"
  as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >&2
}

# The newest installed server binaries (initdb, pg_ctl).
server_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then
    printf '%s\n' "$dir"
  elif has initdb && has pg_ctl; then
    dirname "$(command -v initdb)"
  fi
}

# 1. Already there?
if has pg_isready && has psql && ready "$host" "$port" && usable "$url"; then
  say "PostgreSQL is ready at $host:$port"
  printf '%s\n' "$url"
  exit 0
fi

# 2. A Debian cluster configured on that port but stopped?
if has pg_isready && has pg_lsclusters && has pg_ctlcluster && { [ "$host" = 127.0.0.1 ] || [ "$host" = localhost ]; }; then
  if ! ready "$host" "$port"; then
    cluster="$(pg_lsclusters -h 2>/dev/null | awk -v p="$port" '$3 == p { print $1, $2; exit }')"
    if [ -n "$cluster" ]; then
      say "starting the cluster $cluster on port $port"
      # shellcheck disable=SC2086 # "version name", two words on purpose
      as_root pg_ctlcluster --skip-systemctl-redirect $cluster start >&2 || say "pg_ctlcluster failed"
      wait_ready "$host" "$port" 30 || say "the cluster did not answer within 30 s"
      if ready "$host" "$port" && usable "$url"; then
        say "PostgreSQL is ready at $host:$port"
        printf '%s\n' "$url"
        exit 0
      fi
      # It wants a password (Debian's default for TCP) or would not start:
      # put it back as it was and free the port for a throw-away cluster.
      say "cannot log in to the cluster $cluster as $user; stopping it again"
      # shellcheck disable=SC2086
      as_root pg_ctlcluster --skip-systemctl-redirect $cluster stop >&2 || true
    fi
  fi
fi

# 3. Nothing installed?
if [ -z "$(server_bin)" ] || ! has psql || ! has pg_isready; then
  install_postgresql
  # Installing may have started the packaged cluster on this very port.
  if wait_ready "$host" "$port" 10 && usable "$url"; then
    say "PostgreSQL is ready at $host:$port"
    printf '%s\n' "$url"
    exit 0
  fi
fi
bin="$(server_bin)"
[ -n "$bin" ] || die "no initdb found even after installing PostgreSQL"

# 4. A throw-away cluster. Use the wanted port unless something holds it.
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
throwaway_port="$port"
if port_taken "$throwaway_port"; then
  say "port $port is taken by a server we cannot use; looking for a free port"
  throwaway_port=""
  for p in $(seq $((port + 1)) $((port + 100))); do
    if ! port_taken "$p"; then throwaway_port="$p"; break; fi
  done
  [ -n "$throwaway_port" ] || die "no free port near $port"
fi

dir="$(mktemp -d "${TMPDIR:-/tmp}/peercircle-pg.XXXXXX")"
run_pg() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
  # PostgreSQL refuses to run as root: hand the folder to `postgres`.
  id postgres >/dev/null 2>&1 || useradd --system --home-dir "$dir" --shell /bin/sh postgres
  chown postgres "$dir"
  run_pg() { runuser -u postgres -- "$@"; }
fi
say "starting a throw-away PostgreSQL in $dir on port $throwaway_port"
run_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C \
  --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
run_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $throwaway_port -k $dir -c fsync=off" \
  start >&2 || { cat "$dir/server.log" >&2; die "the throw-away PostgreSQL did not start"; }

new_url="postgres://postgres@127.0.0.1:$throwaway_port/postgres"
wait_ready 127.0.0.1 "$throwaway_port" 30 || die "the throw-away PostgreSQL does not answer"
usable "$new_url" || die "cannot log in to the throw-away PostgreSQL at $new_url"
if [ "$user" != postgres ]; then
  say "note: the throw-away cluster's user is postgres, not $user"
fi
say "ready at $new_url; stop it with: $( [ "$(id -u)" -eq 0 ] && printf 'runuser -u postgres -- ')$bin/pg_ctl -D $dir/data stop"
printf '%s\n' "$new_url"
