# test_dashboard.sh — `rh dashboard` in tmux while other processes write the same database
# (`rh exec` in a loop, then sqlite3): the row counts on both sides follow; its own polling is
# not in the routing line; a narrow terminal drops whole columns; a resize keeps the
# sparklines' history; `q`, Ctrl-C and SIGTERM each leave with exit code 0 and the terminal
# restored (alternate screen off); a sidecar config shows each followed table's watermark,
# lag and rows.
source "$(dirname "$0")/lib.sh"
DB="$T/shop.db"
make_orders "$DB"

start_dashboard() {
    tm_start "bash --norc --noprofile"
    tm_line "'$RH' dashboard --db '$DB' --refresh 100; echo EXIT=\$?"
    tm_wait "rh dashboard"
    tm_wait "OLAP ROWS"
}

start_dashboard
tm_wait_re '^orders +3 +3 +0 +0$'
tm_wait "sync       this process, every 100 ms, running"
tm_wait "events/s"
tm_wait "cycle us"
tm_wait "last error none"
[ "$(alt_screen)" = 1 ] || fail "the dashboard is not on the alternate screen"
ok "dashboard shows the initial counts"

# its own count(*) polling is not the routing it reports (it used to count itself)
tm_wait "routing    oltp 0   olap 0   fallbacks 0"
n_routing=$(tm_screen | grep -c "routing    oltp 0   olap 0")
[ "$n_routing" -eq 1 ] || fail "routing line missing"
ok "the dashboard's own queries are not in the routing line"

# a narrow terminal drops whole columns from the right instead of wrapping them
tm resize-window -x 40
tm_wait_re '^orders +3$'
tm_wait_re '^TABLE +OLTP ROWS$' 10 # no column cut in the middle
tm resize-window -x 120
tm_wait_re '^orders +3 +3 +0 +0$'
ok "narrow terminals drop columns cleanly"

# The sparklines keep their samples across a resize: right after a narrow-then-wide resize
# the events/s line is as long as before (history reset would leave it nearly empty). The
# sparkline is the run of block characters after the label; 10 samples per second.
spark_len() {
    tm_screen | sed -n 's/^events\/s   \(.*\)  now .*/\1/p' | head -1 | LC_ALL=C.UTF-8 awk '{print length($0)}'
}
long_spark() { [ "$(spark_len)" -ge 40 ]; }
wait_for 30 "40 samples in the sparkline" long_spark
before=$(spark_len)
tm resize-window -x 60
tm resize-window -x 120
tm_wait_re '^orders +3 +3 +0 +0$'
after=$(spark_len)
[ "$after" -ge "$before" ] || fail "the sparkline lost its history on resize: $before -> $after samples"
ok "a resize keeps the sparkline history ($before -> $after samples)"

for i in 4 5 6 7 8; do # a second process writes while the dashboard runs
    "$RH" exec --db "$DB" "INSERT INTO orders VALUES ($i, 'w$i', $i)" </dev/null ||
        fail "rh exec insert $i while the dashboard runs"
done
tm_wait_re '^orders +8 +8 +0 +0$' 30
sqlite3 "$DB" "INSERT INTO orders VALUES (9, 'sqlite3', 1); DELETE FROM orders WHERE id = 1" ||
    fail "sqlite3 write"
tm_wait_re '^orders +8 +8 +0 +0$' 30
sqlite3 "$DB" "INSERT INTO orders VALUES (10, 'sqlite3', 1)" || fail "sqlite3 write"
tm_wait_re '^orders +9 +9 +0 +0$' 30
tm_wait_re 'events applied [1-9][0-9]*' 10
ok "counts follow writes from other processes (rh exec, sqlite3)"

tm send-keys q
tm_wait "EXIT=0"
[ "$(alt_screen)" = 0 ] || fail "the terminal was left on the alternate screen after q"
ok "q leaves with 0 and restores the terminal"

tm send-keys C-l
tm_line "'$RH' dashboard --db '$DB' --refresh 100; echo EXIT2=\$?"
tm_wait_re '^orders +9 +9 +0 +0$'
tm send-keys C-c
tm_wait "EXIT2=0"
[ "$(alt_screen)" = 0 ] || fail "the terminal was left on the alternate screen after Ctrl-C"
ok "Ctrl-C leaves with 0 and restores the terminal"

prev=$(owner_pid "$DB")
tm_line "'$RH' dashboard --db '$DB' --refresh 100; echo EXIT3=\$?"
tm_wait_re '^orders +9 +9 +0 +0$'
new_owner() { local p; p=$(owner_pid "$DB"); [ -n "$p" ] && [ "$p" != "$prev" ]; }
wait_for 10 "the new dashboard's pid in the lock file" new_owner
pid=$(owner_pid "$DB")
expect_contains "$(cat "$DB.rh-lock")" "(dashboard)" "lock file names the dashboard"
kill -TERM "$pid"
tm_wait "EXIT3=0"
[ "$(alt_screen)" = 0 ] || fail "the terminal was left on the alternate screen after SIGTERM"
ok "SIGTERM leaves with 0 and restores the terminal"

run "$RH" query --db "$DB" --hint olap "SELECT count(*) AS n FROM orders"
expect_eq "n
9" "$OUT" "OLAP complete after the dashboard closed"

# A sidecar config: a section with each followed table's watermark (UTC), lag and rows
# applied, following the source live.
SRCDB="$T/source.db"
sqlite3 "$SRCDB" "CREATE TABLE src_orders (id INTEGER PRIMARY KEY, v TEXT, updated_at TEXT);
  INSERT INTO src_orders VALUES (1, 'a', '2026-11-01 10:00:00');" || fail "sqlite3 source"
cat >"$T/sidecar.toml" <<TOML
[engine]
oltp_path = "$T/local.db"
[sidecar]
source = "sqlite:$SRCDB"
poll_interval_ms = 100
[[sidecar.tables]]
name = "src_orders"
primary_key = ["id"]
updated_at = "updated_at"
TOML
tm send-keys C-l
tm_line "'$RH' dashboard --config '$T/sidecar.toml' --refresh 100; echo EXIT4=\$?"
tm_wait "SIDECAR TABLE"
# the watermark is the source time up to which every change is applied: the last poll's
tm_wait_re "^src_orders +$(date -u +%Y-%m-%d) [0-9:]{8} +[0-9]+\.[0-9] +1  ok$"
sqlite3 "$SRCDB" "INSERT INTO src_orders VALUES (2, 'b', '2026-11-02 11:00:00')" || fail "source write"
tm_wait_re '^src_orders +[0-9-]{10} [0-9:]{8} +[0-9]+\.[0-9] +2  ok$'
tm send-keys q
tm_wait "EXIT4=0"
ok "the sidecar section shows watermarks, lag and rows, live"
