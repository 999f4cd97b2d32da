#!/usr/bin/env bash
# pg_test.sh — a throwaway PostgreSQL 15 server for the sidecar tests: initdb into a directory,
# serve on a free 127.0.0.1 port, stop and delete it afterwards. Runs the server as the
# `postgres` user when called as root (PostgreSQL refuses to run as root).
#
#   pg_test.sh start DIR [PID]  initdb DIR/data, start; prints the libpq conninfo on stdout.
#                           With PID, a watchdog stops and deletes the server once that process
#                           is gone, however it ended (a crashed or killed test cleans up too).
#   pg_test.sh stop DIR     stops the server (immediately) and deletes DIR
#   pg_test.sh restart DIR  pg_ctl restart (fast), same port
#   pg_test.sh down DIR     stops the server, keeps DIR (for "source unreachable" tests)
#   pg_test.sh up DIR       starts it again on the same port
#   pg_test.sh conninfo DIR prints the conninfo again
#
# PG_BIN overrides the binaries' directory (default: /usr/lib/postgresql/15/bin or pg_config's).
set -euo pipefail

die() { echo "pg_test.sh: $*" >&2; exit 1; }

find_bin() {
    if [[ -n "${PG_BIN:-}" ]]; then echo "$PG_BIN"; return; fi
    for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
        [[ -x "$d/initdb" ]] && { echo "$d"; return; }
    done
    command -v pg_config >/dev/null && { echo "$(pg_config --bindir)"; return; }
    die "no PostgreSQL server binaries found (install the 'postgresql' package or set PG_BIN)"
}

BIN=$(find_bin)
[[ -x "$BIN/initdb" && -x "$BIN/pg_ctl" ]] || die "no initdb/pg_ctl in $BIN"

# Runs a command as the server's owner.
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    local p
    for _ in $(seq 1 200); do
        p=$((20000 + RANDOM % 40000))
        # A refused connection means nobody listens there.
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
    die "no free port found"
}

conninfo() {
    echo "host=127.0.0.1 port=$(cat "$1/port") user=postgres dbname=postgres connect_timeout=5"
}

# Starts the server on the port in DIR/port; 1 if it could not.
try_start() {
    local dir=$1
    as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $(cat "$dir/port") -k $dir -c listen_addresses=127.0.0.1 -c fsync=off \
            -c synchronous_commit=off -c full_page_writes=off -c max_connections=50" \
        start >/dev/null
}

pg_start() {
    try_start "$1" || {
        cat "$1/server.log" >&2 || true
        die "cannot start the server in $1"
    }
}

cmd=${1:-}
dir=${2:-}
[[ -n "$cmd" && -n "$dir" ]] ||
    die "usage: pg_test.sh start|stop|restart|down|up|conninfo DIR [PID]"

case "$cmd" in
start)
    mkdir -p "$dir"
    [[ -e "$dir/data" ]] && die "$dir/data exists already"
    [[ $(id -u) -eq 0 ]] && chown postgres "$dir"
    as_owner "$BIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-locale --no-sync \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    # Another test may take the same free port at the same moment: try a few.
    for attempt in 1 2 3 4 5; do
        free_port >"$dir/port"
        [[ $(id -u) -eq 0 ]] && chown postgres "$dir/port"
        try_start "$dir" && break
        if [[ $attempt -eq 5 ]]; then
            cat "$dir/server.log" >&2 || true
            die "cannot start the server in $dir"
        fi
    done
    if [[ -n "${3:-}" ]]; then
        owner=$3
        # Detached, with no inherited output: the caller's pipe closes when start returns.
        setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; bash "$2" stop "$3"' \
            _ "$owner" "$0" "$dir" </dev/null >/dev/null 2>&1 &
    fi
    conninfo "$dir"
    ;;
stop)
    if [[ -d "$dir/data" ]]; then
        as_owner "$BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
restart)
    as_owner "$BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    pg_start "$dir"
    ;;
down)
    as_owner "$BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
up)
    pg_start "$dir"
    ;;
conninfo)
    conninfo "$dir"
    ;;
*)
    die "unknown command '$cmd'"
    ;;
esac
