# test_exec.sh — `rh exec`: writes and DDL on SQLite; CREATE TABLE registers the table for
# replication (unless --no-register) and the write is synced before exit, so an OLAP read
# right after sees it; SQL errors exit 1 with the cause on stderr; scripts stop at the first
# failing statement; SQL may come from stdin.
source "$(dirname "$0")/lib.sh"
DB="$T/shop.db"

run "$RH" exec --db "$DB" "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT,
    qty INTEGER); INSERT INTO orders VALUES (1, 'alice', 5), (2, 'bob', 7);"
expect_rc 0 "create and insert"
expect_eq "" "$OUT" "exec prints nothing on success"
expect_eq "" "$ERR" "exec stderr on success"
[ -f "$DB.duckdb" ] || fail "no durable OLAP file $DB.duckdb next to the database"
ok "exec creates the table and the durable OLAP file"

run "$RH" query --db "$DB" --hint olap "SELECT count(*) AS n, sum(qty) AS q FROM orders"
expect_rc 0 "olap read after exec"
expect_eq "n,q
2,12" "$OUT" "OLAP sees the rows written by the previous rh exec"
run "$RH" route --db "$DB" "SELECT count(*) FROM orders"
expect_eq "olap: aggregate (table orders)" "$OUT" "orders is replicated"
ok "CREATE TABLE through rh is registered and synced"

run "$RH" exec --db "$DB" --no-register "CREATE TABLE scratch (id INTEGER PRIMARY KEY, v TEXT);
    INSERT INTO scratch VALUES (1, 'x')"
expect_rc 0 "--no-register"
run "$RH" route --db "$DB" "SELECT count(*) FROM scratch"
expect_eq "oltp: table not replicated (table scratch)" "$OUT" "--no-register keeps it SQLite only"
run "$RH" query --db "$DB" --hint olap "SELECT count(*) FROM scratch"
expect_rc 1 "OLAP has no copy of an unregistered table"
ok "--no-register"

run "$RH" exec --db "$DB" "CREATE TABLE nokey (a TEXT, b TEXT)"
expect_rc 1 "table without a primary key"
expect_contains "$ERR" "table 'nokey' was created but not registered for replication" "stderr"
expect_contains "$ERR" "no primary key" "the engine's reason is passed on"
ok "a table that cannot be registered is an error"

run "$RH" exec --db "$DB" "INSERT INTO nosuch VALUES (1)"
expect_rc 1 "SQL error"
expect_match "$ERR" "^rh: statement failed: .*no such table: nosuch" "SQL error message"
expect_eq "" "$OUT" "stdout on error"
run "$RH" exec --db "$DB" "INSERT INTO orders VALUES (1, 'dup', 1)"
expect_rc 1 "constraint violation"
expect_contains "$ERR" "UNIQUE constraint failed" "constraint message"
ok "SQL errors exit 1 with the cause"

run "$RH" exec --db "$DB" "INSERT INTO orders VALUES (3, 'carol', 1);
    INSERT INTO orders VALUES (3, 'again', 1); INSERT INTO orders VALUES (4, 'dave', 1);"
expect_rc 1 "script with a failing second statement"
run "$RH" query --db "$DB" "SELECT id FROM orders ORDER BY id"
expect_eq "id
1
2
3" "$OUT" "statements before the failure committed, after it did not run"
ok "a script stops at its first failure"

printf 'INSERT INTO orders VALUES (10, %s, 2);\n-- a comment; with a semicolon\nUPDATE orders SET qty = qty + 1 WHERE id = 10;\n' "'from;stdin'" >"$T/script.sql"
RUN_STDIN="$T/script.sql" run "$RH" exec --db "$DB"
expect_rc 0 "SQL from stdin"
run "$RH" query --db "$DB" --hint olap "SELECT customer, qty FROM orders WHERE id = 10"
expect_eq "customer,qty
from;stdin,3" "$OUT" "stdin script applied and synced (quotes and comments kept whole)"
ok "exec reads SQL from stdin"

run "$RH" exec --db "$DB" "CREATE TRIGGER bump AFTER INSERT ON orders BEGIN
    UPDATE orders SET qty = qty * 10 WHERE id = NEW.id; END;
    INSERT INTO orders VALUES (11, 'erin', 2);"
expect_rc 0 "trigger body with inner ';'"
run "$RH" query --db "$DB" "SELECT qty FROM orders WHERE id = 11"
expect_eq "qty
20" "$OUT" "the trigger was created whole and fired"
ok "CREATE TRIGGER bodies are not split at their ';'"

run "$RH" exec --db "$T/mem.db" --olap :memory: "CREATE TABLE t (id INTEGER PRIMARY KEY)"
expect_rc 0 "--olap :memory:"
[ ! -e "$T/mem.db.duckdb" ] || fail "--olap :memory: still wrote $T/mem.db.duckdb"
run "$RH" exec --db "$T/other.db" --olap "$T/elsewhere.duckdb" "CREATE TABLE t (id INTEGER PRIMARY KEY)"
[ -f "$T/elsewhere.duckdb" ] || fail "--olap FILE was not used"
ok "--olap chooses the OLAP side"

# schema changes of a replicated table keep replication in step
DB2="$T/evolve.db"
"$RH" exec --db "$DB2" "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT);
    INSERT INTO items VALUES (1, 'pen')" </dev/null || fail "setup evolve.db"
run "$RH" exec --db "$DB2" "ALTER TABLE items ADD COLUMN qty INTEGER DEFAULT 3;
    INSERT INTO items VALUES (2, 'ink', 5)"
expect_rc 0 "ALTER TABLE ADD COLUMN on a replicated table"
run "$RH" query --db "$DB2" --hint olap "SELECT id, name, qty FROM items ORDER BY id"
expect_eq "id,name,qty
1,pen,3
2,ink,5" "$OUT" "OLAP has the new column, existing rows with the DEFAULT"
run "$RH" exec --db "$DB2" "ALTER TABLE items DROP COLUMN name"
expect_rc 0 "ALTER TABLE DROP COLUMN"
run "$RH" query --db "$DB2" --hint olap "SELECT * FROM items ORDER BY id"
expect_eq "id,qty
1,3
2,5" "$OUT" "OLAP lost the dropped column"
run "$RH" exec --db "$DB2" "ALTER TABLE items RENAME TO things"
expect_rc 1 "rename of a replicated table"
expect_contains "$ERR" "cannot rename table 'items'" "rename refused"
run "$RH" exec --db "$DB2" "DROP TABLE items"
expect_rc 0 "DROP TABLE of a replicated table"
run "$RH" status --db "$DB2"
expect_contains "$OUT" "tables       0 registered" "dropped table unregistered"
run "$RH" exec --db "$DB2" "CREATE TABLE items (id INTEGER PRIMARY KEY, other REAL);
    INSERT INTO items VALUES (7, 1.5)"
expect_rc 0 "re-create a dropped table with another schema"
run "$RH" query --db "$DB2" --hint olap "SELECT * FROM items"
expect_eq "id,other
7,1.5" "$OUT" "the new table replicates"
ok "ALTER ADD/DROP COLUMN and DROP TABLE keep replication in step"
