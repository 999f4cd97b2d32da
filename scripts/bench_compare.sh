#!/usr/bin/env bash
# bench_compare.sh — the write path before and after a change, measured in the same run:
# builds REV (default: the commit before the trust work, 683012d) and HEAD in private
# worktrees (so rebuilding build/ meanwhile changes nothing) and runs both builds' insert and
# crud workloads alternately, ROUNDS times, then prints medians.
# Usage: scripts/bench_compare.sh [REV] [ROUNDS]   (needs `make build` done; ~15 min)
set -euo pipefail
cd "$(dirname "$0")/.."
REV=${1:-683012d}
HEAD_REV=$(git rev-parse --short HEAD) # what "after" builds, even if HEAD moves meanwhile
ROUNDS=${2:-5}
[ -f build/CMakeCache.txt ] || { echo "bench_compare: build first (make build)" >&2; exit 2; }

T=$(mktemp -d "${TMPDIR:-/tmp}/rhei-compare-XXXXXX")
cleanup() {
    git worktree remove --force "$T/old" >/dev/null 2>&1 || true
    git worktree remove --force "$T/new" >/dev/null 2>&1 || true
    rm -rf "$T"
}
trap cleanup EXIT

TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' build/CMakeCache.txt)
for side in old new; do
    rev=$REV
    [ $side = new ] && rev=$HEAD_REV
    git worktree add -q --detach "$T/$side" "$rev"
    echo "building $side ($rev, $TYPE) in $T ..." >&2
    cmake -S "$T/$side" -B "$T/build-$side" -DCMAKE_BUILD_TYPE="$TYPE" \
        -DDUCKDB_ROOT="$(pwd)/third_party/duckdb" >/dev/null
    cmake --build "$T/build-$side" -j2 --target rhei_bench >/dev/null
done
OLD="$T/build-old/bench/rhei_bench"
NEW="$T/build-new/bench/rhei_bench"

# Alternating old/new in each round puts both under the same load drift.
for ((i = 1; i <= ROUNDS; i++)); do
    for w in insert crud; do
        echo "round $i/$ROUNDS: $w" >&2
        "$OLD" --only "$w" --json "$T/old-$w-$i.json" >/dev/null
        "$NEW" --only "$w" --json "$T/new-$w-$i.json" >/dev/null
    done
done

/usr/bin/python3 - "$T" "$REV" "$ROUNDS" "$HEAD_REV" <<'EOF'
import glob, json, statistics, sys
t, rev, rounds, head = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

def rows(side):
    out = {}
    for path in sorted(glob.glob(f"{t}/{side}-*.json")):
        for r in json.load(open(path))["rows"]:
            if not r["skipped"] and r["engine"]:
                out.setdefault(r["name"], []).append(r)
    return out

old, new = rows("old"), rows("new")
print(f"write path, {rev} (before) vs {head} (after), median of {rounds} alternating rounds")
print(f"{'workload':34} {'unit':10} {'before':>12} {'after':>12} {'after/before':>13}"
      f" {'vs baseline before':>19} {'after':>7}")
for name in new:
    if name not in old:
        continue
    o, n = old[name], new[name]
    lower = n[0]["lower_is_better"]
    mo = statistics.median(r["engine"] for r in o)
    mn = statistics.median(r["engine"] for r in n)
    speed = (mo / mn) if lower else (mn / mo)  # > 1: after is faster
    ro = statistics.median(r["ratio"] for r in o if r["ratio"])
    rn = statistics.median(r["ratio"] for r in n if r["ratio"])
    print(f"{name:34} {n[0]['unit']:10} {mo:12.4g} {mn:12.4g} {speed:13.3f} {ro:19.3f} {rn:7.3f}")
EOF
