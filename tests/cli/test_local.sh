# test_local.sh — while `rh serve` owns a database, other rh commands on it (exec, query,
# status, register, route, the REPL with its catalog dot commands and .import, the dashboard)
# are served by that process over <db>.rh-sock (created with the database file's
# permissions): writes, DDL and new tables work without stopping the service and reads see
# fresh data; status and the dashboard show the owner's lag and positions. The socket checks
# what it reads: garbage, an oversized length or a request without descriptors is dropped
# and the service goes on.
source "$(dirname "$0")/lib.sh"
DB="$T/shop.db"
make_orders "$DB"
chmod 0640 "$DB"

"$RH" serve --db "$DB" --headless --log "$T/serve.log" </dev/null &
SERVE=$!
BG_PIDS+=("$SERVE")
wait_for 30 "serve's local socket" grep -q "local socket=$DB.rh-sock" "$T/serve.log"
[ -S "$DB.rh-sock" ] || fail "no socket next to the database"
expect_eq "640" "$(stat -c %a "$DB.rh-sock")" "the socket has the database file's mode"
ok "serve listens next to the database"

run "$RH" exec --db "$DB" "INSERT INTO orders VALUES (4, 'dave', 4)"
expect_rc 0 "exec through the service"
run "$RH" query --db "$DB" --explain --hint olap "SELECT count(*) AS n FROM orders"
expect_eq "n
4" "$OUT" "the service's OLAP has the write (exec synced it)"
expect_eq "served by olap: hint" "$ERR" "the client's stderr gets the explanation"
run "$RH" exec --db "$DB" "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
    INSERT INTO notes VALUES (1, 'a');
    ALTER TABLE notes ADD COLUMN tag TEXT DEFAULT 'x'"
expect_rc 0 "DDL and a new table without stopping the service"
run "$RH" query --db "$DB" --hint olap "SELECT id, body, tag FROM notes"
expect_eq "id,body,tag
1,a,x" "$OUT" "the new table is replicated by the service"
run "$RH" query --db "$DB" "SELEC 1"
expect_rc 1 "an error through the service"
expect_contains "$ERR" 'near "SELEC": syntax error' "the error reaches the client's stderr"
ok "exec, query and DDL are served by the owner"

sqlite3 "$DB" "CREATE TABLE later (id INTEGER PRIMARY KEY); INSERT INTO later VALUES (7)"
run "$RH" register --db "$DB" later
expect_rc 0 "register through the service"
run "$RH" query --db "$DB" --hint olap --consistency strong "SELECT id FROM later"
expect_eq "id
7" "$OUT" "a table registered through the service replicates"
run "$RH" status --db "$DB"
expect_rc 0 "status through the service"
expect_contains "$OUT" "sync         owned by pid $SERVE (serve), background every" "the owner"
expect_match "$OUT" '^applied +[1-9][0-9]*$' "the owner's applied position"
expect_match "$OUT" '^lag +[0-9]+ events' "the owner's lag"
expect_match "$OUT" '^notes +1 +1$' "OLAP counted by the owner"
ok "register and status are served by the owner"

printf 'INSERT INTO notes (id, body) VALUES (2, %s);\nSELECT count(*) AS n FROM notes;\n' "'b'" >"$T/repl.sql"
RUN_STDIN="$T/repl.sql" run "$RH" repl --db "$DB"
expect_rc 0 "a REPL on a served database"
expect_eq "n
2" "$OUT" "the REPL's read sees its own write on OLAP"
ok "REPL statements are served by the owner"

# rh route: the service routes with its engine (its log names each request it ran)
run "$RH" route --db "$DB" "SELECT count(*) FROM notes"
expect_rc 0 "route through the service"
expect_match "$OUT" '^olap: .*\(table notes\)$' "routed by the service's engine"
wait_for 10 "the service's log line for route" grep -q "local request=route pid=[0-9]* exit=0" "$T/serve.log"
ok "rh route is served by the owner"

# The REPL's dot commands that read the engine run in the service: a guest's copy, taken when
# the REPL started, would not know the table made after it (nor could a guest .import, which
# registers a table, or .sync).
printf 'id,name\n1,ann\n2,"b, c"\n' >"$T/people.csv"
cat >"$T/dots.sql" <<SQL
CREATE TABLE tags (id INTEGER PRIMARY KEY, tag TEXT);
.tables
.route SELECT count(*) FROM tags
.sync
.import $T/people.csv people
.status
.schema people
SQL
RUN_STDIN="$T/dots.sql" run "$RH" repl --db "$DB"
expect_rc 0 "dot commands through the service: $ERR"
expect_match "$OUT" '^tags +replicated$' ".tables knows a table the service registered"
expect_match "$OUT" '^olap: .*\(table tags\)$' ".route by the service's engine"
expect_match "$OUT" '^synced [0-9]+ events' ".sync runs the service's sync"
expect_contains "$OUT" "sync         owned by pid $SERVE (serve), background every" ".status of the owner"
expect_match "$OUT" '^people +2 +2$' ".import replicated by the service (.status counts)"
expect_contains "$OUT" 'CREATE TABLE "people"' ".schema"
run "$RH" query --db "$DB" --hint olap "SELECT id, name FROM people ORDER BY id"
expect_eq 'id,name
1,ann
2,"b, c"' "$OUT" "the imported rows are on OLAP"
for r in dot-command import; do
    grep -q "local request=$r pid=[0-9]* exit=0" "$T/serve.log" || fail "no log line for $r"
done
ok "the REPL's dot commands and .import are served by the owner"

# The same in a terminal: a REPL started before a table exists sees it replicated.
tm_start "bash --norc --noprofile"
tm_line "'$RH' repl --db '$DB'"
tm_wait "statements run there (dot commands here)"
"$RH" exec --db "$DB" "CREATE TABLE later2 (id INTEGER PRIMARY KEY); INSERT INTO later2 VALUES (1)" ||
    fail "exec while a REPL runs"
tm_line ".tables"
tm_wait_re '^later2 +replicated'
tm_line ".route SELECT count(*) FROM later2"
tm_wait_re '^olap: .*\(table later2\)'
tm_line ".mode csv" # the client's settings travel with each statement
tm_line "INSERT INTO later2 VALUES (2);"
tm_line "SELECT count(*) AS n2 FROM later2;"
tm_wait_re '^n2$'
tm_wait_re '^2$'
tm_line ".quit"
ok "a terminal REPL's dot commands are served by the owner"

# rh dashboard on a served database shows the service's state, live: its sync, lag and
# positions, row counts on both sides, and a table whose replication failed.
tm_line "'$RH' dashboard --db '$DB' --refresh 100; echo EXIT=\$?"
tm_wait "sync       owned by pid $SERVE (serve), every 100 ms, running"
tm_wait_re '^notes +2 +2 +0 +0$'
tm_wait_re 'applied [1-9][0-9]* / head [1-9][0-9]*'
# the row counts the service runs for this view are not in its routing line: it stays the
# same while ten more sync cycles (about ten samples with counts) go by
routing_line() { tm_screen | grep '^routing '; }
cycles_now() { tm_screen | sed -n 's/^cycles *\([0-9]*\) .*/\1/p'; }
r1=$(routing_line)
c1=$(cycles_now)
ten_more() { [ "$(cycles_now)" -ge $((c1 + 10)) ]; }
wait_for 30 "ten more sync cycles on the dashboard" ten_more
tm_wait_re '^notes +2 +2 +0 +0$'
expect_eq "$r1" "$(routing_line)" "the dashboard's routing line while only its own counts run"
"$RH" exec --db "$DB" "INSERT INTO notes (id, body) VALUES (3, 'c')" || fail "exec"
tm_wait_re '^notes +3 +3 +0 +0$'
sqlite3 "$DB" "INSERT INTO tags VALUES (1, CAST(x'ff' AS TEXT))" || fail "sqlite3 write"
tm_wait_re "^FAILED +1 table\(s\); 'tags' since change [0-9]+: .*UTF-8"
tm send-keys q
tm_wait "EXIT=0"
[ "$(alt_screen)" = 0 ] || fail "the terminal was left on the alternate screen"
ok "the dashboard shows the service's state"

# untrusted input: each of these is dropped, and the service still answers afterwards
python3 - "$DB.rh-sock" <<'PY' || fail "raw socket client"
import socket, struct, sys
def conn():
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(20); return s
for payload in [b"hello, world", b"RH1Q" + struct.pack(">I", 1 << 31),
                b"RH1Q" + struct.pack(">I", 20) + b"\0" * 16 + b"SELE"]:
    s = conn()
    try:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        assert s.recv(64) == b"", "the service answered a bad request"
    except (ConnectionResetError, BrokenPipeError):
        pass  # dropped with unread bytes: a reset, also no answer
    finally:
        s.close()
PY
run "$RH" query --db "$DB" --hint oltp "SELECT count(*) AS n FROM orders"
expect_eq "n
4" "$OUT" "the service answers after bad requests"
ok "bad requests are dropped"

kill -TERM "$SERVE"
wait "$SERVE"
RC=$?
BG_PIDS=()
expect_rc 0 "serve stops"
[ ! -e "$DB.rh-sock" ] || fail "the socket outlived the service"
run "$RH" query --db "$DB" --hint olap "SELECT count(*) AS n FROM notes"
expect_eq "n
3" "$OUT" "after the service stops, rh works on its own again"
ok "the socket goes with the service"

# Sidecar history while the service runs (issue 13: a read missed versions until it stopped):
# the query is served by the service's OLAP, which holds every version; a guest's private copy
# would hold only the current rows.
SRCDB="$T/source.db"
sqlite3 "$SRCDB" "CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT, updated_at TEXT);
  INSERT INTO src VALUES (1, 'a', '2026-11-01 10:00:00'), (2, 'b', '2026-11-01 10:00:00'),
  (3, 'c', '2026-11-01 10:00:00');" || fail "sqlite3 source"
cat >"$T/history.toml" <<TOML
[engine]
oltp_path = "local.db"
olap_path = "mirror.duckdb"
sync_mode = "history"
[sidecar]
source = "sqlite:$SRCDB"
poll_interval_ms = 100
[[sidecar.tables]]
name = "src"
primary_key = ["id"]
updated_at = "updated_at"
TOML
"$RH" serve --config "$T/history.toml" --headless --log "$T/history.log" </dev/null &
BG_PIDS+=($!)
wait_for 30 "the sidecar service's socket" grep -q "local socket=" "$T/history.log"
sqlite3 "$SRCDB" "UPDATE src SET v = 'a2', updated_at = '2026-11-02 10:00:00' WHERE id = 1" ||
    fail "source update"
versions() {
    [ "$("$RH" query --config "$T/history.toml" --hint olap "SELECT count(*) AS n FROM src_history" | tail -1)" = 4 ]
}
wait_for 30 "4 versions of src (3 rows, one updated) read while the service runs" versions
run "$RH" query --config "$T/history.toml" --hint olap "SELECT v FROM src_history WHERE id = 1 ORDER BY v"
expect_eq "v
a
a2" "$OUT" "both versions of row 1"
ok "sidecar history read while the service runs has every version"
