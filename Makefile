# Rhei: the two commands users need are `make demo` and `make test`; both install what is
# missing (scripts/deps.sh) and build first. BUILD_TYPE, DUCKDB_ROOT and JOBS may be set.
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
ifdef DUCKDB_ROOT
CMAKE_FLAGS += -DDUCKDB_ROOT=$(DUCKDB_ROOT)
endif
ifdef CI
CMAKE_FLAGS += -DRHEI_WERROR=ON
endif

PREFIX ?= /usr/local

.PHONY: all deps build test layers format-check format sanitize tsan fuzz demo bench clean python bench-python install

all: build

deps:
	@bash scripts/deps.sh

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS) >/dev/null
	@cmake --build build -j $(JOBS)

# The Python package into build/python: PYTHONPATH=build/python /usr/bin/python3 app.py
python: build
	@cmake --build build -j $(JOBS) --target rhei_python
	@echo "python: built into build/python (PYTHONPATH=build/python /usr/bin/python3 app.py)"

# Python API speed next to stdlib sqlite3 and the C API, measured in the same run.
bench-python: python
	@PYTHONPATH=build/python /usr/bin/python3 python/bench.py $(if $(QUICK),--quick,)

test: build
	@cd build && ctest --output-on-failure -j $(JOBS)

# The module layering, checked on the built objects (nm) and the compiler's depfiles.
layers: build
	@python3 scripts/check_layers.py build

# C formatting (.clang-format): lines changed since the pinned base must be formatted
# (scripts/check_format.sh says why not the whole tree); `make format` formats them.
format-check:
	@bash scripts/check_format.sh

format:
	@bash scripts/check_format.sh --fix

sanitize: deps
	@cmake -S . -B build-san -DCMAKE_BUILD_TYPE=Debug -DRHEI_SANITIZE=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build build-san -j $(JOBS)
	@cd build-san && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  ctest --output-on-failure -j $(JOBS) $(if $(SANITIZE_LABEL),-L $(SANITIZE_LABEL),)

# ThreadSanitizer over the threaded parts (sync loop, pools, concurrent API use). DuckDB is
# not instrumented, so races reported inside it are suppressed (tests/tsan.supp).
tsan: deps
	@cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS=-fsanitize=thread \
	  -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread \
	  $(CMAKE_FLAGS) >/dev/null
	@cmake --build build-tsan -j $(JOBS) --target engine_test_concurrency engine_test_basic engine_test_txn \
	  engine_test_query_arrow
	@cd build-tsan && TSAN_OPTIONS="halt_on_error=1 report_signal_unsafe=0 \
	  suppressions=$(CURDIR)/tests/tsan.supp" ctest --output-on-failure \
	  -R "engine.test_(concurrency|basic|txn|query_arrow)\."

# Fuzz targets built standalone with gcc + sanitizers (no clang needed), each run for a bound.
FUZZ_SECONDS ?= 30
FUZZ_CC = gcc -std=gnu11 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-DRHEI_FUZZ_STANDALONE -Iinclude
fuzz:
	@mkdir -p build-fuzz
	$(FUZZ_CC) -Isrc/route -Isrc/core src/route/lex.c src/route/route.c src/route/read_walk.c \
	  src/route/semantics.c src/route/reason.c src/route/decide.c src/route/rewrite.c src/core/buf.c \
	  src/core/mem.c src/core/err.c tests/route/fuzz_route.c -o build-fuzz/fuzz_route
	$(FUZZ_CC) -Isrc/core tests/core/fuzz_toml.c src/core/toml.c src/core/toml_get.c src/core/mem.c src/core/buf.c \
	  src/core/err.c -o build-fuzz/fuzz_toml
	$(FUZZ_CC) -Isrc/net/arrow tests/net/fuzz_ipc.c src/net/arrow/*.c -lzstd -llz4 \
	  -o build-fuzz/fuzz_ipc
	./build-fuzz/fuzz_route -t $(FUZZ_SECONDS) -s 1
	./build-fuzz/fuzz_toml $(FUZZ_SECONDS) 1
	./build-fuzz/fuzz_ipc $(FUZZ_SECONDS) 1

# librhei.so, rhei.h, rhei.pc (pkg-config), the bundled libduckdb.so and rh under PREFIX.
install: build
	@cmake --install build --prefix $(PREFIX)

demo: build
	@./build/examples/quickstart

# A full run rewrites BENCHMARKS.md's generated section from its JSON; QUICK=1 only checks.
bench: build
	@./build/bench/rhei_bench $(if $(QUICK),--quick,)
	@$(if $(QUICK),true,python3 scripts/bench_md.py)
	@$(if $(QUICK),true,gnuplot bench/plot_htap.gnuplot && gnuplot bench/plot.gnuplot \
	    && cp bench/results/htap.png bench/results/ratios.png docs/bench/)

clean:
	rm -rf build build-san build-tsan build-fuzz
