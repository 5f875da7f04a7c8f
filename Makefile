# Front door: `make run` and `make test` on a fresh Debian/Ubuntu machine.
# Everything goes through CMake presets (CMakePresets.json): release, debug, asan, fuzz.

JOBS ?= $(shell nproc)
LIGHTSEEK := build/release/src/lightseek
DEMO_MODEL := tests/fixtures/v4-oracle/tiny_native
FUZZ_SECONDS ?= 30

.PHONY: all deps release debug asan fuzz run test test-release test-asan test-fuzz bench clean

all: release

deps:
	@scripts/install-deps.sh

release: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

debug: deps
	@cmake --preset debug >/dev/null
	@cmake --build --preset debug -j $(JOBS)

asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)

fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS) --target fuzz_safetensors_header

# The main job on the built-in small model (the tiny V4 checkpoint in the release's FP8/FP4
# formats): describe it, then reproduce its reference logits in DeepSeek's numerics.
run: release
	$(LIGHTSEEK) inspect -m $(DEMO_MODEL)
	$(LIGHTSEEK) verify -m $(DEMO_MODEL) --expected $(DEMO_MODEL)/expected_qat_act.safetensors --numerics reference

test-release: release
	ctest --preset release -j $(JOBS)

test-asan: asan
	ctest --preset asan -j $(JOBS)

test-fuzz: fuzz
	@mkdir -p build/fuzz/corpus
	build/fuzz/fuzz/fuzz_safetensors_header -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	  build/fuzz/corpus fuzz/corpus

# The full suite: unit tests in release and under ASan+UBSan, then a short fuzzing run.
test: test-release test-asan test-fuzz

bench: release
	build/release/bench/lightseek_bench
	scripts/bench-load.sh

clean:
	rm -rf build
