#!/usr/bin/env bash
# Starts and stops a throwaway PostgreSQL server (Debian's `postgresql` package) on loopback,
# for the store's multi-machine tests.
#
# Usage:
#   scripts/test-postgres.sh start DIR   fresh cluster in DIR/pgdata (wiped first), server on
#                                        127.0.0.1 at a free port, socket in DIR, log in
#                                        DIR/postgres.log, database airlock_test; prints
#                                        postgres://airlock@127.0.0.1:PORT/airlock_test
#                                        (also written to DIR/url)
#   scripts/test-postgres.sh stop DIR    stops it (fast); nothing to do if it is not running
#
# PostgreSQL refuses to run as root: as root, the server runs as the system user airlock-pg
# (created if missing). If that user cannot reach DIR (or the socket path would be too long),
# the cluster lives in a fresh /tmp/airlock-pg.* folder instead and DIR/pgdata and
# DIR/postgres.log are links to it.
#
# Environment: AIRLOCK_PG_BINDIR (the folder with initdb, pg_ctl and postgres; default: the
# highest version under /usr/lib/postgresql/*/bin), AIRLOCK_PG_OS_USER (default airlock-pg).
set -euo pipefail

DB_USER=airlock
DB_NAME=airlock_test
OS_USER="${AIRLOCK_PG_OS_USER:-airlock-pg}"

die() { echo "test-postgres: $*" >&2; exit 1; }

usage() { die "usage: $0 start DIR | stop DIR"; }

find_bindir() {
  local dir="${AIRLOCK_PG_BINDIR:-}"
  if [ -z "$dir" ]; then
    dir="$(shopt -s nullglob; printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  fi
  local tool
  for tool in initdb pg_ctl postgres createdb; do
    if [ -z "$dir" ] || [ ! -x "$dir/$tool" ]; then
      die "PostgreSQL server binaries not found (no ${dir:-/usr/lib/postgresql/*/bin}/$tool); install Debian's postgresql package (apt-get install postgresql) or set AIRLOCK_PG_BINDIR"
    fi
  done
  echo "$dir"
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# as_user USER CMD...: runs CMD as USER when root (from / so that the cwd need not be
# readable by USER), else as the current user.
as_user() {
  local user="$1"; shift
  if is_root && [ "$user" != root ]; then
    (cd / && runuser -u "$user" -- "$@")
  else
    "$@"
  fi
}

ensure_os_user() {
  if ! id -u "$OS_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$OS_USER" \
      || die "could not create the system user $OS_USER"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# stop_cluster PGDATA MODE BINDIR SECONDS: stops the server of PGDATA if one runs (0 when
# none runs); 1 when it does not stop within SECONDS.
stop_cluster() {
  local pgdata="$1" mode="$2" bindir="$3" seconds="$4" owner
  [ -d "$pgdata" ] || return 0
  owner="$(stat -c %U "$pgdata")"
  if as_user "$owner" "$bindir/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
    as_user "$owner" "$bindir/pg_ctl" -D "$pgdata" -m "$mode" -w -t "$seconds" stop >/dev/null || return 1
  fi
}

cmd_start() {
  local dir="$1" bindir run user port url started=0
  bindir="$(find_bindir)"
  command -v python3 >/dev/null || die "python3 is needed to pick a free port"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd -P)"

  # A server left over from an earlier start goes first, then its files.
  local old
  old="$(readlink -f "$dir/pgdata" 2>/dev/null || true)"
  if [ -n "$old" ] && [ -d "$old" ]; then
    # A server killed outright leaves a stale postmaster.pid (and, until reaped, a zombie
    # that looks alive): give up after a few seconds and wipe anyway.
    stop_cluster "$old" immediate "$bindir" 5 2>/dev/null || true
    rm -rf "$old"
  fi
  case "$old" in
    /tmp/airlock-pg.*/pgdata) rm -rf "${old%/pgdata}" ;;
  esac
  rm -rf "$dir/pgdata" "$dir/postgres.log" "$dir/initdb.log" "$dir/url"

  user="$(id -un)"
  if is_root; then
    ensure_os_user
    user="$OS_USER"
    chown "$user" "$dir"
  fi

  run="$dir"
  # Unix socket paths are limited to 107 bytes ("$run/.s.PGSQL.65535").
  if ! as_user "$user" test -x "$run" -a -w "$run" || [ $(( ${#run} + 18 )) -gt 100 ]; then
    run="$(mktemp -d /tmp/airlock-pg.XXXXXX)"
    chmod 755 "$run"
    is_root && chown "$user" "$run"
    ln -s "$run/pgdata" "$dir/pgdata"
    ln -s "$run/postgres.log" "$dir/postgres.log"
  fi

  if ! as_user "$user" "$bindir/initdb" -D "$run/pgdata" --locale=C --encoding=UTF8 \
      --auth=trust --username="$DB_USER" --no-sync >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    die "initdb failed (see $dir/initdb.log)"
  fi

  # The port is free when picked; another process may take it before the server binds, so
  # retry a few times.
  for _ in 1 2 3; do
    port="$(free_port)"
    if as_user "$user" "$bindir/pg_ctl" -D "$run/pgdata" -w -t 60 -l "$run/postgres.log" start \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $(printf %q "$run") -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        >/dev/null 2>&1; then
      started=1
      break
    fi
    stop_cluster "$run/pgdata" immediate "$bindir" 5 2>/dev/null || true
  done
  if [ "$started" -ne 1 ]; then
    tail -n 20 "$run/postgres.log" >&2 2>/dev/null || true
    die "could not start postgres (see $dir/postgres.log)"
  fi

  if ! "$bindir/createdb" -h 127.0.0.1 -p "$port" -U "$DB_USER" "$DB_NAME"; then
    stop_cluster "$run/pgdata" fast "$bindir" 30 || true
    die "could not create database $DB_NAME"
  fi

  url="postgres://$DB_USER@127.0.0.1:$port/$DB_NAME"
  echo "$url" >"$dir/url"
  echo "$url"
}

cmd_stop() {
  local dir="$1" bindir pgdata
  [ -e "$dir/pgdata" ] || return 0
  bindir="$(find_bindir)"
  pgdata="$(readlink -f "$dir/pgdata")"
  stop_cluster "$pgdata" fast "$bindir" 60 || die "the server of $pgdata did not stop"
}

[ $# -eq 2 ] || usage
case "$1" in
  start) cmd_start "$2" ;;
  stop) cmd_stop "$2" ;;
  *) usage ;;
esac
