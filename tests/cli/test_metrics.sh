# test_metrics.sh — `rh serve` with [metrics] port serves /metrics in the Prometheus text
# format (promtool check metrics accepts it) and /healthz; a real Prometheus server (Debian's)
# scrapes it and answers PromQL queries on the sync lag and applied events, and on a table
# whose replication failed. The Flight SQL server's calls, bytes and connections are counted
# while a real client (grpc-js, tests/net/node) holds a connection; a sidecar service exports
# each followed table's watermark and lag. Ports are free ones picked by the kernel; every
# wait polls with a bound.
source "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null && command -v prometheus >/dev/null || fail "prometheus not installed (scripts/deps.sh installs it)"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
DB="$T/shop.db"
make_orders "$DB"
MP=$(free_port)
FP=$(free_port)
cat >"$T/rhei.toml" <<TOML
[engine]
oltp_path = "shop.db"
olap_path = "shop.db.duckdb"
sync_interval_ms = 50
flight_port = $FP
[metrics]
port = $MP
TOML
"$RH" serve --config "$T/rhei.toml" --headless --log "$T/serve.log" &
BG_PIDS+=($!)
wait_for 60 "rh serve's metrics endpoint" grep -q "metrics url=http://127.0.0.1:$MP/metrics" "$T/serve.log"
M="http://127.0.0.1:$MP"

sqlite3 "$DB" "INSERT INTO orders VALUES (4, 'dave', 2); UPDATE orders SET qty = 9 WHERE id = 1;
    DELETE FROM orders WHERE id = 2;" || fail "sqlite3 writes"
applied() { curl -sf "$M/metrics" | grep -q '^rhei_sync_events_applied_total{kind="delete"} [1-9]'; }
wait_for 30 "the service to apply the sqlite3 writes" applied
run curl -sf "$M/metrics"
expect_rc 0 "GET /metrics"
printf '%s\n' "$OUT" >"$T/metrics.txt"
expect_match "$OUT" '^rhei_sync_lag_events [0-9]' "lag in events"
expect_match "$OUT" '^rhei_sync_lag_seconds [0-9]' "lag in seconds"
expect_match "$OUT" '^rhei_sync_events_applied_total\{kind="insert"\} [1-9]' "inserts applied"
expect_match "$OUT" '^rhei_sync_events_applied_total\{kind="update"\} [1-9]' "updates applied"
expect_match "$OUT" '^rhei_sync_cycle_duration_seconds_bucket\{le="\+Inf"\} [1-9]' "cycle histogram"
expect_match "$OUT" '^rhei_sync_batches_total [1-9]' "batches"
expect_match "$OUT" '^rhei_table_pending_events\{table="orders"\} 0$' "per-table pending"
expect_match "$OUT" '^rhei_query_duration_seconds_count\{side="olap"\} [0-9]+$' "query latency per side"
run promtool check metrics <"$T/metrics.txt"
expect_rc 0 "promtool check metrics: $OUT $ERR"
ok "/metrics in the Prometheus format, promtool-clean"

run curl -s -o /dev/null -w '%{http_code}' "$M/healthz"
expect_eq "200" "$OUT" "/healthz of a healthy service"
run curl -s -o /dev/null -w '%{http_code}' "$M/nosuch"
expect_eq "404" "$OUT" "unknown path"
run curl -s -o /dev/null -w '%{http_code}' -X POST -d x "$M/metrics"
expect_eq "405" "$OUT" "POST refused"
ok "/healthz, 404, 405"

# A real Prometheus scraping the service every 200 ms.
PP=$(free_port)
cat >"$T/prometheus.yml" <<YML
global:
  scrape_interval: 200ms
  evaluation_interval: 200ms
scrape_configs:
  - job_name: rhei
    static_configs:
      - targets: ["127.0.0.1:$MP"]
YML
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom" \
    --web.listen-address="127.0.0.1:$PP" >"$T/prometheus.log" 2>&1 &
BG_PIDS+=($!)
P="http://127.0.0.1:$PP"
wait_for 60 "prometheus to be ready" curl -sf "$P/-/ready"
has_lag() {
    curl -sf "$P/api/v1/query" --data-urlencode 'query=rhei_sync_lag_events{job="rhei"}' \
        | grep -q '"value":\[[0-9.]*,"0"\]'
}
wait_for 60 "prometheus to scrape rhei_sync_lag_events" has_lag
run curl -sf "$P/api/v1/query" --data-urlencode 'query=sum(rhei_sync_events_applied_total{job="rhei"})'
expect_match "$OUT" '"value":\[[0-9.]+,"([3-9]|[1-9][0-9]+)"\]' "PromQL over the applied events (at least the 3 sqlite3 writes)"
ok "a real Prometheus scrapes rh serve and answers PromQL on the lag"

# Flight SQL: a grpc-js client runs a query and keeps its connection open while we look.
NODE_DIR="$SRC/tests/net/node"
[ -d "$NODE_DIR/node_modules/@grpc/grpc-js" ] || fail "the Flight test clients are not installed (scripts/deps.sh)"
mkfifo "$T/hold"
node --input-type=module -e "
import { Flight } from '$NODE_DIR/harness.mjs';
import { readFileSync, writeFileSync } from 'node:fs';
const fl = new Flight($FP);
const { table } = await fl.query('SELECT id, customer FROM orders ORDER BY id');
writeFileSync('$T/queried', String(table.numRows));
readFileSync('$T/hold'); // until the test opens and closes the fifo
fl.close();
" >"$T/node.log" 2>&1 &
NODE_PID=$!
BG_PIDS+=($NODE_PID)
wait_for 60 "the Flight client's query" test -s "$T/queried"
expect_eq "3" "$(cat "$T/queried")" "rows through Flight"
run curl -sf "$M/metrics"
printf '%s\n' "$OUT" >"$T/metrics2.txt"
expect_match "$OUT" '^rhei_flight_calls_total ([2-9]|[1-9][0-9]+)$' "Flight calls (GetFlightInfo, DoGet)"
expect_match "$OUT" '^rhei_flight_calls_in_flight 0$' "no call in flight after the query"
expect_match "$OUT" '^rhei_flight_sent_bytes_total [1-9][0-9]{2,}$' "bytes sent by Flight"
expect_match "$OUT" '^rhei_flight_received_bytes_total [1-9][0-9]*$' "bytes received by Flight"
expect_match "$OUT" '^rhei_flight_connections [1-9][0-9]*$' "the client's open connection"
run promtool check metrics <"$T/metrics2.txt"
expect_rc 0 "promtool check metrics with Flight: $OUT $ERR"
: >"$T/hold"
wait "$NODE_PID" || fail "the Flight client failed: $(cat "$T/node.log")"
ok "Flight calls, bytes and connections are exported"

# A table whose replication fails (invalid UTF-8 written behind rhei's back): its state, its
# cause, and PromQL over the state.
sqlite3 "$DB" "INSERT INTO orders VALUES (50, CAST(x'ff' AS TEXT), 1)" || fail "sqlite3 bad row"
failed() { curl -sf "$M/metrics" | grep -q '^rhei_table_state{table="orders",state="failed"} 1$'; }
wait_for 30 "the failed state of orders" failed
run curl -sf "$M/metrics"
printf '%s\n' "$OUT" >"$T/metrics3.txt"
expect_match "$OUT" '^rhei_table_state\{table="orders",state="replicated"\} 0$' "not replicated any more"
expect_match "$OUT" '^rhei_table_failure_info\{table="orders",state="failed",cause=".*UTF-8.*"\} 1$' "the cause"
expect_match "$OUT" '^rhei_table_failed_after_position\{table="orders"\} [1-9][0-9]*$' "where it failed"
run promtool check metrics <"$T/metrics3.txt"
expect_rc 0 "promtool check metrics with a failed table: $OUT $ERR"
prom_failed() {
    curl -sf "$P/api/v1/query" --data-urlencode 'query=rhei_table_state{job="rhei",state="failed"} == 1' \
        | grep -q '"table":"orders"'
}
wait_for 60 "prometheus to see the failed table" prom_failed
ok "a failed table's state and cause are exported; PromQL finds it"

# A sidecar service: each followed table's watermark (timestamp and lag) and rows applied.
SRCDB="$T/source.db"
sqlite3 "$SRCDB" "CREATE TABLE src_orders (id INTEGER PRIMARY KEY, v TEXT, updated_at TEXT);
  INSERT INTO src_orders VALUES (1, 'a', '2026-11-01 10:00:00');" || fail "sqlite3 source"
SP=$(free_port)
cat >"$T/sidecar.toml" <<TOML
[engine]
oltp_path = "local.db"
[sidecar]
source = "sqlite:$SRCDB"
poll_interval_ms = 100
[[sidecar.tables]]
name = "src_orders"
primary_key = ["id"]
updated_at = "updated_at"
[metrics]
port = $SP
TOML
"$RH" serve --config "$T/sidecar.toml" --headless --log "$T/sidecar.log" &
BG_PIDS+=($!)
wait_for 60 "the sidecar service's metrics" grep -q "metrics url=" "$T/sidecar.log"
run curl -sf "http://127.0.0.1:$SP/metrics"
printf '%s\n' "$OUT" >"$T/metrics4.txt"
# the watermark is the source time up to which every change is applied (the last poll's)
wm=$(printf '%s\n' "$OUT" | sed -n 's/^rhei_sidecar_watermark_timestamp_seconds{table="src_orders"} //p')
lag=$(printf '%s\n' "$OUT" | sed -n 's/^rhei_sidecar_watermark_lag_seconds{table="src_orders"} //p')
python3 -c 'import sys, time; wm, lag = float(sys.argv[1]), float(sys.argv[2]); now = time.time()
assert now - 120 < wm <= now + 1, (wm, now); assert 0 <= lag < 120, lag' "$wm" "$lag" ||
    fail "watermark $wm and lag $lag are not a recent poll's"
expect_match "$OUT" '^rhei_sidecar_rows_applied_total\{table="src_orders"\} 1$' "rows applied"
run promtool check metrics <"$T/metrics4.txt"
expect_rc 0 "promtool check metrics of a sidecar: $OUT $ERR"
ok "sidecar watermarks and lag per table are exported"
