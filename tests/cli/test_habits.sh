# test_habits.sh — sqlite3 habits: `rh FILE` / `rh repl FILE [SQL]` with the database as a
# positional argument and a temporary in-memory database when none is named; .read,
# .import (CSV into a replicated table, captured), .output/.once, .headers, .mode
# line/box/markdown/column; script errors name the line; "N rows changed"; rh --version,
# rh help CMD, rh CMD --help and a suggestion for a mistyped command.
source "$(dirname "$0")/lib.sh"
DB="$T/shop.db"
make_orders "$DB"

run "$RH" "$DB" "SELECT count(*) AS n FROM orders"
expect_rc 0 "rh FILE SQL"
expect_eq "n
3" "$OUT" "rh FILE SQL runs the SQL on FILE"
run "$RH" repl "$DB" "SELECT customer FROM orders WHERE id = 2"
expect_eq "customer
bob" "$OUT" "rh repl FILE SQL"
printf 'SELECT max(qty) AS m FROM orders;\n' >"$T/q.sql"
RUN_STDIN="$T/q.sql" run "$RH" "$DB"
expect_eq "m
7" "$OUT" "rh FILE with a script on stdin"
ok "the database as a positional argument"

before=$(ls "${TMPDIR:-/tmp}" | grep -c '^rh-mem-')
printf 'CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);\nINSERT INTO t VALUES (1, %s);\nSELECT v FROM t;\nSELECT count(*) AS n FROM t;\n' "'x'" >"$T/mem.sql"
RUN_STDIN="$T/mem.sql" run "$RH" repl
expect_rc 0 "rh repl without a database"
expect_eq "v
x
n
1" "$OUT" "an in-memory database serves reads (OLAP replicated)"
after=$(ls "${TMPDIR:-/tmp}" | grep -c '^rh-mem-')
[ "$before" -eq "$after" ] || fail "the temporary database folder was left behind ($before -> $after)"
ok "no database named: a temporary in-memory one, removed on exit"

cat >"$T/items.csv" <<'CSV'
id,name,price
1,pen,1.5
2,"ink, blue",2
3,"say ""hi""",
CSV
printf '.import %s items\n.mode csv\nSELECT * FROM items ORDER BY id;\n' "$T/items.csv" >"$T/imp.sql"
RUN_STDIN="$T/imp.sql" run "$RH" repl --db "$DB"
expect_rc 0 ".import"
expect_eq 'id,name,price
1,pen,1.5
2,"ink, blue",2
3,"say ""hi""",' "$OUT" ".import created the table from the header and loaded every row"
run "$RH" query --db "$DB" --hint olap "SELECT count(*) AS n, sum(price) AS p FROM items"
expect_eq "n,p
3,3.5" "$OUT" "imported rows are replicated to OLAP"
run "$RH" route --db "$DB" "SELECT count(*) FROM items"
expect_eq "olap: aggregate (table items)" "$OUT" "the new table is registered"
printf 'id,name,price\n4,cap,1\n5,lid\n' >"$T/bad.csv"
printf '.import %s items\n' "$T/bad.csv" >"$T/imp2.sql"
RUN_STDIN="$T/imp2.sql" run "$RH" repl --db "$DB"
expect_rc 1 "a CSV with a short line"
expect_contains "$ERR" "line 3: too few fields; nothing was imported" "the bad line is named"
run "$RH" query --db "$DB" --hint oltp "SELECT count(*) AS n FROM items"
expect_eq "n
3" "$OUT" "a failed import changes nothing"
ok ".import loads CSV into a replicated table, all or nothing"

printf 'SELECT 1 AS one;\nSELECT 2 AS two;\n' >"$T/inner.sql"
cat >"$T/outer.sql" <<SQL
.read $T/inner.sql
.once $T/once.txt
SELECT 3 AS three;
SELECT 4 AS four;
.output $T/all.txt
SELECT 5 AS five;
.headers off
SELECT 6 AS six;
.output
SELECT 7 AS seven;
SQL
RUN_STDIN="$T/outer.sql" run "$RH" repl --db "$DB"
expect_rc 0 ".read, .once, .output"
expect_eq "one
1
two
2
four
4
7" "$OUT" "stdout got what was not redirected (headers still off)"
expect_eq "three
3" "$(cat "$T/once.txt")" ".once took the next result only"
expect_eq "five
5
6" "$(cat "$T/all.txt")" ".output took every result until .output; .headers off"
ok ".read, .output, .once, .headers"

printf '.mode line\nSELECT 1 AS id, %s AS name;\n.mode box\nSELECT 1 AS id, %s AS name;\n.mode markdown\nSELECT 1 AS id, %s AS name;\n.mode column\nSELECT 1 AS id, %s AS name;\n' "'ab'" "'ab'" "'ab'" "'ab'" >"$T/modes.sql"
RUN_STDIN="$T/modes.sql" run "$RH" repl --db "$DB"
expect_eq "  id = 1
name = ab
┌────┬──────┐
│ id │ name │
├────┼──────┤
│  1 │ ab   │
└────┴──────┘
| id | name |
|----|------|
|  1 | ab   |
id  name
--  ----
 1  ab" "$OUT" ".mode line, box, markdown, column"
ok ".mode line, box, markdown, column"

printf 'SELECT 1;\n\nINSERT INTO nosuch\n  VALUES (1);\n' >"$T/err.sql"
RUN_STDIN="$T/err.sql" run "$RH" repl --db "$DB"
expect_rc 1 "a failing script"
expect_contains "$ERR" "rh: near line 3: statement failed:" "the line of the failing statement"
expect_contains "$ERR" "in: INSERT INTO nosuch   VALUES (1)" "the statement"
printf '.read %s\n' "$T/err.sql" >"$T/err2.sql"
RUN_STDIN="$T/err2.sql" run "$RH" repl --db "$DB"
expect_contains "$ERR" "rh: $T/err.sql near line 3:" "a .read file's line"
run "$RH" exec --db "$DB" $'INSERT INTO orders VALUES (20, \'x\', 1);\nINSERT INTO nosuch VALUES (1);'
expect_contains "$ERR" "rh: near line 2: statement failed:" "exec scripts name the line"
ok "script errors name the line and statement"

printf '.changes on\nINSERT INTO orders VALUES (30, %s, 1), (31, %s, 2);\n' "'a'" "'b'" >"$T/ch.sql"
RUN_STDIN="$T/ch.sql" run "$RH" repl --db "$DB"
expect_eq "2 rows changed" "$OUT" ".changes on"
ok "N rows changed"

run "$RH" --version
expect_match "$OUT" '^rh [0-9.]+ \(rhei [0-9.]+\)$' "rh --version"
run "$RH" help query
expect_rc 0 "rh help query"
expect_contains "$OUT" "usage: rh query" "help names the command"
expect_contains "$OUT" "--consistency eventual|strong" "help lists the command's options"
expect_not_contains "$OUT" "--headless" "only that command's options"
run "$RH" exec --help
expect_contains "$OUT" "--changes" "rh exec --help"
run "$RH" exce --db "$DB" "SELECT 1"
expect_rc 2 "a mistyped command"
expect_contains "$ERR" "unknown command 'exce'; did you mean 'exec'?" "nearest command suggested"
ok "--version, help CMD, CMD --help, suggestions"
