# test_local.sh — while `rh serve` owns a database, other rh commands on it (exec, query,
# status, register, the REPL) are served by that process over <db>.rh-sock (created with the
# database file's permissions): writes, DDL and new tables work without stopping the service
# and reads see fresh data; status shows the owner's lag and positions. The socket checks
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
2" "$OUT" "after the service stops, rh works on its own again"
ok "the socket goes with the service"
