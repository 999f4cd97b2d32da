# test_repl_txn.sh — `rh repl` fed many `BEGIN; ...; COMMIT;` and `BEGIN; ...; ROLLBACK;`
# blocks from a pipe, with background sync every 5 ms and both cores kept busy: no block is
# split (every COMMIT and ROLLBACK succeeds), committed blocks are whole and rolled-back
# ones absent in SQLite and in OLAP.
source "$(dirname "$0")/lib.sh"
BLOCKS=${RH_TXN_BLOCKS:-600}

cat >"$T/rh.toml" <<TOML
[engine]
oltp_path = "$T/t.db"
sync_interval_ms = 5
TOML
cat >"$T/setup.sql" <<'SQL'
CREATE TABLE t (id INTEGER PRIMARY KEY, blk INTEGER, v INTEGER);
SQL
RUN_STDIN="$T/setup.sql" run "$RH" repl --config "$T/rh.toml"
expect_rc 0 "create and register t"

# Block b inserts 3 rows (ids 3b..3b+2) and updates one; every third block rolls back.
awk -v n="$BLOCKS" 'BEGIN {
    for (b = 0; b < n; b++) {
        print "BEGIN;";
        for (j = 0; j < 3; j++) printf "INSERT INTO t VALUES (%d, %d, %d);\n", 3*b+j, b, j;
        printf "UPDATE t SET v = v + 10 WHERE id = %d;\n", 3*b;
        print (b % 3 == 2) ? "ROLLBACK;" : "COMMIT;";
    }
    print ".sync";
}' >"$T/blocks.sql"

for i in 1 2; do
    (while :; do :; done) &
    BG_PIDS+=($!)
done
RUN_STDIN="$T/blocks.sql" run "$RH" repl --config "$T/rh.toml"
for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null; done
BG_PIDS=()
expect_rc 0 "every statement of every block succeeds"
expect_not_contains "$ERR" "no transaction is active" "no block was ended by someone else"

want_rows=$(( BLOCKS - BLOCKS / 3 ))
want_rows=$(( want_rows * 3 ))
cat >"$T/check.sql" <<'SQL'
.mode csv
.hint oltp
SELECT count(*), sum(v), count(DISTINCT blk), sum(blk % 3 = 2) FROM t;
.hint olap
.consistency strong
SELECT count(*), sum(v), count(DISTINCT blk), sum(blk % 3 = 2) FROM t;
SQL
RUN_STDIN="$T/check.sql" run "$RH" repl --config "$T/rh.toml"
expect_rc 0 "read both sides"
kept=$(( BLOCKS - BLOCKS / 3 ))
line="$want_rows,$(( kept * 13 )),$kept,0"
expect_eq 2 "$(printf '%s\n' "$OUT" | grep -cx -- "$line")" "sqlite and olap both hold exactly the committed blocks ($line)"
ok "$BLOCKS blocks through rh repl under load: none split"
