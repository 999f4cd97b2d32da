# test_route.sh — `rh route`: the side and reason rhei_explain_route gives, without running
# the statement. Without --db every named table is taken as replicated; with --db the
# database's registered tables decide.
source "$(dirname "$0")/lib.sh"

route_case() { # expected stdout, sql, [extra args]
    local want=$1 sql=$2
    shift 2
    run "$RH" route "$@" "$sql"
    expect_rc 0 "route $sql"
    expect_eq "$want" "$OUT" "route of [$sql]"
}

route_case "olap: aggregate (table orders)" "SELECT count(*) FROM orders"
expect_contains "$ERR" "every table the statement names is taken as replicated" "note without --db"
route_case "oltp: point lookup (table orders)" "SELECT * FROM orders WHERE id = 7"
route_case "olap: join (table orders)" "SELECT * FROM orders o JOIN customers c ON c.id = o.cid"
# a comma list: items must be stubbed too, or it would keep the read on SQLite
route_case "olap: aggregate (table orders)" "SELECT count(*) FROM orders AS o, items i WHERE o.id = i.oid"
route_case "oltp: write (table orders)" "INSERT INTO orders VALUES (1)"
route_case "oltp: ddl" "CREATE TABLE t (id INTEGER PRIMARY KEY)"
route_case "oltp: no table" "SELECT 1"
ok "route without --db"

DB="$T/shop.db"
make_orders "$DB"
"$RH" exec --db "$DB" --no-register "CREATE TABLE local (id INTEGER PRIMARY KEY)" || fail "setup"
route_case "olap: aggregate (table orders)" "SELECT count(*) FROM orders" --db "$DB"
expect_eq "" "$ERR" "no note with --db"
route_case "oltp: table not replicated (table local)" "SELECT count(*) FROM local" --db "$DB"
route_case "oltp: point lookup (table orders)
olap: full scan (table orders)" "SELECT * FROM orders WHERE id = 1; SELECT * FROM orders" --db "$DB"
run "$RH" query --db "$DB" "SELECT count(*) AS n FROM orders"
expect_eq "n
3" "$OUT" "route ran nothing"
ok "route with --db"
