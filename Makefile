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

# The main job on built-in small models: reproduce the reference logits of the tiny V4 checkpoint
# in the release's FP8/FP4 formats, then the whole text path (encoder, tokenizer, forward pass,
# sampler, streaming parser) on the built-in model with DeepSeek's tokenizer and random weights.
run: release
	$(LIGHTSEEK) verify -m $(DEMO_MODEL) --expected $(DEMO_MODEL)/expected_qat_act.safetensors --numerics reference
	$(LIGHTSEEK) run -p "Hello! Who are you?" --thinking -n 40 --seed 1

test-release: release
	ctest --preset release -j $(JOBS)

# The end-to-end tests (node clients, tmux, the tokenizer differential: label end_to_end) drive
# the CLI binary on the same code the in-process tests cover; they run in release only, which
# keeps CI within its 30 minutes.
test-asan: asan
	ctest --preset asan -j $(JOBS) --label-exclude end_to_end

# New inputs go to build/fuzz/corpus, never into the committed seeds; the log keeps CI output short.
test-fuzz: fuzz
	@mkdir -p build/fuzz/corpus
	@build/fuzz/fuzz/fuzz_safetensors_header -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	  build/fuzz/corpus fuzz/corpus > build/fuzz/fuzz.log 2>&1 \
	  || { tail -40 build/fuzz/fuzz.log; echo "fuzzing found a problem: build/fuzz/fuzz.log"; exit 1; }
	@grep -E "^(Done|stat::new_units_added)" build/fuzz/fuzz.log | sed 's/^/fuzz: /'

# The full suite: a short fuzzing run, then the unit tests in release and under ASan+UBSan.
test: test-fuzz test-release test-asan

bench: release
	build/release/bench/lightseek_bench
	scripts/bench-load.sh
	bench/tokenizer_bench.sh

clean:
	rm -rf build
