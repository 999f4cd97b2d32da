#!/usr/bin/env bash
# Installs everything Rhei builds and tests with, on Debian 12: Debian packages through
# apt-get (only those missing), DuckDB 1.4.4 through `npm pack` into third_party/duckdb, and
# the pinned npm clients of the Flight SQL tests.
# Idempotent; the Dockerfile runs this same script so the two cannot drift.
set -euo pipefail
cd "$(dirname "$0")/.."

DUCKDB_VERSION=1.4.4
DUCKDB_LIB_PKG="@duckdb/node-bindings-linux-x64@1.4.4-r.4"
DUCKDB_SRC_PKG="duckdb@${DUCKDB_VERSION}"
DUCKDB_LIB_SHA=732fac4dc6b8f198870b9c4bb6ddf13544466daca00ad28ba2f1d80de5d7aa4b
DUCKDB_SRC_SHA=5bb967dcbcd517670ba5f169f238fb9d6787e53752c60ebe24386169d76941ed

PKGS=(build-essential cmake pkg-config libsqlite3-dev sqlite3 libpq-dev postgresql
      libreadline-dev libncurses-dev tmux python3 python3-dev python3-pytest python3-anyio
      python3-trio python3-setuptools python3-pip gnuplot-nox ca-certificates
      libgrpc-dev libprotobuf-c-dev protobuf-c-compiler libzstd-dev liblz4-dev openssl
      libmicrohttpd-dev prometheus clang-format)
[ "${RHEI_DEPS_MINIMAL:-0}" = 1 ] && PKGS=(build-essential cmake pkg-config libsqlite3-dev ca-certificates)

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm may come with a nodejs that is not Debian's (it then conflicts with Debian's npm).
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Flight SQL test clients (tests/net/node): exact versions in package.json, pinned with their
# dependencies by package-lock.json; installed (no install scripts) only when the lock file
# changed since the last install. `npm install` rather than `npm ci`: npm ci refuses this lock
# because @lakehouse-rs/flight-sql-client names optional per-platform binaries (freebsd, ...)
# that were never published, so they cannot be in any lock file; npm install honours the lock.
node_dir=tests/net/node
if [ "${RHEI_DEPS_MINIMAL:-0}" != 1 ] && [ -f "$node_dir/package-lock.json" ] && \
   ! cmp -s "$node_dir/package-lock.json" "$node_dir/node_modules/.rhei-lock" 2>/dev/null; then
    echo "deps: installing the Flight SQL test clients (npm, pinned by $node_dir/package-lock.json)"
    (cd "$node_dir" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error)
    cp "$node_dir/package-lock.json" "$node_dir/node_modules/.rhei-lock"
fi

# A user-supplied DuckDB (DUCKDB_ROOT with include/duckdb.h and lib/libduckdb.so) skips the fetch.
if [ -n "${DUCKDB_ROOT:-}" ]; then
    [ -f "$DUCKDB_ROOT/include/duckdb.h" ] && [ -f "$DUCKDB_ROOT/lib/libduckdb.so" ] || {
        echo "deps: DUCKDB_ROOT=$DUCKDB_ROOT lacks include/duckdb.h or lib/libduckdb.so" >&2; exit 1; }
    echo "deps: using DuckDB from $DUCKDB_ROOT"; exit 0
fi

dest=third_party/duckdb
stamp="$dest/.version"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$DUCKDB_VERSION" ] \
   && [ -f "$dest/include/duckdb.h" ] && [ -f "$dest/lib/libduckdb.so" ]; then
    exit 0
fi
echo "deps: fetching DuckDB $DUCKDB_VERSION from the npm registry"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$DUCKDB_LIB_PKG" "$DUCKDB_SRC_PKG" >/dev/null)
check() {  # file, expected sha256
    local got; got=$(sha256sum "$1" | cut -d' ' -f1)
    [ "$got" = "$2" ] || { echo "deps: checksum mismatch for $(basename "$1"): got $got, want $2" >&2; exit 1; }
}
check "$tmp/duckdb-node-bindings-linux-x64-1.4.4-r.4.tgz" "$DUCKDB_LIB_SHA"
check "$tmp/duckdb-${DUCKDB_VERSION}.tgz" "$DUCKDB_SRC_SHA"
rm -rf "$dest"; mkdir -p "$dest/include" "$dest/lib"
tar xzf "$tmp/duckdb-node-bindings-linux-x64-1.4.4-r.4.tgz" -C "$tmp" package/libduckdb.so
mv "$tmp/package/libduckdb.so" "$dest/lib/"
tar xzf "$tmp/duckdb-${DUCKDB_VERSION}.tgz" -C "$tmp" package/src/duckdb/src/include/duckdb.h
mv "$tmp/package/src/duckdb/src/include/duckdb.h" "$dest/include/"
grep -q "duckdb_library_version" "$dest/include/duckdb.h" || { echo "deps: duckdb.h looks wrong" >&2; exit 1; }
echo "$DUCKDB_VERSION" > "$stamp"
echo "deps: DuckDB $DUCKDB_VERSION in $dest"
