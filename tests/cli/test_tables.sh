# test_tables.sh — `rh register --key` (a table without a declared primary key), `rh resync`
# (a failed table, its rows fixed in SQLite, is copied to OLAP again; `rh status` names the
# command) and `rh unregister`; their errors (unknown table, bad --key, no table named), a
# guest refusing them while another rh process owns the sync, and a running `rh serve` doing
# them for the client.
source "$(dirname "$0")/lib.sh"
DB="$T/shop.db"
make_orders "$DB"
sqlite3 "$DB" "CREATE TABLE events (at INTEGER, kind TEXT, n INTEGER);
    INSERT INTO events VALUES (1, 'a', 10), (2, 'b', 20)" || fail "sqlite3 setup"

run "$RH" register --db "$DB" events
expect_rc 1 "register without a primary key"
expect_contains "$ERR" "has no primary key" "the engine's reason"
expect_contains "$ERR" "rh: name its key columns: rh register --db $DB --key COL[,COL...] events" "the hint names --key"
run "$RH" register --db "$DB" --key "at, kind" events
expect_rc 0 "register --key"
expect_eq "" "$ERR" "register --key is silent"
sqlite3 "$DB" "UPDATE events SET n = 21 WHERE at = 2" || fail "sqlite3 update"
run "$RH" query --db "$DB" --explain "SELECT sum(n) AS s FROM events"
expect_eq "s
31" "$OUT" "rows copied and a later update applied by key"
expect_eq "served by olap: aggregate" "$ERR" "the keyed table is replicated"
run "$RH" register --db "$DB" --key "at,,kind" events
expect_rc 2 "an empty key column"
expect_contains "$ERR" "rh: invalid --key 'at,,kind'" "bad --key"
run "$RH" register --db "$DB" --key "nosuch" orders
expect_rc 1 "a key column that does not exist"
expect_contains "$ERR" "cannot register table 'orders'" "unknown key column refused"
run "$RH" exec --db "$DB" --key id "SELECT 1"
expect_rc 2 "--key only applies to register"
expect_contains "$ERR" "option '--key' does not apply to 'rh exec'" "--key elsewhere"
ok "register --key"

sqlite3 "$DB" "INSERT INTO orders VALUES (4, CAST(x'ff' AS TEXT), 1)" || fail "sqlite3 bad row"
run "$RH" query --db "$DB" --hint oltp "SELECT count(*) AS n FROM orders"
expect_contains "$ERR" "table 'orders' is not replicated" "the catching-up sync reports the failure"
run "$RH" status --db "$DB"
expect_contains "$OUT" "(fix its rows, then: rh resync --db $DB orders)" "status names rh resync"
run "$RH" resync --db "$DB" orders
expect_rc 1 "resync while the bad row is still there"
expect_contains "$ERR" "rh: cannot resync table 'orders', it stays failed" "resync says why"
sqlite3 "$DB" "UPDATE orders SET customer = 'dave' WHERE id = 4" || fail "sqlite3 fix"
run "$RH" resync --db "$DB" orders
expect_rc 0 "resync after the fix"
expect_eq "" "$ERR" "resync is silent"
run "$RH" status --db "$DB"
expect_not_contains "$OUT" "failed " "no failed table any more"
run "$RH" query --db "$DB" --hint olap "SELECT customer FROM orders WHERE id = 4"
expect_eq "customer
dave" "$OUT" "the fixed row is in OLAP"
run "$RH" resync --db "$DB" nosuch
expect_rc 1 "resync of an unknown table"
expect_contains "$ERR" "cannot resync table 'nosuch'" "unknown table"
run "$RH" resync --db "$DB"
expect_rc 2 "resync without a table"
expect_contains "$ERR" "resync needs table names: rh resync --db FILE TABLE..." "usage"
run "$RH" resync --db "$T/none.db" orders
expect_rc 1 "resync of a database that does not exist"
[ -e "$T/none.db" ] && fail "resync created a database"
ok "resync"

run "$RH" unregister --db "$DB" events
expect_rc 0 "unregister"
run "$RH" route --db "$DB" "SELECT count(*) FROM events"
expect_eq "oltp: table not replicated (table events)" "$OUT" "no longer replicated"
expect_eq "2" "$(sqlite3 "$DB" "SELECT count(*) FROM events")" "the SQLite table stays"
run "$RH" unregister --db "$DB" events
expect_rc 1 "unregister twice"
expect_contains "$ERR" "rh: cannot unregister table 'events': it is not replicated" "not replicated"
run "$RH" help unregister
expect_contains "$OUT" "usage: rh unregister --db FILE TABLE..." "rh help unregister"
run "$RH" --help
expect_contains "$OUT" "rh resync --db FILE TABLE..." "usage lists resync"
expect_contains "$OUT" "rh register --db FILE [--key COL[,COL...]] TABLE..." "usage lists --key"
ok "unregister and help"

mkfifo "$T/owner.fifo"
"$RH" repl --db "$DB" <"$T/owner.fifo" >/dev/null 2>&1 &
OWNER=$!
BG_PIDS+=("$OWNER")
exec 3>"$T/owner.fifo"
wait_for 20 "the owner to start" grep -q "(repl)" "$DB.rh-lock"
for cmd in resync unregister; do
    run "$RH" $cmd --db "$DB" orders
    expect_rc 1 "$cmd as a guest"
    expect_contains "$ERR" "cannot $cmd table 'orders' for replication: sync of '$DB' is owned by pid $OWNER (repl)" "$cmd refused"
    expect_not_contains "$ERR" "--no-register" "no advice that does not apply"
done
run "$RH" register --db "$DB" --key at events
expect_rc 1 "register --key as a guest"
expect_contains "$ERR" "cannot register table 'events' for replication" "register refused"
exec 3>&-
wait "$OWNER"
BG_PIDS=()
run "$RH" route --db "$DB" "SELECT count(*) FROM orders"
expect_eq "olap: aggregate (table orders)" "$OUT" "orders is still replicated"
ok "guests refuse them"

"$RH" serve --db "$DB" --headless --log "$T/serve.log" </dev/null &
BG_PIDS+=("$!")
wait_for 30 "serve's local socket" grep -q "local socket=$DB.rh-sock" "$T/serve.log"
run "$RH" register --db "$DB" --key "at,kind" events
expect_rc 0 "register --key through the service"
run "$RH" route --db "$DB" "SELECT count(*) FROM events"
expect_eq "olap: aggregate (table events)" "$OUT" "the service registered it"
run "$RH" resync --db "$DB" events
expect_rc 0 "resync through the service"
run "$RH" resync --db "$DB" nosuch
expect_rc 1 "an unknown table through the service"
expect_contains "$ERR" "cannot resync table 'nosuch'" "the service's error reaches the client"
run "$RH" unregister --db "$DB" events
expect_rc 0 "unregister through the service"
run "$RH" route --db "$DB" "SELECT count(*) FROM events"
expect_eq "oltp: table not replicated (table events)" "$OUT" "the service unregistered it"
wait_for 10 "the service's log lines" grep -q "request=unregister" "$T/serve.log"
expect_contains "$(cat "$T/serve.log")" "request=resync" "resync is logged"
ok "rh serve does them for the client"
