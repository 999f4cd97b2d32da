# test_metrics.sh — `rh serve` with [metrics] port serves /metrics in the Prometheus text
# format (promtool check metrics accepts it) and /healthz; a real Prometheus server (Debian's)
# scrapes it and answers PromQL queries on the sync lag and applied events. Ports are free
# ones picked by the kernel; every wait polls with a bound.
source "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null && command -v prometheus >/dev/null || fail "prometheus not installed (scripts/deps.sh installs it)"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
DB="$T/shop.db"
make_orders "$DB"
MP=$(free_port)
cat >"$T/rhei.toml" <<TOML
[engine]
oltp_path = "shop.db"
olap_path = "shop.db.duckdb"
sync_interval_ms = 50
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
