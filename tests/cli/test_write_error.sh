# test_write_error.sh — results that cannot be written to stdout (here /dev/full: "No space
# left on device") fail the command with exit 1 and "rh: write error: <cause>" on stderr,
# once: query, exec (rows and --changes), a long result flushed in pieces, status, route,
# help, the REPL from a pipe, and requests a running `rh serve` answers on the client's stdout
# (the service itself goes on and serves the next client normally).
source "$(dirname "$0")/lib.sh"
DB="$T/shop.db"
make_orders "$DB"

# full CMD...: runs CMD with stdout on /dev/full; RC and ERR as run() sets them.
full() {
    "$@" <"${RUN_STDIN:-/dev/null}" >/dev/full 2>"$T/.stderr"
    RC=$?
    ERR=$(cat "$T/.stderr")
    OUT=""
}

expect_write_error() { # what
    expect_rc 1 "$1"
    expect_eq "rh: write error: No space left on device" "$ERR" "$1: one message on stderr"
}

full "$RH" query --db "$DB" "SELECT 1"
expect_write_error "query"
full "$RH" query --db "$DB" --format table "SELECT id FROM orders"
expect_write_error "query, table format"
full "$RH" query --db "$DB" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) SELECT i, 'row ' || i FROM n"
expect_write_error "a result larger than stdio's buffer"
ok "query"

full "$RH" exec --db "$DB" "SELECT customer FROM orders"
expect_write_error "exec printing rows"
full "$RH" exec --db "$DB" --changes "UPDATE orders SET qty = qty + 1 WHERE id = 1"
expect_write_error "exec --changes"
full "$RH" exec --db "$DB" "INSERT INTO orders VALUES (9, 'zed', 1) RETURNING id"
expect_write_error "exec RETURNING"
run "$RH" query --db "$DB" --hint oltp "SELECT count(*) FROM orders WHERE id = 9"
expect_eq "count(*)
1" "$OUT" "the write itself committed"
ok "exec"

full "$RH" status --db "$DB"
expect_write_error "status"
full "$RH" route --db "$DB" "SELECT count(*) FROM orders"
expect_write_error "route"
full "$RH" help query
expect_write_error "help"
full "$RH" --version
expect_write_error "--version"
printf 'SELECT 1;\n' >"$T/script.sql"
RUN_STDIN="$T/script.sql" full "$RH" "$DB"
expect_rc 1 "the REPL from a pipe"
expect_contains "$ERR" "write error: No space left on device" "the REPL says why"
ok "status, route, help, version, REPL"

run "$RH" query --db "$DB" "SELECT 1 AS one"
expect_eq "one
1" "$OUT" "a writable stdout still works"
expect_rc 0 "a writable stdout"

"$RH" serve --db "$DB" --headless --log "$T/serve.log" </dev/null &
SERVE=$!
BG_PIDS+=("$SERVE")
wait_for 30 "serve's local socket" grep -q "local socket=$DB.rh-sock" "$T/serve.log"
full "$RH" query --db "$DB" "SELECT id FROM orders"
expect_write_error "query answered by the service"
full "$RH" exec --db "$DB" --changes "UPDATE orders SET qty = qty + 1 WHERE id = 1"
expect_write_error "exec answered by the service"
full "$RH" status --db "$DB"
expect_write_error "status answered by the service"
run "$RH" query --db "$DB" "SELECT count(*) AS n FROM orders"
expect_rc 0 "the next client of the service"
expect_eq "n
4" "$OUT" "the service serves the next client normally"
expect_eq "" "$ERR" "no stale write error for the next client"
ok "requests served by rh serve"
