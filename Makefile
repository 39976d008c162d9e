# IndicatorHub. `make demo` and `make test` work on a fresh Debian machine with only the
# Swift toolchain: the system libraries are installed when missing.
SWIFT ?= swift
RELEASE_PATH ?= .build-release

.PHONY: deps build demo test soak fuzz bench bench-memory bench-siphash bench-prefetch bench-e2e bench-ingest bench-feeds bench-live clean

deps:
	@if ! pkg-config --exists libsodium openssl 2>/dev/null; then \
		echo "installing libsodium-dev libssl-dev pkg-config"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update && $$SUDO apt-get install -y libsodium-dev libssl-dev pkg-config; \
	fi

build: deps
	$(SWIFT) build

demo: deps
	$(SWIFT) build -c release --scratch-path $(RELEASE_PATH) --product ihub
	$(RELEASE_PATH)/release/ihub demo

test: deps
	$(SWIFT) build
	$(SWIFT) test --parallel

# Long runs: millions of fuzzed values, many killed ingests and killed hubs. Short versions run in `make test`.
fuzz: deps
	$(SWIFT) build --build-tests
	IHUB_FUZZ_ITERATIONS=$${IHUB_FUZZ_ITERATIONS:-3000000} $(SWIFT) test --skip-build --filter 'CanonicalizerFuzzTests|HostileInput|WireFuzzTests'

soak: deps
	$(SWIFT) build --build-tests
	IHUB_CRASH_ROUNDS=$${IHUB_CRASH_ROUNDS:-60} \
	IHUB_SERVE_CRASH_ROUNDS=$${IHUB_SERVE_CRASH_ROUNDS:-500} \
	IHUB_SERVE_CRASH_MAX_RECORDS=$${IHUB_SERVE_CRASH_MAX_RECORDS:-2000} \
	IHUB_SERVE_CRASH_OVERLAP_ROUNDS=$${IHUB_SERVE_CRASH_OVERLAP_ROUNDS:-300} \
		$(SWIFT) test --skip-build --filter 'CrashSafetyTests|ServeLiveCrashTests|ServeLiveCrashOverlapTests'

bench: deps
	$(SWIFT) build -c release --scratch-path $(RELEASE_PATH) --product MatcherBench
	$(RELEASE_PATH)/release/MatcherBench $(BENCH_ARGS)

# What a lookup's memory layout costs, apart from the matcher's code (docs/BENCHMARKS.md; its origin: session 6 in
# docs/BENCHMARKS-HISTORY.md).
bench-memory: deps
	$(SWIFT) build -c release --scratch-path $(RELEASE_PATH) --product MemoryPatterns
	$(RELEASE_PATH)/release/MemoryPatterns $(BENCH_ARGS)

# The batch digest's SipHash kernels against libsodium on the same messages.
bench-siphash: deps
	$(SWIFT) build -c release --scratch-path $(RELEASE_PATH) --product SipHashBench
	$(RELEASE_PATH)/release/SipHashBench $(BENCH_ARGS)

# What software prefetches cost the core, spread out or in bursts (docs/BENCHMARKS.md).
bench-prefetch: deps
	$(SWIFT) build -c release --scratch-path $(RELEASE_PATH) --product PrefetchShapes
	$(RELEASE_PATH)/release/PrefetchShapes $(BENCH_ARGS)

# The hub over loopback with mutual TLS against Redis (SMISMEMBER), same values, batch size and
# connections, in one run (docs/BENCHMARKS.md). Installs Debian's redis-server when missing.
bench-e2e: deps
	@if ! command -v redis-server >/dev/null 2>&1; then \
		echo "installing redis-server"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update && $$SUDO apt-get install -y redis-server; \
	fi
	$(SWIFT) build -c release --scratch-path $(RELEASE_PATH) --product ihub
	$(SWIFT) build -c release --scratch-path $(RELEASE_PATH) --product E2EBench
	$(RELEASE_PATH)/release/E2EBench $(BENCH_ARGS)

bench-live: deps
	$(SWIFT) build -c release --scratch-path $(RELEASE_PATH) --product LiveBench
	$(RELEASE_PATH)/release/LiveBench $(BENCH_ARGS)

bench-ingest: deps
	$(SWIFT) build -c release --scratch-path $(RELEASE_PATH) --product ihub
	Benchmarks/ingest.sh $${ENTRIES:-1000000} $(RELEASE_PATH)/release/ihub

bench-feeds: deps
	$(SWIFT) build -c release --scratch-path $(RELEASE_PATH) --product ihub
	Benchmarks/feed-ingest.sh $${ENTRIES:-1000000} $(RELEASE_PATH)/release/ihub

clean:
	rm -rf .build $(RELEASE_PATH)
