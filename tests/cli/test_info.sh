# test_info.sh — `rh info`, `rh --version`, `rh help`: versions of rh, rhei, the linked SQLite
# and DuckDB, the features line, and the effective config with --config / --db.
source "$(dirname "$0")/lib.sh"

run "$RH" info
expect_rc 0 "rh info"
expect_match "$OUT" '^rh +0\.1\.0$' "rh version line"
expect_match "$OUT" '^rhei +0\.1\.0 \(rh built against rhei\.h 0\.1\.0\)$' "rhei version line"
expect_match "$OUT" '^sqlite +3\.[0-9]+\.[0-9]+$' "sqlite version line"
expect_match "$OUT" '^duckdb +v?1\.[0-9]+\.[0-9]+' "duckdb version line"
expect_match "$OUT" '^features +readline [0-9]+\.[0-9]+ .*ncurses [0-9]+\.[0-9.]+ \(dashboard\).*table/csv/json' "features line"
expect_not_contains "$OUT" "config " "no config lines without --config/--db"
ok "info prints versions and features"

run "$RH" --version
expect_rc 0 "rh --version"
expect_eq "rh 0.1.0 (rhei 0.1.0)" "$OUT" "--version output"

run "$RH" help
expect_rc 0 "rh help"
expect_contains "$OUT" "usage: rh COMMAND" "help text"
for c in exec query repl dashboard serve info route status register; do
    expect_contains "$OUT" "rh $c" "help lists $c"
done
ok "help lists every command"

cat >"$T/c.toml" <<TOML
[engine]
oltp_path = "$T/from-config.db"
sync_mode = "history"
TOML
run "$RH" info --config "$T/c.toml"
expect_rc 0 "info --config"
expect_contains "$OUT" "config       oltp_path = $T/from-config.db" "oltp_path from the file"
expect_contains "$OUT" "config       sync_mode = history" "sync_mode from the file"
expect_contains "$OUT" "config       olap_path = :memory:" "a config file's olap_path is kept"

run "$RH" info --config "$T/c.toml" --db "$T/other.db"
expect_contains "$OUT" "config       oltp_path = $T/other.db" "--db overrides oltp_path"

run "$RH" info --db "$T/x.db"
expect_contains "$OUT" "config       olap_path = $T/x.db.duckdb" "default durable olap next to --db"
ok "info shows the effective config"
