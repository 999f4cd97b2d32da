# test_status.sh — `rh status`: sync position and lag (events, ms) and per-table row counts
# on each side. A write made outside rh (sqlite3) shows as lag until an rh process syncs it.
source "$(dirname "$0")/lib.sh"
DB="$T/shop.db"
make_orders "$DB"
"$RH" exec --db "$DB" "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)" || fail "setup"

run "$RH" status --db "$DB"
expect_rc 0 "status"
expect_contains "$OUT" "database     $DB" "database line"
expect_contains "$OUT" "olap         $DB.duckdb" "olap line"
expect_contains "$OUT" "sync         this process, on demand" "sync owner line"
expect_match "$OUT" '^lag +0 events, 0\.0 ms$' "no lag after rh exec synced"
expect_match "$OUT" '^head +[0-9]+$' "head line"
expect_match "$OUT" '^applied +[0-9]+$' "applied line"
expect_contains "$OUT" "last error   none" "last error line"
expect_contains "$OUT" "tables       2 registered" "table count"
expect_match "$OUT" '^orders +3 +3$' "orders counted on both sides"
expect_match "$OUT" '^notes +0 +0$' "notes counted on both sides"
ok "status after rh exec"

head=$(printf '%s\n' "$OUT" | sed -n 's/^head *//p')
sqlite3 "$DB" "INSERT INTO orders VALUES (4, 'dave', 3); INSERT INTO notes VALUES (1, 'x');" || fail "sqlite3"
run "$RH" status --db "$DB"
expect_match "$OUT" '^lag +2 events, [0-9]+\.[0-9] ms$' "two unapplied events"
expect_match "$OUT" "^head +$((head + 2))\$" "head moved by two"
expect_match "$OUT" "^applied +$head\$" "applied position unchanged"
expect_match "$OUT" '^orders +4 +3$' "OLTP ahead of OLAP"
ok "status shows lag of writes made outside rh"

run "$RH" status --db "$DB"
expect_match "$OUT" '^lag +0 events' "the previous rh process synced on close"
expect_match "$OUT" '^orders +4 +4$' "counts equal again"
ok "lag gone after an rh process closed"

# A sidecar config: status lists followed tables with their watermark.
SRC="$T/source.db"
sqlite3 "$SRC" "CREATE TABLE src_orders (id INTEGER PRIMARY KEY, v TEXT, updated_at TEXT);
  INSERT INTO src_orders VALUES (1, 'a', '2026-11-01 10:00:00');" || fail "sqlite3 source"
cat > "$T/sidecar.toml" <<TOML
[engine]
oltp_path = "$T/local.db"
[sidecar]
source = "sqlite:$SRC"
poll_interval_ms = 0
[[sidecar.tables]]
name = "src_orders"
primary_key = ["id"]
updated_at = "updated_at"
TOML
out=$("$RH" status --config "$T/sidecar.toml") || fail "rh status with a sidecar config"
expect_contains "$out" "sidecar      1 followed tables" "status names the followed tables"
expect_match "$out" '^src_orders +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} +1 +none$' \
    "status shows the watermark and rows applied"
out=$("$RH" query --config "$T/sidecar.toml" "SELECT v FROM src_orders WHERE id = 1") ||
    fail "query of a followed table"
expect_contains "$out" "a" "a followed table is served by OLAP"
ok "sidecar status and query"
