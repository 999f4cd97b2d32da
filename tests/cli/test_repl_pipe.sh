# test_repl_pipe.sh — `rh repl` with stdin from a pipe: no prompts or banner, statements
# spanning lines until ';', several per line, every dot command, exit code 1 if any statement
# failed (the rest still runs), .quit stops reading.
source "$(dirname "$0")/lib.sh"
DB="$T/shop.db"

cat >"$T/script.sql" <<'SQL'
CREATE TABLE orders (id INTEGER PRIMARY KEY,
                     customer TEXT,
                     qty INTEGER);
INSERT INTO orders VALUES (1, 'alice', 5), (2, 'bob', 7); INSERT INTO orders VALUES (3, 'carol', 1);
CREATE TABLE local (id INTEGER PRIMARY KEY);
.tables
.schema orders
SELECT count(*) AS n
  FROM orders;
.route SELECT count(*) FROM orders
.mode json
SELECT id FROM orders WHERE id = 1;
.mode
.mode table
.hint oltp
.hint
SELECT sum(qty) AS total FROM orders;
.hint auto
.timer on
SELECT 1 AS one;
.timer off
.consistency strong
.sync
.status
.mode csv
SELECT count(*) AS n FROM local
SQL
RUN_STDIN="$T/script.sql" run "$RH" repl --db "$DB" --no-register
expect_rc 0 "a script without errors"
expect_not_contains "$OUT" "rh> " "no prompt in a pipe"
expect_not_contains "$OUT" "Enter .help" "no banner in a pipe"
expect_eq "" "$ERR" "no stderr"
expect_contains "$OUT" "local                    sqlite only
orders                   sqlite only" ".tables with --no-register"
ok "pipe mode: no prompts, --no-register"

RUN_STDIN="$T/script.sql" run "$RH" repl --db "$T/reg.db"
expect_rc 0 "the script again, registering"
expect_contains "$OUT" "local                    replicated
orders                   replicated" ".tables marks replicated tables"
expect_contains "$OUT" "CREATE TABLE orders (id INTEGER PRIMARY KEY,
                     customer TEXT,
                     qty INTEGER);
n
3
olap: aggregate (table orders)
[
{\"id\":1}
]
json
oltp
 total
-------
    13
(1 row; served by oltp: hint)
 one
-----
   1
" ".schema, multi-line SQL, .route, .mode, .hint"
expect_match "$OUT" '^\(1 row; served by oltp: no table; [0-9]+\.[0-9]{3} ms\)$' ".timer on"
expect_match "$OUT" '^synced [0-9]+ events \([0-9]+ inserted, [0-9]+ updated, [0-9]+ deleted\) to position [0-9]+ in [0-9.]+ ms$' ".sync"
expect_contains "$OUT" "sync         this process, background every 100 ms" ".status"
expect_match "$OUT" '^orders +3 +3$' ".status counts"
expect_eq "n
0" "$(printf '%s\n' "$OUT" | tail -2)" "a last statement without ';' still runs"
ok "every dot command in a pipe"

printf '%s\n' ".help" >"$T/help.sql"
RUN_STDIN="$T/help.sql" run "$RH" repl --db "$DB"
for m in .tables .schema .route .sync .status .mode .timer .hint .consistency .help .quit; do
    expect_contains "$OUT" "$m" ".help mentions $m"
done
ok ".help"

cat >"$T/bad.sql" <<'SQL'
SELECT 1 AS before;
SELEC oops;
.nonsense
.mode xml
SELECT * FROM nosuch;
SELECT 2 AS after;
.quit
SELECT 3 AS never;
SQL
RUN_STDIN="$T/bad.sql" run "$RH" repl --db "$DB"
expect_rc 1 "a script with failures"
expect_eq "before
1
after
2" "$OUT" "statements after a failure still run; nothing after .quit"
expect_contains "$ERR" "syntax error" "bad SQL reported"
expect_contains "$ERR" "unknown command '.nonsense': try .help" "bad dot command reported"
expect_contains "$ERR" ".mode expects table | csv | json | line | box | markdown | column; got 'xml'" "bad .mode value"
expect_contains "$ERR" "no such table: nosuch" "missing table reported"
ok "failures give exit code 1"
