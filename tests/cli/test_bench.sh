# test_bench.sh — `rh bench` runs bench/'s suite: its options pass through after the command
# word, its usage errors exit 2, and a quick one-workload run (crud, under a second) exits 0
# and writes the JSON the BENCHMARKS.md generator reads; htap writes its series next to it.
source "$(dirname "$0")/lib.sh"

run "$RH" bench --help
expect_rc 0 "rh bench --help"
expect_contains "$OUT" "usage: rh bench [--quick]" "rh bench --help"
expect_contains "$OUT" "sidecar" "workloads listed by rh bench --help"
run "$RH" --help
expect_contains "$OUT" "rh bench [--quick]" "rh --help lists bench"
ok "help"

run "$RH" bench --only frobnicate
expect_rc 2 "rh bench --only frobnicate"
expect_contains "$ERR" "no workload named 'frobnicate'" "stderr of rh bench --only frobnicate"
run "$RH" bench --bogus
expect_rc 2 "rh bench --bogus"
expect_contains "$ERR" "unknown argument '--bogus'" "stderr of rh bench --bogus"
run "$RH" --db "$T/a.db" bench --quick
expect_rc 2 "rh --db FILE bench"
expect_contains "$ERR" "option '--db' does not apply to 'rh bench'" "stderr of rh --db bench"
ok "usage errors exit 2"

run "$RH" bench --quick --only crud --json "$T/r.json"
expect_rc 0 "rh bench --quick --only crud"
expect_contains "$OUT" "crud 225 ops (ops/s)" "the table of a quick crud run"
[ -s "$T/r.json" ] || fail "no JSON at $T/r.json"
run python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["mode"] == "quick" and d["only"] == "crud", d
r = d["rows"][0]
assert r["group"] == "crud" and r["engine"] > 0 and r["skipped"] is False, r
print(len(d["rows"]))' "$T/r.json"
expect_rc 0 "the JSON of a quick crud run parses ($ERR)"
ok "a quick run writes its JSON"

# Without --json the results go to the current folder, never into the source tree rh was
# built from (issue 13: it used to write there wherever it ran from).
mkdir -p "$T/work"
src_before=$(find "$SRC" -maxdepth 2 -name 'rhei-bench.*' -newer "$T/r.json" 2>/dev/null)
(cd "$T/work" && "$RH" bench --quick --only crud >/dev/null 2>"$T/bench.err") ||
    fail "rh bench in another folder: $(cat "$T/bench.err")"
[ -s "$T/work/rhei-bench.json" ] || fail "no ./rhei-bench.json in the current folder"
src_after=$(find "$SRC" -maxdepth 2 -name 'rhei-bench.*' -newer "$T/r.json" 2>/dev/null)
expect_eq "$src_before" "$src_after" "files written into the source tree by rh bench"
ok "without --json the results go to the current folder"

# htap's per-second series goes next to the JSON (for `make bench`: bench/results/, where
# bench/plot_htap.gnuplot reads it), not next to the compiled-in default in the source tree.
src_tsv_before=$(find "$SRC/bench" -name 'htap.tsv' -newer "$T/r.json" 2>/dev/null)
run "$RH" bench --quick --only htap --json "$T/htap/r.json"
expect_rc 0 "rh bench --quick --only htap"
[ -s "$T/htap/htap.tsv" ] || fail "no htap.tsv next to --json $T/htap/r.json"
expect_eq "t_s	phase	tpmC	txn_per_min	fresh_p99_ms	queries	lat_p50_ms" \
    "$(head -1 "$T/htap/htap.tsv")" "the series' header"
expect_eq "$src_tsv_before" "$(find "$SRC/bench" -name 'htap.tsv' -newer "$T/r.json" 2>/dev/null)" \
    "htap.tsv written into the source tree"
ok "htap's series goes next to --json"
