# test_usage.sh — command-line errors exit 2 with a message on stderr naming the problem;
# nothing is opened or created for them.
source "$(dirname "$0")/lib.sh"

usage_case() { # expected stderr text, args...
    local want=$1
    shift
    run "$RH" "$@"
    expect_rc 2 "rh $*"
    expect_contains "$ERR" "$want" "stderr of rh $*"
    expect_eq "" "$OUT" "stdout of rh $*"
}

usage_case "usage: rh COMMAND"
usage_case "unknown command 'frobnicate'" frobnicate
usage_case "unknown option '--bogus'" query --db "$T/a.db" --bogus "SELECT 1"
usage_case "unknown option '-x'" query -x
usage_case "option '--db' needs a value" query --db
usage_case "invalid value 'sideways' for option '--hint'" query --db "$T/a.db" --hint sideways "SELECT 1"
usage_case "invalid value 'xml' for option '--format'" query --db "$T/a.db" --format xml "SELECT 1"
usage_case "invalid value 'total' for option '--consistency'" query --db "$T/a.db" --consistency total "SELECT 1"
usage_case "option '--timer' takes no value" query --db "$T/a.db" --timer=yes "SELECT 1"
usage_case "option '--timer' does not apply to 'rh exec'" exec --db "$T/a.db" --timer "SELECT 1"
usage_case "option '--headless' does not apply to 'rh query'" query --db "$T/a.db" --headless "SELECT 1"
usage_case "option '--no-register' does not apply to 'rh query'" query --db "$T/a.db" --no-register "SELECT 1"
usage_case "no database: give --db FILE" exec "SELECT 1"
usage_case "exec needs SQL" exec --db "$T/a.db"
usage_case "query needs SQL" query --db "$T/a.db" "  -- only a comment"
usage_case "query takes one SQL argument" query --db "$T/a.db" "SELECT 1" "SELECT 2"
usage_case "route takes one SQL argument" route
usage_case "status takes no arguments" status --db "$T/a.db" extra
usage_case "register needs table names" register --db "$T/a.db"
usage_case "repl takes a database and one SQL argument" repl --db "$T/a.db" "SELECT 1" "SELECT 2"
usage_case "dashboard needs a terminal" dashboard --db "$T/a.db"
usage_case "invalid value '5' for option '--refresh'" dashboard --db "$T/a.db" --refresh 5
ok "usage errors exit 2 with a message"

[ ! -e "$T/a.db" ] || fail "a usage error created the database file"
ok "usage errors open nothing"

# options may come before the command and in --opt=value form
: >"$T/b.db" # an empty file is an empty SQLite database (a read never creates one)
run "$RH" --db="$T/b.db" --format=csv query "SELECT 1 AS one"
expect_rc 0 "options before the command"
expect_eq "one
1" "$OUT" "output with options before the command"
run "$RH" query --db "$T/b.db" -- "SELECT 2 AS two"
expect_rc 0 "-- ends options"
expect_eq "two
2" "$OUT" "output after --"
ok "options anywhere"
