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

.PHONY: all deps build test sanitize demo bench clean

all: build

deps:
	@bash scripts/deps.sh

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS) >/dev/null
	@cmake --build build -j $(JOBS)

test: build
	@cd build && ctest --output-on-failure -j $(JOBS)

sanitize: deps
	@cmake -S . -B build-san -DCMAKE_BUILD_TYPE=Debug -DRHEI_SANITIZE=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build build-san -j $(JOBS)
	@cd build-san && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  ctest --output-on-failure -j $(JOBS) $(if $(SANITIZE_LABEL),-L $(SANITIZE_LABEL),)

demo: build
	@./build/examples/quickstart

bench: build
	@./build/bench/rhei_bench $(if $(QUICK),--quick,)

clean:
	rm -rf build build-san
