#!/usr/bin/env bash
# test_layers.sh CASE — scripts/check_layers.py on tiny trees built here (one bad thing each,
# so the check is seen failing) and on the real build. Each case is its own ctest entry.
set -euo pipefail
src=${RHEI_SOURCE_DIR:?}
bin=${RHEI_TEST_BIN:?}
check="python3 $src/scripts/check_layers.py"
tmp=$(mktemp -d /tmp/rhei-layers-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# A two-module tree: low (no deps) and high (DEPS low); $1 is low.c's body.
tree() {
    mkdir -p "$tmp/src/low" "$tmp/src/high" "$tmp/obj"
    printf '%s\n' "$1" > "$tmp/src/low/low.c"
    printf 'int low_fn(void);\nint high_fn(void);\nint high_fn(void) { return low_fn() + 1; }\n' \
        > "$tmp/src/high/high.c"
    for m in low high; do
        gcc -c -MD -MF "$tmp/obj/$m.c.o.d" "$tmp/src/$m/$m.c" -o "$tmp/obj/$m.c.o"
    done
    { echo "root $tmp"
      echo "lib $(gcc -print-file-name=libsqlite3.so)"
      echo "module low src/low deps= objs=$tmp/obj/low.c.o"
      echo "module high src/high deps=low objs=$tmp/obj/high.c.o"; } > "$tmp/layers.txt"
}

expect_fail() { # $1: text the report must contain
    local out rc=0
    out=$($check "$tmp" --manifest="$tmp/layers.txt" 2>&1) || rc=$?
    echo "$out"
    [ "$rc" -eq 1 ] || { echo "FAIL: check exited $rc, want 1"; exit 1; }
    grep -qF "$1" <<<"$out" || { echo "FAIL: report lacks '$1'"; exit 1; }
}

case ${1:?case} in
clean_tree_passes) # the fixture itself is fine, so the failures below are the bad lines'
    tree 'int low_fn(void); int low_fn(void) { return 1; }'
    $check "$tmp" --manifest="$tmp/layers.txt"
    ;;
upward_call_fails) # low calls high through a hand-written prototype: links, but is upward
    tree 'int high_fn(void); int low_fn(void); int low_fn(void) { return high_fn(); }'
    expect_fail "module low: src/low/low.c calls high_fn, defined in high, which is not in its DEPS"
    ;;
third_party_call_fails) # low calls SQLite without including its header
    tree 'const char *sqlite3_libversion(void); int low_fn(void);
int low_fn(void) { return sqlite3_libversion()[0]; }'
    expect_fail "calls sqlite3_libversion of libsqlite3"
    ;;
third_party_header_fails) # low includes <sqlite3.h>: only oltp, cdc and the sidecar's adapter may
    tree '#include <sqlite3.h>
int low_fn(void); int low_fn(void) { return SQLITE_OK; }'
    expect_fail "src/low/low.c includes <sqlite3.h>"
    ;;
api_only_include_fails) # cli/ may include rhei.h only, not a module's header
    tree 'int low_fn(void); int low_fn(void) { return 1; }'
    mkdir -p "$tmp/cli"
    touch "$tmp/src/low/low.h"
    printf '#include "../src/low/low.h"\n' > "$tmp/cli/rh.c"
    expect_fail "cli/rh.c:1: includes \"../src/low/low.h\""
    ;;
architecture_table_fails) # docs/ARCHITECTURE.md must list exactly the DEPS of CMakeLists.txt
    tree 'int low_fn(void); int low_fn(void) { return 1; }'
    mkdir -p "$tmp/docs"
    printf '| folder | job | may depend on |\n|---|---|---|\n| `src/low/` | x | libc |\n| `src/high/` | y | libc |\n' \
        > "$tmp/docs/ARCHITECTURE.md"
    expect_fail "docs/ARCHITECTURE.md: src/high may depend on {}, CMakeLists.txt says {low}"
    ;;
real_tree_passes) # the repository as built: every module within its DEPS
    $check "$bin"
    ;;
*) echo "no case '$1'"; exit 1 ;;
esac
