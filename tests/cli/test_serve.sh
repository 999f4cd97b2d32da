# test_serve.sh — `rh serve --headless`: owns sync, fed by writes from other processes;
# one ISO-timestamped log line per event; --pidfile written and removed; SIGHUP reopens the
# --log file; SIGTERM/SIGINT stop gracefully with exit 0 and OLAP equal to OLTP afterwards;
# sync_interval_ms comes from the config (100 ms when 0).
source "$(dirname "$0")/lib.sh"
DB="$T/shop.db"
LOG="$T/serve.log"
PIDF="$T/serve.pid"
make_orders "$DB"
cat >"$T/rhei.toml" <<TOML
[engine]
oltp_path = "$DB"
olap_path = "$DB.duckdb"
sync_interval_ms = 50
TOML

"$RH" serve --config "$T/rhei.toml" --headless --pidfile "$PIDF" --log "$LOG" </dev/null &
SERVE=$!
BG_PIDS+=("$SERVE")
wait_for 20 "the pid file" test -s "$PIDF"
expect_eq "$SERVE" "$(cat "$PIDF")" "pid file content"
wait_for 20 "the serving log line" grep -q "info serving" "$LOG"
expect_match "$(cat "$LOG")" "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z info serving db=$DB olap=$DB.duckdb interval_ms=50 pid=$SERVE\$" "serving line"
ok "serve starts, writes its pid file and logs"

run "$RH" serve --config "$T/rhei.toml" --headless
expect_rc 1 "a second serve on the same database"
expect_contains "$ERR" "already owned by pid $SERVE (serve)" "second serve refused"

for i in $(seq 4 23); do
    "$RH" exec --db "$DB" "INSERT INTO orders VALUES ($i, 'c$i', $i)" </dev/null ||
        fail "rh exec insert $i while serve runs"
done
sqlite3 "$DB" "UPDATE orders SET qty = qty * 2 WHERE id % 3 = 0; DELETE FROM orders WHERE id = 5;" ||
    fail "sqlite3 write"
wait_for 20 "a sync cycle log line" grep -q "info sync cycle events=" "$LOG"
expect_match "$(cat "$LOG")" '^[0-9T:.-]+Z info sync cycle events=[0-9]+ lag_ms=[0-9]+\.[0-9] cycles=[0-9]+ position=[0-9]+ cycle_us=[0-9]+$' "sync cycle line"
ok "writes from other processes are synced and logged"

mv "$LOG" "$LOG.1"
kill -HUP "$SERVE"
wait_for 20 "a new log file after SIGHUP" grep -q "info log reopened" "$LOG"
kill -0 "$SERVE" || fail "serve died on SIGHUP"
"$RH" exec --db "$DB" "INSERT INTO orders VALUES (100, 'after-hup', 1)" </dev/null || fail "insert"
wait_for 20 "sync logged into the new file" grep -q "info sync cycle" "$LOG"
ok "SIGHUP reopens the log file"

sqlite3 "$DB" "INSERT INTO orders VALUES (101, 'last', 1)" || fail "sqlite3 write"
kill -TERM "$SERVE"
wait "$SERVE"
RC=$?
BG_PIDS=()
expect_rc 0 "serve after SIGTERM"
[ ! -e "$PIDF" ] || fail "pid file left behind"
expect_contains "$(cat "$LOG")" "info stopping signal=TERM" "stop logged"
expect_match "$(cat "$LOG")" 'info stopped after a final sync$' "final sync logged"
! grep -v -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z (info|error) ' "$LOG" "$LOG.1" ||
    fail "a log line without timestamp and level"
ok "SIGTERM: exit 0, pid file removed"

run "$RH" query --db "$DB" --hint olap "SELECT id, customer, qty FROM orders ORDER BY id"
expect_rc 0 "olap read"
olap=$OUT
run "$RH" query --db "$DB" --hint oltp "SELECT id, customer, qty FROM orders ORDER BY id"
expect_eq "$OUT" "$olap" "OLAP equals OLTP after serve stopped"
expect_contains "$olap" "101,last,1" "the last write before SIGTERM reached OLAP"
expect_not_contains "$olap" "5,c5," "the delete reached OLAP"
ok "OLAP equals OLTP"

"$RH" serve --db "$DB" --headless </dev/null >"$T/stdout.log" &
SERVE=$!
BG_PIDS+=("$SERVE")
wait_for 20 "serve logging to stdout" grep -q "info serving" "$T/stdout.log"
expect_contains "$(cat "$T/stdout.log")" "interval_ms=100" "default interval when the config says 0"
kill -INT "$SERVE"
wait "$SERVE"
RC=$?
BG_PIDS=()
expect_rc 0 "serve after SIGINT"
expect_contains "$(cat "$T/stdout.log")" "info stopping signal=INT" "SIGINT logged"
ok "SIGINT stops with 0; log on stdout by default"

# A sidecar service logs what its followed tables apply, and a failing source (here: locked
# by another writer past the busy timeout) and its recovery, each once.
SRC="$T/source.db"
LOG2="$T/sidecar.log"
sqlite3 "$SRC" "CREATE TABLE src_orders (id INTEGER PRIMARY KEY, v TEXT, updated_at TEXT);
  INSERT INTO src_orders VALUES (1, 'a', '2026-11-01 10:00:00');" || fail "sqlite3 source"
cat >"$T/sidecar.toml" <<TOML
[engine]
oltp_path = "$T/follower.db"
[sidecar]
source = "sqlite:$SRC"
[[sidecar.tables]]
name = "src_orders"
primary_key = ["id"]
updated_at = "updated_at"
[metrics]
port = $(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
TOML
"$RH" serve --config "$T/sidecar.toml" --headless --log "$LOG2" </dev/null &
SERVE=$!
BG_PIDS+=("$SERVE")
wait_for 20 "the first rows logged" grep -q "info sidecar table=src_orders rows=1 " "$LOG2"
HEALTH="$(sed -n 's|.*metrics url=\(http://[^ ]*\)/metrics.*|\1|p' "$LOG2")/healthz"
health() { echo "$(curl -s -o "$T/health" -w '%{http_code}' "$HEALTH") $(cat "$T/health")"; }
expect_match "$(health)" "^200 ok " "/healthz of a sidecar that follows its source"
mkfifo "$T/hold"
/usr/bin/python3 -c '
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
c.execute("INSERT INTO src_orders VALUES (2, '"'b'"', '"'2026-11-01 10:00:01'"')")
print("held", flush=True)
sys.stdin.read()
c.execute("COMMIT")' "$SRC" <"$T/hold" >"$T/held" &
HOLDER=$!
BG_PIDS+=("$HOLDER")
exec 9>"$T/hold"
wait_for 20 "the source locked" grep -q held "$T/held"
wait_for 30 "the failure logged" grep -q "error sidecar table=src_orders failed: .*locked" "$LOG2"
expect_match "$(health)" "^503 sidecar table 'src_orders' failing: .*locked" \
    "/healthz of a sidecar that cannot read its source"
exec 9>&-
wait "$HOLDER" || fail "the lock holder failed"
wait_for 30 "the recovery logged" grep -q "info sidecar table=src_orders recovered" "$LOG2"
expect_match "$(health)" "^200 ok " "/healthz after the source came back"
wait_for 20 "the row written under the lock logged" \
    test "$(grep -c 'info sidecar table=src_orders rows=1 ' "$LOG2")" -eq 2
expect_eq 1 "$(grep -c 'error sidecar' "$LOG2")" "one failure line for one failure"
kill -TERM "$SERVE"
wait "$SERVE"
RC=$?
BG_PIDS=()
expect_rc 0 "sidecar serve after SIGTERM"
ok "sidecar rows, source failure and recovery are logged"

# A metrics port in use: serve refuses to start, names the port, and does not log a stop
# "after a final sync" it never served for.
python3 -c 'import socket, signal, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
open(sys.argv[1], "w").write(str(s.getsockname()[1])); signal.pause()' "$T/busy.port" &
BG_PIDS+=("$!")
wait_for 20 "a listening socket holding a port" test -s "$T/busy.port"
BUSY=$(cat "$T/busy.port")
printf '[engine]\noltp_path = "%s"\n[metrics]\nport = %s\n' "$DB" "$BUSY" >"$T/busy.toml"
run "$RH" serve --config "$T/busy.toml" --headless --log "$T/busy.log"
expect_rc 1 "serve with its metrics port in use"
expect_contains "$ERR" "cannot serve metrics on 127.0.0.1:$BUSY: Address already in use" \
    "the port and the cause are named"
expect_not_contains "$ERR" "port 0" "no stray line of the HTTP library"
expect_not_contains "$(cat "$T/busy.log")" "stopped after a final sync" "no stop logged for a refused start"
expect_not_contains "$(cat "$T/busy.log")" "serving" "never served"
ok "a busy metrics port refuses the start"
