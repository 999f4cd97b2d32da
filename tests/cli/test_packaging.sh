# test_packaging.sh — what can be checked of the Dockerfile and the systemd unit without
# Docker or a running systemd: the builder uses scripts/deps.sh (the tests' own installer,
# so they cannot drift), the image's default config loads in rh, the entrypoint and default
# command are rh's, and the unit passes `systemd-analyze verify` when that tool exists.
source "$(dirname "$0")/lib.sh"
DF="$SRC/Dockerfile"
UNIT="$SRC/config/rhei.service"
[ -f "$DF" ] || fail "no Dockerfile"
[ -f "$SRC/.dockerignore" ] || fail "no .dockerignore"

df=$(cat "$DF")
expect_match "$df" '^FROM debian:12 AS builder$' "builder stage on debian:12"
expect_match "$df" '^RUN bash scripts/deps\.sh' "builder installs with scripts/deps.sh"
expect_match "$df" '^FROM debian:12(-slim)?$' "runtime stage on debian 12"
expect_contains "$df" "COPY --from=builder /opt/rhei/bin/rh" "rh copied into the runtime image"
expect_contains "$df" "libduckdb.so /opt/rhei/lib/" "libduckdb.so shipped"
expect_contains "$df" 'ENTRYPOINT ["rh"]' "entrypoint"
expect_contains "$df" 'CMD ["serve", "--config", "/etc/rhei/config.toml", "--headless"]' "default command"
expect_contains "$(cat "$SRC/.dockerignore")" "third_party" "the fetched DuckDB is not in the context"
ok "Dockerfile structure"

# The image's default config, rebuilt from the Dockerfile's printf lines, loads in rh.
sed -n "s/^ *'\([^']*\)' \\\\$/\1/p" "$DF" | sed "s#/var/lib/rhei#$T#g" >"$T/config.toml"
expect_contains "$(cat "$T/config.toml")" "[engine]" "config extracted from the Dockerfile"
run "$RH" info --config "$T/config.toml"
expect_rc 0 "the image's default config loads"
expect_contains "$OUT" "config       olap_path = $T/rhei.duckdb" "durable OLAP in the volume"
expect_contains "$OUT" "config       sync_interval_ms = 100" "sync interval"
# the image's default command, run briefly against the extracted config
"$RH" serve --config "$T/config.toml" --headless --pidfile "$T/p" </dev/null >"$T/serve.log" &
pid=$!
BG_PIDS+=("$pid")
wait_for 20 "the container's default command to serve" grep -q "info serving" "$T/serve.log"
kill -TERM "$pid"
wait "$pid"
RC=$?
BG_PIDS=()
expect_rc 0 "default command stops on SIGTERM (docker stop)"
ok "the image's default command works"

unit=$(cat "$UNIT")
expect_match "$unit" '^ExecStart=/usr/local/bin/rh serve --config /etc/rhei/config.toml --headless$' "ExecStart"
expect_match "$unit" '^ExecReload=/bin/kill -HUP \$MAINPID$' "reload sends SIGHUP"
expect_match "$unit" '^KillSignal=SIGTERM$' "stop sends SIGTERM"
if command -v systemd-analyze >/dev/null; then
    sed "s#/usr/local/bin/rh#$RH#" "$UNIT" >"$T/rhei.service"
    run systemd-analyze verify "$T/rhei.service"
    expect_rc 0 "systemd-analyze verify"
    ok "systemd unit verifies"
else
    ok "systemd unit (systemd-analyze not installed: verify skipped)"
fi
