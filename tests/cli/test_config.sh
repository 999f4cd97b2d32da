# test_config.sh — --config FILE loads a TOML file (rhei_config_load_file) for any command;
# --db overrides its oltp_path; --olap its olap_path; errors name file:line:col.
source "$(dirname "$0")/lib.sh"

cat >"$T/rhei.toml" <<TOML
# test config
[engine]
oltp_path = "$T/cfg.db"
olap_path = "$T/cfg-olap.duckdb"
busy_timeout_ms = 2000
TOML
run "$RH" exec --config "$T/rhei.toml" "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a')"
expect_rc 0 "exec with --config"
[ -f "$T/cfg.db" ] || fail "oltp_path from the config was not used"
[ -f "$T/cfg-olap.duckdb" ] || fail "olap_path from the config was not used"
[ ! -e "$T/cfg.db.duckdb" ] || fail "the default olap path was used despite the config"
run "$RH" query --config "$T/rhei.toml" --hint olap "SELECT v FROM t"
expect_eq "v
a" "$OUT" "query with --config reads the durable OLAP file"
ok "--config sets both sides"

run "$RH" exec --config "$T/rhei.toml" --db "$T/over.db" --olap :memory: "CREATE TABLE u (id INTEGER PRIMARY KEY)"
expect_rc 0 "--db and --olap override the file"
[ -f "$T/over.db" ] || fail "--db did not override oltp_path"
run "$RH" status --config "$T/rhei.toml" --db "$T/over.db" --olap :memory:
expect_contains "$OUT" "olap         :memory:" "--olap overrides olap_path"
ok "--db and --olap override the config file"

printf '[engine]\noltp_path = "x.db"\nbogus_key = 1\n' >"$T/bad.toml"
run "$RH" query --config "$T/bad.toml" "SELECT 1"
expect_rc 1 "unknown key"
expect_contains "$ERR" "rh: cannot load config: $T/bad.toml:3:" "position of the bad key"
expect_contains "$ERR" "bogus_key" "the bad key is named"
printf '[engine]\nsync_mode = "sideways"\n' >"$T/bad2.toml"
run "$RH" status --config "$T/bad2.toml" --db "$T/z.db"
expect_rc 1 "bad value"
expect_contains "$ERR" "sideways" "the bad value is named"
run "$RH" status --config "$T/missing.toml"
expect_rc 1 "missing file"
expect_contains "$ERR" "cannot open '$T/missing.toml'" "missing file named"
printf '[engine]\nsync_mode = "mirror"\n' >"$T/nodb.toml"
run "$RH" status --config "$T/nodb.toml"
expect_rc 2 "config without oltp_path and no --db"
expect_contains "$ERR" "no database" "missing database explained"
ok "config errors"

# the example config in the repository loads (olap in memory there)
run "$RH" info --config "$SRC/config/htap.toml"
expect_rc 0 "config/htap.toml loads"
expect_contains "$OUT" "config       olap_path = :memory:" "htap.toml values"
ok "config/htap.toml loads"

# a path key given a number is an error, not a file named "5" in the working folder
printf '[engine]\noltp_path = 5\n' >"$T/num.toml"
run "$RH" exec --config "$T/num.toml" "CREATE TABLE t (id INTEGER PRIMARY KEY)"
expect_rc 1 "a number as oltp_path"
expect_contains "$ERR" "$T/num.toml:2:1: value of 'engine.oltp_path' must be a string (a path in quotes)" "path keys are strings"
[ ! -e "$T/5" ] && [ ! -e "5" ] || fail "a database named 5 was created"
printf '[log]\nlevel = "info"\n' >"$T/log.toml"
run "$RH" info --config "$T/log.toml"
expect_rc 1 "a [log] table"
expect_contains "$ERR" "unknown table 'log' (expected engine, sidecar, flight or metrics)" "no [log] table"
printf '[engine]\noltp_path = "x.db"\nmetrics_port = 9090\n[metrics]\nport = 9091\n' >"$T/port.toml"
run "$RH" info --config "$T/port.toml"
expect_rc 1 "the metrics port twice"
expect_contains "$ERR" "$T/port.toml:5:1: 'metrics.port' sets the metrics port already set by 'engine.metrics_port' at line 3: give it once" "one metrics port"
ok "path keys are strings, no [log], one metrics port"
