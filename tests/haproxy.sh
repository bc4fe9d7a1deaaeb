#!/usr/bin/env bash
# Makes sure HAProxy (Debian's package) is installed for the cluster test,
# and prints the path of its binary (and nothing else) on standard output.
# Progress goes to stderr.
#
#   PEERCIRCLE_TEST_HAPROXY="$(bash tests/haproxy.sh)"; export PEERCIRCLE_TEST_HAPROXY
#
# The test starts its own haproxy with its own configuration on loopback;
# the packaged service is left as it is. Exits non-zero when it cannot help.
set -euo pipefail

say() { printf 'haproxy.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

find_haproxy() {
  if [ -n "${PEERCIRCLE_TEST_HAPROXY:-}" ] && [ -x "$PEERCIRCLE_TEST_HAPROXY" ]; then
    printf '%s\n' "$PEERCIRCLE_TEST_HAPROXY"; return 0
  fi
  command -v haproxy 2>/dev/null && return 0
  for p in /usr/sbin/haproxy /usr/local/sbin/haproxy; do
    [ -x "$p" ] && { printf '%s\n' "$p"; return 0; }
  done
  return 1
}

if path="$(find_haproxy)"; then
  say "HAProxy is at $path ($("$path" -v 2>/dev/null | head -n 1))"
  printf '%s\n' "$path"
  exit 0
fi

say "HAProxy is not installed: installing Debian's haproxy"
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root to run: $*"
  fi
}
as_root apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq haproxy >&2
path="$(find_haproxy)" || die "haproxy is still missing after apt-get install"
say "HAProxy is at $path"
printf '%s\n' "$path"
