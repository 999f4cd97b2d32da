# test_repl_tty.sh — `rh repl` in a terminal (tmux): banner and prompts, a statement over
# several lines with the continuation prompt, Ctrl-C clears the line at the prompt, Ctrl-C
# during a long query discards its result and returns to the prompt, history persists in
# $RH_HISTORY across sessions, .quit and Ctrl-D leave with exit code 0 (Ctrl-D without
# drawing the prompt again).
source "$(dirname "$0")/lib.sh"
DB="$T/shop.db"
make_orders "$DB"

tm_start "'$RH' repl --db '$DB'; echo EXIT=\$?; sleep 600"
tm_wait "Enter .help for help."
tm_wait "rh> "
tm_wait "background sync every 100 ms"
ok "banner and prompt"

tm_line "SELECT customer, qty"
tm_wait "..> "
tm_line "FROM orders WHERE id = 2;"
tm_wait "(1 row; served by oltp: point lookup)"
expect_contains "$(tm_screen)" " bob      |   7" "multi-line result in table mode"
ok "statement over two lines"

tm_line "INSERT INTO orders VALUES (4, 'dave', 10);"
tm_line "SELECT count(*) AS n FROM orders;"
tm_wait "(1 row; served by olap: aggregate)"
expect_match "$(tm_screen)" '^ +4$' "a write is synced before the next OLAP read"
ok "writes in the shell, read back from OLAP"

tm_type "SELECT 'unfinished"
tm_wait "rh> SELECT 'unfinished"
tm send-keys C-c
tm_line "SELECT 42 AS answer;"
tm_wait "(1 row; served by oltp: no table)"
expect_match "$(tm_screen)" '^ +42$' "the cleared line did not leak into the next statement"
ok "Ctrl-C at the prompt clears the line"

LONG="WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000000) SELECT count(*) AS big FROM c"
tm_line "SELECT 'started' AS s; $LONG; SELECT 'after' AS a;"
tm_wait_re '^ started$' # the first statement printed its result: the long one is running
tm send-keys C-c
tm_wait "interrupted: the query was cancelled" 60
tm_wait_count "rh> " 6
screen_matches '^ +1000000000000$' && fail "the interrupted query's result was printed"
screen_matches '^ after$' && fail "statements after an interrupted one ran"
tm_line "SELECT 7 AS seven;"
tm_wait " seven"
ok "Ctrl-C cancels a long query and returns to the prompt"

tm_line ".quit"
tm_wait "EXIT=0"
expect_contains "$(cat "$RH_HISTORY")" "SELECT customer, qty
FROM orders WHERE id = 2;" "multi-line statement kept whole in the history file"
expect_contains "$(cat "$RH_HISTORY")" "SELECT 7 AS seven;" "last statement in the history file"
expect_not_contains "$(cat "$RH_HISTORY")" "unfinished" "a cancelled line is not history"
perm=$(stat -c %a "$RH_HISTORY")
expect_eq "600" "$perm" "history file is private"
ok ".quit leaves with 0 and saves history"

tm kill-server
wait_unlocked "$DB"
tm_start "'$RH' repl --db '$DB'; echo EXIT=\$?; sleep 600"
tm_wait "rh> "
tm send-keys Up
tm_wait "rh> .quit"
tm send-keys Up
tm_wait "rh> SELECT 7 AS seven;"
tm send-keys C-c
tm send-keys C-d
tm_wait "EXIT=0"
ok "history persists across sessions; Ctrl-D leaves with 0"

tm kill-server
wait_unlocked "$DB"
tm_start "'$RH' repl --db '$DB'; echo EXIT=\$?; sleep 600"
tm_wait "rh> "
tm_line "SELECT 99 AS last_one;"
tm_wait " last_one"
pid=$(sed -n 's/^pid \([0-9]*\) (repl)$/\1/p' "$DB.rh-lock")
[ -n "$pid" ] || fail "the lock file does not name the repl: $(cat "$DB.rh-lock")"
kill -TERM "$pid"
tm_wait "EXIT=0"
expect_contains "$(cat "$RH_HISTORY")" "SELECT 99 AS last_one;" "history saved on SIGTERM"
ok "SIGTERM leaves the shell cleanly"

# Ctrl-D at the prompt leaves without drawing the prompt again (readline redrew it when the
# line handler was still installed after the end-of-file callback).
tm kill-server
wait_unlocked "$DB"
tm_start "'$RH' repl --db '$DB'; echo EXIT=\$?; sleep 600"
tm_wait "rh> "
tm send-keys C-d
tm_wait "EXIT=0"
expect_eq "1" "$(tm_screen | grep -c '^rh>')" "prompts on screen after Ctrl-D"
expect_eq "EXIT=0" "$(tm_screen | grep -A1 '^rh>' | tail -1)" "the line after the prompt"
ok "Ctrl-D leaves without an extra prompt"
