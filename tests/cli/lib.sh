# lib.sh — helpers sourced by every tests/cli/test_*.sh: a private temp dir and tmux server
# per test, assertions that print both values, and polling waits with timeouts (never fixed
# sleeps as synchronisation). ctest sets RH (the binary) and RHEI_SOURCE_DIR.
set -u
: "${RH:?RH must name the rh binary (ctest sets it)}"
SRC=${RHEI_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
T=$(mktemp -d "${TMPDIR:-/tmp}/rh-test-XXXXXX")
export RH_HISTORY="$T/history"
TMUX_SOCK="rh-test-$$"
unset TMUX # a test started inside tmux must not talk to the user's server
BG_PIDS=()
CASE=$(basename "$0" .sh)

cleanup() {
    local p
    for p in "${BG_PIDS[@]}"; do
        kill "$p" 2>/dev/null
    done
    tmux -L "$TMUX_SOCK" kill-server 2>/dev/null
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

fail() {
    echo "FAIL [$CASE]: $*" >&2
    if [ -n "${OUT+x}" ]; then
        echo "--- last stdout:" >&2
        printf '%s\n' "$OUT" >&2
        echo "--- last stderr:" >&2
        printf '%s\n' "${ERR:-}" >&2
    fi
    exit 1
}

# Another process writing the file while rh syncs meets SQLite's lock: like any real client
# it waits (busy timeout) instead of failing with "database is locked".
sqlite3() { command sqlite3 -cmd ".timeout 10000" "$@"; }

ok() { echo "ok [$CASE]: $*"; }

# run CMD...: stdout in OUT, stderr in ERR, exit code in RC; stdin from /dev/null unless
# RUN_STDIN names a file.
run() {
    OUT=$("$@" <"${RUN_STDIN:-/dev/null}" 2>"$T/.stderr")
    RC=$?
    ERR=$(cat "$T/.stderr")
}

expect_rc() { # expected, what
    [ "$RC" -eq "$1" ] || fail "$2: exit code: expected $1, got $RC"
}

expect_eq() { # expected, actual, what
    [ "$1" == "$2" ] || fail "$3: expected
[$1]
got
[$2]"
}

expect_contains() { # haystack, needle, what
    [[ "$1" == *"$2"* ]] || fail "$3: expected to contain [$2] in
[$1]"
}

expect_not_contains() { # haystack, needle, what
    [[ "$1" != *"$2"* ]] || fail "$3: expected no [$2] in
[$1]"
}

expect_match() { # haystack, extended regex, what
    printf '%s\n' "$1" | grep -Eq -- "$2" || fail "$3: expected a line matching /$2/ in
[$1]"
}

# wait_for SECONDS DESCRIPTION CMD...: polls CMD until it succeeds or the time is up.
wait_for() {
    local secs=$1 what=$2
    shift 2
    local deadline=$((SECONDS + secs))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || fail "timed out after ${secs}s waiting for: $what"
        sleep 0.1
    done
}

# --- tmux ---------------------------------------------------------------------------------
tm() { tmux -L "$TMUX_SOCK" "$@"; }

# tm_start CMD: a 120x40 pane running CMD under bash (TERM inside tmux is tmux's own).
tm_start() {
    local tries=0
    # a server just killed may still be going away: a bounded number of retries
    until tm -f /dev/null new-session -d -x 120 -y 40 "$1" 2>/dev/null; do
        tries=$((tries + 1))
        [ $tries -lt 50 ] || fail "cannot start tmux"
        sleep 0.1
    done
}

tm_screen() { tm capture-pane -p -J 2>/dev/null; }

# tm_type TEXT: types TEXT literally (a trailing ';' would be a tmux command separator).
tm_type() {
    local s=$1
    if [[ $s == *\; ]]; then
        tm send-keys -l -- "${s%;}"
        tm send-keys -l '\;'
    else
        tm send-keys -l -- "$s"
    fi
}

tm_line() { tm_type "$1"; tm send-keys Enter; }

screen_has() { tm_screen | grep -Fq -- "$1"; }
screen_matches() { tm_screen | grep -Eq -- "$1"; }

# tm_wait TEXT [SECONDS]: waits until the pane shows TEXT.
tm_wait() {
    local deadline=$((SECONDS + ${2:-20}))
    until screen_has "$1"; do
        [ $SECONDS -lt $deadline ] || fail "timed out waiting for [$1] on screen:
$(tm_screen)"
        sleep 0.1
    done
}

# tm_wait_re REGEX [SECONDS]
tm_wait_re() {
    local deadline=$((SECONDS + ${2:-20}))
    until screen_matches "$1"; do
        [ $SECONDS -lt $deadline ] || fail "timed out waiting for /$1/ on screen:
$(tm_screen)"
        sleep 0.1
    done
}

# count_of TEXT: how many screen lines contain TEXT (waits for new prompts, results...).
count_of() { tm_screen | grep -Fc -- "$1"; }

tm_wait_count() { # TEXT N [SECONDS]: at least N lines contain TEXT
    local deadline=$((SECONDS + ${3:-20}))
    until [ "$(count_of "$1")" -ge "$2" ]; do
        [ $SECONDS -lt $deadline ] || fail "timed out waiting for $2 lines with [$1]:
$(tm_screen)"
        sleep 0.1
    done
}

alt_screen() { tm display -p '#{alternate_on}'; }

# wait_unlocked DB: waits until no rh process owns sync of DB (a previous one has exited).
wait_unlocked() { wait_for 30 "the previous owner of $1 to exit" flock -n "$1.rh-lock" true; }

# owner_pid DB: the pid of the rh process that owns sync of DB (from its lock file).
owner_pid() { sed -n 's/^pid \([0-9]*\).*/\1/p' "$1.rh-lock"; }

# An orders table with three rows, created (and registered) through rh.
make_orders() { # db
    "$RH" exec --db "$1" "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT,
        qty INTEGER); INSERT INTO orders VALUES (1, 'alice', 5), (2, 'bob', 7),
        (3, 'carol', 1);" </dev/null || fail "cannot create orders in $1"
}
