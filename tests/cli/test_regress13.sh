# test_regress13.sh — regressions of issue 13's bug list: reals print in their shortest
# round-trip form; a typo gives SQLite's error (not "is a write"); PRAGMA and `rh exec` of
# SELECT/RETURNING print rows; SQL starting with a comment is not an option; reads of a
# missing database fail without creating anything; a failed open leaves no lock file;
# relative paths of a config file resolve against its folder; the Ctrl-C watcher of a query
# costs nothing (the REPL's timer of a point read is far below the old 50 ms tick).
source "$(dirname "$0")/lib.sh"
DB="$T/shop.db"
make_orders "$DB"
"$RH" exec --db "$DB" "CREATE TABLE prices (id INTEGER PRIMARY KEY, p REAL);
    INSERT INTO prices VALUES (1, 109.24), (2, 0.1)" </dev/null || fail "setup prices"

run "$RH" query --db "$DB" --hint oltp "SELECT 1.0/3 AS x, p FROM prices ORDER BY id"
expect_eq "x,p
0.3333333333333333,109.24
0.3333333333333333,0.1" "$OUT" "reals in the shortest form (%.16g when %.15g does not read back)"
run "$RH" query --db "$DB" --hint olap "SELECT p FROM prices ORDER BY id"
expect_eq "p
109.24
0.1" "$OUT" "reals from OLAP"
ok "reals print in their shortest round-trip form"

run "$RH" query --db "$DB" "SELEC * FROM orders"
expect_rc 1 "a typo"
expect_contains "$ERR" 'near "SELEC": syntax error' "the SQL error is shown"
expect_not_contains "$ERR" "rh exec" "a typo is not called a write"
run "$RH" query --db "$DB" "PRAGMA table_info(orders)"
expect_rc 0 "PRAGMA through query"
expect_contains "$OUT" "1,customer,TEXT" "PRAGMA rows printed"
run "$RH" query --db "$DB" "PRAGMA user_version = 3"
expect_rc 1 "a PRAGMA assignment is a write"
expect_contains "$ERR" "use \`rh exec\`" "PRAGMA assignment refused"
ok "typos give the SQL error; PRAGMA reads print rows"

run "$RH" exec --db "$DB" "SELECT id, customer FROM orders WHERE id <= 2 ORDER BY id"
expect_rc 0 "exec of a SELECT"
expect_eq "id,customer
1,alice
2,bob" "$OUT" "exec prints a SELECT's rows"
run "$RH" exec --db "$DB" "INSERT INTO orders VALUES (9, 'ivy', 1) RETURNING id, customer"
expect_eq "id,customer
9,ivy" "$OUT" "exec prints RETURNING rows"
run "$RH" query --db "$DB" --hint olap "SELECT customer FROM orders WHERE id = 9"
expect_eq "customer
ivy" "$OUT" "the RETURNING insert was captured and synced"
run "$RH" exec --db "$DB" --changes "UPDATE orders SET qty = qty + 1 WHERE id < 3; DELETE FROM orders WHERE id = 9"
expect_eq "2 rows changed
1 row changed" "$OUT" "--changes"
run "$RH" exec --db "$DB" "PRAGMA table_info(orders)"
expect_contains "$OUT" "0,id,INTEGER" "exec prints PRAGMA rows"
ok "exec prints rows of SELECT, PRAGMA and RETURNING; --changes"

run "$RH" query --db "$DB" $'-- a comment\nSELECT 1 AS one'
expect_rc 0 "SQL starting with a comment"
expect_eq "one
1" "$OUT" "comment-led SQL runs"
run "$RH" exec --db "$DB" $'--note\nSELECT 2 AS two'
expect_eq "two
2" "$OUT" "comment without a blank"
ok "SQL starting with a comment is not an option"

run "$RH" query --db "$T/typo.db" "SELECT 1"
expect_rc 1 "read of a missing database"
expect_contains "$ERR" "cannot open database '$T/typo.db'" "missing database named"
for f in typo.db typo.db.duckdb typo.db.rh-lock; do
    [ ! -e "$T/$f" ] || fail "a read of a missing database created $f"
done
run "$RH" status --db "$T/typo.db"
expect_rc 1 "status of a missing database"
printf 'this is a text file, not a SQLite database; it is long enough to have a header\n' >"$T/text.db"
run "$RH" exec --db "$T/text.db" "SELECT 1"
expect_rc 1 "open of a file that is not a database"
[ ! -e "$T/text.db.rh-lock" ] || fail "a failed open left a lock file"
ok "a missing database is an error; a failed open leaves no lock file"

run "$RH" register --db "$DB" nosuch
expect_rc 1 "register of a missing table"
[ "$(printf '%s\n' "$ERR" | grep -o "cannot register table 'nosuch'" | wc -l)" -eq 1 ] \
    || fail "rh register nosuch should say its message once: $ERR"
ok "rh register says its message once"

mkdir -p "$T/conf" "$T/elsewhere"
printf '[engine]\noltp_path = "rel.db"\nolap_path = "rel.duckdb"\n' >"$T/conf/rhei.toml"
(cd "$T/elsewhere" && "$RH" exec --config ../conf/rhei.toml "CREATE TABLE t (id INTEGER PRIMARY KEY)" </dev/null) \
    || fail "exec with a relative config"
[ -f "$T/conf/rel.db" ] || fail "relative oltp_path did not resolve against the config's folder"
[ -f "$T/conf/rel.duckdb" ] || fail "relative olap_path did not resolve against the config's folder"
[ ! -e "$T/elsewhere/rel.db" ] || fail "relative oltp_path resolved against the working directory"
ok "relative paths of a config file resolve against its folder"

# The Ctrl-C watcher used to wake every 50 ms, and every read waited for its wake-up once
# the watcher thread had started: on an idle machine every read reported >= 50 ms (with both
# cores busy the thread may start too late to wait, so the old code fails this reliably only
# when the machine is not overloaded). Ten point reads in an interactive REPL (SIGINT is
# blocked there, so the watcher runs): their median must be far below the old tick.
tm_start "$RH repl --db '$DB'"
tm_wait "rh> "
tm_line ".timer on"
for i in 1 2 3 4 5 6 7 8 9 10; do
    tm_line "SELECT customer FROM orders WHERE id = 1;"
done
scrollback() { tm capture-pane -p -J -S -1000; }
wait_for 60 "ten timed reads" bash -c "[ \$(tmux -L '$TMUX_SOCK' capture-pane -p -J -S -1000 | grep -c 'point lookup; ') -ge 10 ]"
times=$(scrollback | sed -n 's/.*point lookup; \([0-9.]*\) ms).*/\1/p')
median=$(printf '%s\n' "$times" | sort -n | sed -n 5p)
awk -v m="$median" 'BEGIN { exit !(m < 25) }' \
    || fail "point reads should not wait for a 50 ms watcher tick; median $median ms: $(echo $times)"
tm_line ".quit"
ok "the query watcher costs nothing (median of 10 point reads $median ms; ms: $(echo $times))"

# The README says where `rh` is after `make` (the binary ctest runs is that one).
expect_contains "$(cat "$SRC/README.md")" "the \`rh\` tool at \`build/cli/rh\`" "README names rh's place"
[[ "$RH" == */cli/rh ]] || fail "rh is not at <build>/cli/rh: $RH"
expect_contains "$(cat "$SRC/README.md")" "relative paths (\`oltp_path\`, \`olap_path\`" "README on relative config paths"
ok "README: where rh is after make, relative config paths"
