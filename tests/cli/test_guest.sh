# test_guest.sh — one rh process owns the sync of a file (here a REPL reading a script from
# a FIFO; a `rh serve` owner would serve the others itself, see test_local.sh); the others
# are guests: they read and write SQLite and read a private OLAP copy taken when they open,
# but never sync, so they cannot prune change events the owner has not applied. Registering
# a table as a guest is refused before anything runs.
source "$(dirname "$0")/lib.sh"
DB="$T/shop.db"
make_orders "$DB"

mkfifo "$T/owner.fifo"
"$RH" repl --db "$DB" <"$T/owner.fifo" >/dev/null 2>&1 &
SERVE=$!
BG_PIDS+=("$SERVE")
exec 3>"$T/owner.fifo" # the owner runs until this end closes
wait_for 20 "the owner to start" grep -q "(repl)" "$DB.rh-lock"
expect_contains "$(cat "$DB.rh-lock")" "pid $SERVE (repl)" "the lock file names the owner"

run "$RH" exec --db "$DB" "INSERT INTO orders VALUES (4, 'dave', 4)"
expect_rc 0 "a guest writes"
run "$RH" query --db "$DB" --explain "SELECT count(*) AS n FROM orders"
expect_rc 0 "a guest reads"
expect_eq "n
4" "$OUT" "a guest's OLAP copy includes the write just made"
expect_eq "served by olap: aggregate" "$ERR" "routed to the guest's OLAP copy"
run "$RH" query --db "$DB" --consistency strong --hint olap "SELECT count(*) AS n FROM orders"
expect_eq "n
4" "$OUT" "a strong read as a guest"
ok "guests read and write while another process owns sync"

run "$RH" status --db "$DB"
expect_rc 0 "status as a guest"
expect_contains "$OUT" "sync         owned by pid $SERVE (repl)" "status names the owner"
expect_contains "$OUT" "olap         :memory: (private copy)" "status shows the private copy"
expect_match "$OUT" '^orders +4 +-$' "OLTP counted, the owner's OLAP not visible"
ok "status as a guest"

run "$RH" exec --db "$DB" "CREATE TABLE notes (id INTEGER PRIMARY KEY)"
expect_rc 1 "CREATE TABLE as a guest"
expect_contains "$ERR" "cannot create table 'notes' for replication: sync of '$DB' is owned by pid $SERVE (repl)" "refusal"
expect_eq "" "$(sqlite3 "$DB" "SELECT name FROM sqlite_master WHERE name = 'notes'")" "nothing was created"
run "$RH" exec --db "$DB" --no-register "CREATE TABLE notes (id INTEGER PRIMARY KEY)"
expect_rc 0 "--no-register as a guest"
run "$RH" register --db "$DB" notes
expect_rc 1 "rh register as a guest"
expect_contains "$ERR" "cannot register table 'notes' for replication" "register refused"
ok "guests do not register tables"

printf '.hint\n.sync\nSELECT count(*) AS n FROM orders;\n' >"$T/guest.sql"
RUN_STDIN="$T/guest.sql" run "$RH" repl --db "$DB"
expect_rc 0 "a guest REPL"
expect_eq "oltp
sync is owned by pid $SERVE (repl); this session does not sync
n
4" "$OUT" "a guest REPL reads SQLite by default and does not sync"
ok "guest REPL"

exec 3>&- # end of the owner's script
wait "$SERVE"
RC=$?
BG_PIDS=()
expect_rc 0 "the owner stops"
run "$RH" query --db "$DB" --hint olap "SELECT id FROM orders ORDER BY id"
expect_eq "id
1
2
3
4" "$OUT" "the owner applied the guest's write"
run "$RH" register --db "$DB" notes
expect_rc 0 "rh register once no one else owns sync"
run "$RH" route --db "$DB" "SELECT count(*) FROM notes"
expect_eq "olap: aggregate (table notes)" "$OUT" "registered"
ok "after the owner stops, the next rh process owns sync"
