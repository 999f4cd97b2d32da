# test_query.sh — `rh query`: routed reads printed as csv (the default when stdout is not a
# terminal), table (footer names the serving side) or json; --explain and --timer on stderr
# for machine formats; --hint forces a side; a query run as the sync owner first applies what
# other processes committed (sqlite3 here); writes are refused (exit 1).
source "$(dirname "$0")/lib.sh"
DB="$T/shop.db"
make_orders "$DB"

run "$RH" query --db "$DB" "SELECT id, customer FROM orders ORDER BY id"
expect_rc 0 "default format"
expect_eq "id,customer
1,alice
2,bob
3,carol" "$OUT" "csv is the default when stdout is not a terminal"
expect_eq "" "$ERR" "no stderr without --explain/--timer"
ok "csv by default in a pipe"

run "$RH" query --db "$DB" --format table "SELECT id, customer FROM orders WHERE id = 2"
expect_eq " id | customer
----+----------
  2 | bob
(1 row; served by oltp: point lookup)" "$OUT" "table format with side in the footer"
run "$RH" query --db "$DB" --format table --timer "SELECT customer, qty FROM orders ORDER BY id"
expect_match "$OUT" '^\(3 rows; served by olap: full scan sort; [0-9]+\.[0-9]{3} ms\)$' "table footer with --timer"
expect_contains "$OUT" " alice    |   5" "numbers right-aligned"
ok "table format"

run "$RH" query --db "$DB" --format json "SELECT id, customer FROM orders WHERE id <= 2 ORDER BY id"
expect_eq '[
{"id":1,"customer":"alice"},
{"id":2,"customer":"bob"}
]' "$OUT" "json format"
run "$RH" query --db "$DB" --format json "SELECT id FROM orders WHERE id = 99"
expect_eq "[]" "$OUT" "json with no rows"
ok "json format"

run "$RH" query --db "$DB" --hint oltp "SELECT NULL AS a, '' AS b, 'x,y' AS c, 'say \"hi\"' AS d, x'0aff' AS e, 0.1 AS f"
expect_eq 'a,b,c,d,e,f
,"","x,y","say ""hi""",\x0aff,0.1' "$OUT" "csv quoting, NULL vs empty string, blobs, reals"
run "$RH" query --db "$DB" --hint oltp --format json "SELECT NULL AS a, 'a
b' AS b, x'0aff' AS e, 2.5 AS f"
expect_eq '[
{"a":null,"b":"a\nb","e":"\\x0aff","f":2.5}
]' "$OUT" "json escapes, null, blobs, numbers"
ok "values in every format"

run "$RH" query --db "$DB" --explain "SELECT count(*) AS n FROM orders"
expect_eq "n
3" "$OUT" "aggregate result"
expect_eq "served by olap: aggregate" "$ERR" "--explain names the side on stderr"
run "$RH" query --db "$DB" --explain "SELECT customer FROM orders WHERE id = 1"
expect_eq "served by oltp: point lookup" "$ERR" "point lookup stays on SQLite"
run "$RH" query --db "$DB" --explain --hint oltp "SELECT count(*) FROM orders"
expect_eq "served by oltp: hint" "$ERR" "--hint oltp"
run "$RH" query --db "$DB" --explain --hint olap "SELECT customer FROM orders WHERE id = 1"
expect_eq "served by olap: hint" "$ERR" "--hint olap"
expect_eq "customer
alice" "$OUT" "--hint olap result"
run "$RH" query --db "$DB" --timer "SELECT 1 AS one"
expect_match "$ERR" '^time: [0-9]+\.[0-9]{3} ms$' "--timer on stderr"
ok "--explain, --hint, --timer"

sqlite3 "$DB" "INSERT INTO orders VALUES (4, 'dave', 2)" || fail "sqlite3 write"
run "$RH" query --db "$DB" --explain "SELECT count(*) AS n FROM orders"
expect_eq "n
4" "$OUT" "the first query after a write made outside rh sees it (the owner syncs first)"
expect_eq "served by olap: aggregate" "$ERR" "read from the DuckDB file"
sqlite3 "$DB" "DELETE FROM orders WHERE id = 4; INSERT INTO orders VALUES (4, 'dave', 3)" ||
    fail "sqlite3 write"
run "$RH" query --db "$DB" --hint olap "SELECT qty FROM orders WHERE id = 4"
expect_eq "qty
3" "$OUT" "and so does an eventual OLAP read"
ok "a one-shot query applies what other processes committed"

sqlite3 "$DB" "INSERT INTO orders VALUES (5, 'erin', 2)" || fail "sqlite3 write"
run "$RH" query --db "$DB" --hint olap --consistency strong "SELECT count(*) AS n FROM orders"
expect_eq "n
5" "$OUT" "strong OLAP read sees every earlier commit"
ok "--consistency strong"

run "$RH" query --db "$DB" "SELECT 1 AS a; SELECT 2 AS b"
expect_eq "a
1
b
2" "$OUT" "each statement prints its own result"
ok "several statements"

run "$RH" query --db "$DB" "DELETE FROM orders"
expect_rc 1 "a write through query"
expect_contains "$ERR" "use \`rh exec\` for writes and DDL" "write refused with advice"
run "$RH" query --db "$DB" --hint oltp "SELECT count(*) AS n FROM orders"
expect_eq "n
5" "$OUT" "the refused write did not run"
run "$RH" query --db "$DB" "SELECT nosuchcol FROM orders WHERE id = 1"
expect_rc 1 "SQL error"
expect_match "$ERR" "^rh: query failed: .*nosuchcol" "SQL error message"
ok "writes and bad SQL exit 1"

sqlite3 "$DB" "INSERT INTO orders VALUES (6, 'fay', 1)" || fail "sqlite3 write"
run "$RH" "$DB" "SELECT count(*) AS n FROM orders"
expect_eq "n
6" "$OUT" "rh FILE \"SQL\" (the shell, one statement) sees a write made outside rh"
ok "the shell as owner applies what other processes committed"
