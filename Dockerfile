# Dockerfile — Rhei's `rh` in a container. The builder runs scripts/deps.sh, the very script
# `make test` runs, so the image and the tests cannot drift apart; the runtime stage keeps
# only rh, librhei.so, libduckdb.so and the Debian libraries they load.
#   docker build -t rhei .
#   docker run --rm rhei info
#   docker run -d -v rhei-data:/var/lib/rhei rhei            # serve /etc/rhei/config.toml
# Set RUN_TESTS=1 (--build-arg) to run the rh test suite (ctest -L cli) in the builder.

FROM debian:12 AS builder
ARG RUN_TESTS=0
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
COPY . .
RUN bash scripts/deps.sh \
 && cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DRHEI_WERROR=ON \
      -DCMAKE_INSTALL_PREFIX=/opt/rhei \
 && cmake --build build -j"$(nproc)" \
 && if [ "$RUN_TESTS" = 1 ]; then (cd build && ctest -L cli --output-on-failure); fi \
 && cmake --install build \
 && cp -L third_party/duckdb/lib/libduckdb.so /opt/rhei/lib/ \
 && find /opt/rhei -type f \( -name rh -o -name '*.so*' \) -exec strip --strip-unneeded {} +

FROM debian:12-slim
ENV DEBIAN_FRONTEND=noninteractive
# Runtime libraries of rh (readline, wide ncurses and its terminfo for the dashboard),
# librhei (SQLite; libpq for PostgreSQL sidecar sources) and libduckdb (the C++ runtime).
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends libsqlite3-0 libpq5 libreadline8 libmicrohttpd12 \
      libncursesw6 ncurses-base libstdc++6 libgcc-s1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/rhei --shell /usr/sbin/nologin rhei \
 && mkdir -p /etc/rhei /var/lib/rhei \
 && printf '%s\n' \
      '# /etc/rhei/config.toml - the image default; mount your own over it.' \
      '[engine]' \
      'oltp_path = "/var/lib/rhei/rhei.db"' \
      'olap_path = "/var/lib/rhei/rhei.duckdb"' \
      'sync_interval_ms = 100' \
      > /etc/rhei/config.toml \
 && chown rhei:rhei /var/lib/rhei
COPY --from=builder /opt/rhei/bin/rh /opt/rhei/bin/rh
COPY --from=builder /opt/rhei/lib/ /opt/rhei/lib/
ENV PATH=/opt/rhei/bin:$PATH
USER rhei
WORKDIR /var/lib/rhei
VOLUME ["/var/lib/rhei"]
# rh serve stops gracefully on SIGTERM (docker stop): the final sync runs before exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["rh"]
CMD ["serve", "--config", "/etc/rhei/config.toml", "--headless"]
