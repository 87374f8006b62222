# Millrace: the two commands are `make run` and `make test`; the rest is detail.
#   make run            install what is missing, build, start one broker on 127.0.0.1:9092
#   make test           install, build, run every test (unit, integration, ASan+UBSan, TSan, fuzz smoke)
#   make build          Release build in build/release
#   make asan | tsan    sanitizer builds + unit tests (asan: also the broker suites badinput/groups/crash/fetchsession;
#                       tsan: only the concurrent cases labelled tsan, and only the binaries they need;
#                       the live client cases run against build/release's broker, skipped without one)
#   make fuzz           each fuzzer for FUZZ_SECONDS (default 600), JOBS at a time
#   make fuzz-ci        each fuzzer for FUZZ_CI_SECONDS (default 30): make test's smoke run
#   make sim            the Raft simulator over SEEDS seeds (default 10000) of mixed scenarios (raft/sim)
#   make chaos          ROUNDS (default 20) Jepsen-style rounds of real brokers in network namespaces
#   make rebalance-e2e  the Rebalance resource on the real kube-apiserver (8-9 min)
#                       (tests/chaos; make test runs 2)
#   make bench          benchmarks against Apache Kafka (not part of make test)
#   make regen-protocol regenerate protocol/generated from ../shared/kafka-protocol/message
#                       and raft/rpc/generated from raft/rpc/spec
#   make k8s-up|k8s-down the Kubernetes test cluster
#   make image          container image, compiled in the Dockerfile's build stage: docker where an
#                       engine answers, else buildah (installed, base image from debootstrap; docs/image.md)
#   make image-prebuilt the image from the binaries of $(BUILD) (no compile; what make test checks)
#   make manifests      regenerate manifests/, dashboard, chart files and values schema
SHELL := /bin/bash
JOBS ?= $(shell nproc)
BUILD ?= build/release
CACHE ?= $(HOME)/.cache/millrace
DATA_DIR ?= $(CURDIR)/data
SPEC_DIR ?= $(CURDIR)/../shared/kafka-protocol/message
FUZZ_SECONDS ?= 600
# make test's fixed budgets: each fuzz target's smoke run, and the controller
# kill -9s of tests/cluster (run by hand it makes 20, the failover figure's sample).
FUZZ_CI_SECONDS ?= 30
CLUSTER_KILLS ?= 5
export CCACHE_DIR ?= $(CACHE)/ccache
# Relative paths in ccache keys: a fresh clone in another folder (CI) hits the same cache.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1
export MILLRACE_CACHE := $(CACHE)

CMAKE_GEN := -G Ninja

.PHONY: cluster cluster-down sim chaos rebalance-e2e deps deps-image image-prebuilt build run test test-unit asan tsan fuzz fuzz-ci bench scaling-model regen-protocol k8s-up k8s-down image manifests clean

deps:
	@bash scripts/install-deps

# Also buildah, podman, runc and debootstrap: make test's image suites, make image.
deps-image:
	@bash scripts/install-deps --image

$(BUILD)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

run: build
	mkdir -p $(DATA_DIR)
	$(BUILD)/broker/millrace-broker --config config/local.yaml --set log.dirs=$(DATA_DIR)

# A local cluster of NODES (3) brokers, each its own data dir and ports
# (scripts/cluster): prints the bootstrap string; cluster-down stops them.
cluster: build
	NODES=$(or $(NODES),3) BUILD=$(BUILD) scripts/cluster up

cluster-down:
	BUILD=$(BUILD) scripts/cluster down

# The deterministic Raft simulator (raft/sim/README.md): SEEDS mixed-scenario
# seeds from SEED_START; a failing seed prints its replay command and trace.
SEEDS ?= 10000
SEED_START ?= 1
sim: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS) --target raft-sim
	bash raft/sim/run-shards $(BUILD)/raft/sim/raft-sim $(SEEDS) $(SEED_START) $(JOBS)

ROUNDS ?= 20
chaos: build
	MILLRACE_BUILD=$(BUILD) MILLRACE_CHAOS_ROUNDS=$(ROUNDS) bash tests/chaos/run

# The Rebalance resource end to end on a test-started cluster (tests/rebalance/README.md);
# make test drives Rebalances on the operator's StatefulSet instead (tests/operator).
rebalance-e2e: build
	MILLRACE_BUILD=$(abspath $(BUILD)) bash tests/rebalance/e2e

test-unit: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -L unit

# The broker under ASan+UBSan too: the suites that feed it untrusted input and
# crash/restart it run against build/asan's millrace-broker (CTest hands them
# MILLRACE_BUILD=build/asan); broker/testing/broker_proc.py fails a suite on any
# sanitizer report or a non-zero exit after SIGTERM (leaks included). The
# cross-client interop suite passes there too but takes minutes, so it is opt-in:
#   make asan ASAN_SUITES='broker-badinput|broker-groups|broker-crash|broker-fetchsession|interop'
ASAN_SUITES ?= broker-badinput|broker-groups|broker-crash|broker-fetchsession|broker-pipeline|chaos|replication
asan: deps
	cmake -S . -B build/asan $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DMILLRACE_SANITIZE=address
	cmake --build build/asan -j $(JOBS) --target unit-tests millrace-broker millrace_eio_shim
	ctest --test-dir build/asan --output-on-failure -j $(JOBS) -L unit
	ctest --test-dir build/asan --output-on-failure -j $(JOBS) -L integration -R '^integration\.($(ASAN_SUITES))$$'

tsan: deps
	cmake -S . -B build/tsan $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMILLRACE_SANITIZE=thread
	cmake --build build/tsan -j $(JOBS) --target tsan-tests
	ctest --test-dir build/tsan --output-on-failure -j $(JOBS) -L tsan

build/fuzz/build.ninja:
	CC=clang CXX=clang++ cmake -S . -B build/fuzz $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMILLRACE_FUZZ=ON

fuzz: deps build/fuzz/build.ninja
	cmake --build build/fuzz -j $(JOBS) --target fuzzers
	bash fuzz/run-all build/fuzz $(FUZZ_SECONDS) $(JOBS)

fuzz-ci: deps build/fuzz/build.ninja
	cmake --build build/fuzz -j $(JOBS) --target fuzzers
	bash fuzz/run-all build/fuzz $(FUZZ_CI_SECONDS) $(JOBS)

# Everything CI runs. ctest's closing line counts unit and integration tests together.
# On a new machine the test peers (Maven, npm, Go module proxy) are fetched while
# the C++ tree compiles, and the Kubernetes test cluster's binaries build in the
# background from the start; the chart and operator suites wait for that build
# through tests/k8s/build's lock, and run last (label k8s) so that build overlaps
# everything else. Logs: $(CACHE)/logs.
test: deps-image
	@mkdir -p $(CACHE)/logs
	@echo "make test: building the k8s test cluster in the background (log: $(CACHE)/logs/k8s-build.log)"
	@nohup bash tests/k8s/build > $(CACHE)/logs/k8s-build.log 2>&1 &
	@bash tests/peers/fetch all > $(CACHE)/logs/peers-fetch.log 2>&1 & peers=$$!; \
	  $(MAKE) build; rc=$$?; \
	  if ! wait $$peers; then echo "make test: fetching the test peers failed:"; tail -30 $(CACHE)/logs/peers-fetch.log; exit 1; fi; \
	  exit $$rc
	MILLRACE_CLUSTER_KILLS=$(CLUSTER_KILLS) ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -LE k8s
	$(MAKE) asan
	$(MAKE) tsan
	$(MAKE) build/fuzz/build.ninja
	cmake --build build/fuzz -j $(JOBS) --target fuzzers
	@echo "make test: the fuzz smoke ($(FUZZ_CI_SECONDS)s a target, one core) runs beside the k8s suites (log: $(CACHE)/logs/fuzz-ci.log)"
	@bash fuzz/run-all build/fuzz $(FUZZ_CI_SECONDS) 1 > $(CACHE)/logs/fuzz-ci.log 2>&1 & fuzz=$$!; \
	  ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -L k8s; rc=$$?; \
	  if wait $$fuzz; then grep -E '^fuzz:' $(CACHE)/logs/fuzz-ci.log; \
	  else echo "make test: the fuzz smoke failed:"; cat $(CACHE)/logs/fuzz-ci.log; rc=1; fi; \
	  exit $$rc

bench: build
	bash bench/run-all $(BUILD)

# The side-by-side table of docs/consumer-scaling.md (KEDA's rule and Millrace's modes
# on one deterministic workload model).
scaling-model: build
	$(BUILD)/operator/scaling_model

regen-protocol:
	python3 tools/protocol-gen/generate.py --spec $(SPEC_DIR) --out protocol/generated
	python3 tools/protocol-gen/generate.py --set raft --out raft/rpc/generated
	python3 tools/protocol-gen/generate.py --set metadata --spec $(dir $(SPEC_DIR))metadata --out cluster/metadata/records/generated

# The container image (docs/image.md). Without a Docker engine, buildah builds it from
# base images made with debootstrap (scripts/image/; cached in $(CACHE)/image); podman
# runs it: `source scripts/image/env.sh` first for the same store and settings.
IMAGE ?= millrace:$(shell git describe --tags --always 2>/dev/null || echo dev)
image:
	JOBS=$(JOBS) bash scripts/image/build -t $(IMAGE)

# The same Dockerfile packing $(BUILD)'s binaries instead of compiling (CI builds once).
image-prebuilt:
	bash scripts/image/build --prebuilt $(BUILD) -t $(IMAGE)

manifests:
	bash scripts/gen-manifests

k8s-up:
	bash tests/k8s/cluster up

k8s-down:
	bash tests/k8s/cluster down

clean:
	rm -rf build
