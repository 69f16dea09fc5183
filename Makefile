# The two commands a newcomer needs (see README):
#   make demo   build, then ask the trained demo model (data/demo-model) "What is 2+2?" in one
#               process, tensor-parallel under mpirun -np 2, and through tessera serve
#   make test   build and run every test
# Both first run scripts/setup.sh, which installs missing Debian packages (idempotent).

BUILD ?= build
JOBS ?= 2
PY := /usr/bin/python3
DEMO_MODEL ?= data/demo-model
MPIRUN := mpirun --allow-run-as-root --oversubscribe --mca mpi_yield_when_idle 1

.PHONY: setup build demo test lint sanitize clean

setup:
	@bash scripts/setup.sh

# ccache (installed by setup) makes rebuilds of unchanged files, and CI after a local build, cheap.
CCACHE := $(shell command -v ccache 2>/dev/null)
# Paths are hashed relative to the checkout, so a clone elsewhere (CI's clean clone) reuses the cache.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1
LAUNCHER := $(if $(CCACHE),-DCMAKE_CXX_COMPILER_LAUNCHER=$(CCACHE) -DCMAKE_C_COMPILER_LAUNCHER=$(CCACHE))

build: setup
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(LAUNCHER)
	cmake --build $(BUILD) -j$(JOBS)

demo: build
	bash scripts/demo.sh $(BUILD) $(DEMO_MODEL)

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 1200

# Static checks: clang-tidy on every src/ file (clean results cached by content) and the
# room rule of README's Layout table on every #include.
lint: build
	$(PY) scripts/run_clang_tidy.py $(BUILD) -j$(JOBS)
	$(PY) scripts/check_layers.py

# The C++ unit tests under AddressSanitizer + UndefinedBehaviorSanitizer (own build folder).
SANITIZE_BUILD ?= build-sanitize
sanitize: setup
	cmake -S . -B $(SANITIZE_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTESSERA_SANITIZE=ON $(LAUNCHER)
	cmake --build $(SANITIZE_BUILD) -j$(JOBS)
	cd $(SANITIZE_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j$(JOBS) -E '^py_'

clean:
	rm -rf $(BUILD)
