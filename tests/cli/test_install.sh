# test_install.sh — `make install`'s step (cmake --install) into a temporary prefix installs
# librhei.so, rhei.h, rhei.pc, the bundled libduckdb.so and rh; README's C example (the first
# ```c block, taken from README.md as written) builds with `cc app.c $(pkg-config --cflags
# --libs rhei)` and runs without LD_LIBRARY_PATH, and so does the installed rh.
source "$(dirname "$0")/lib.sh"
BUILD=$(cd "$(dirname "$RH")/.." && pwd)
P="$T/prefix" # pkg-config output is not quoted for blanks: keep the prefix plain
run cmake --install "$BUILD" --prefix "$P"
expect_rc 0 "cmake --install"
for f in lib/librhei.so include/rhei.h lib/pkgconfig/rhei.pc bin/rh lib/libduckdb.so; do
    [ -e "$P/$f" ] || fail "not installed: $f"
done
ok "library, header, pkg-config file, DuckDB and rh installed"

unset LD_LIBRARY_PATH
export PKG_CONFIG_PATH="$P/lib/pkgconfig"
run pkg-config --modversion rhei
expect_match "$OUT" '^[0-9]+\.[0-9]+\.[0-9]+$' "pkg-config knows rhei"
awk '/^```c$/ { on = 1; next } on && /^```$/ { exit } on' "$SRC/README.md" >"$T/app.c"
[ -s "$T/app.c" ] || fail "no C example in README.md"
run bash -c "cd '$T' && cc app.c \$(pkg-config --cflags --libs rhei) -o app"
expect_rc 0 "README's example compiles with pkg-config"
run bash -c "cd '$T' && ./app"
expect_rc 0 "README's example runs without LD_LIBRARY_PATH"
expect_eq "99.50" "$OUT" "README's example prints what its comment says"
ok "README's C example builds with pkg-config and runs"

run "$P/bin/rh" --version
expect_rc 0 "the installed rh runs"
expect_match "$OUT" '^rh [0-9.]+ \(rhei [0-9.]+\)$' "installed rh --version"
run "$P/bin/rh" query --db "$T/my.db" --hint olap "SELECT count(*) AS n FROM orders"
expect_eq "n
1" "$OUT" "the installed rh reads the example's database"
ok "the installed rh runs without LD_LIBRARY_PATH"
