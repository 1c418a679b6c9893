# The front door. Everything here is a thin wrapper: CMake builds, the tutor grades.
#   make start                   set up, build, and show the next kata to work on
#   make test [KATA=01a] [TEST=Name] [SANITIZE=thread]   grade your katas (verdicts,
#                                build/results.json, junit.xml); SANITIZE=thread: under TSan too
#   make hint KATA=01a           the next hint        make reset KATA=01a   restore the starter
#   make solution KATA=01a       the solution, once the kata passes (FORCE=1 to insist)
#   make lesson N=01             run a lesson's demos  make bench   the measured tables
#   make list                    every lesson and kata, with how each stands
#   make check [KATA=01a]        the project's own test suite (what CI runs)
#   make stress [KATA=01a] [REPEAT=100]   hunt flaky tests: many shuffled runs side by side

BUILD  ?= build
TUTOR  := $(BUILD)/bin/tutor
CMAKE  ?= cmake
# Ninja starts a no-op build in ~0.1 s where make takes ~0.3 s: that is the learner's loop.
GENERATOR := $(if $(shell command -v ninja 2>/dev/null),Ninja,Unix Makefiles)
BENCH_REPETITIONS ?= 5
# clang++ compiles a kata's test file in about half the time g++ needs (~1.1 s against ~2.1 s
# at -O0 on 2 cores), which is most of the wait between a save and its verdict. The build
# folder remembers the compiler; to use g++: make COMPILER=g++ BUILD=build-gcc ...
COMPILER ?= $(if $(shell command -v clang++ 2>/dev/null),clang++,g++)

.PHONY: start test check stress bench lesson hint reset solution list deps configure tutor clean

# The package check runs once per build folder (and again when the script changes): it costs
# ~0.2 s, which every `make test` would otherwise pay. `make deps` checks again at once.
DEPS_OK := $(BUILD)/.deps-ok
deps:
	@scripts/install-deps.sh

$(DEPS_OK): scripts/install-deps.sh
	@scripts/install-deps.sh
	@mkdir -p $(BUILD) && touch $@

# Configure once; CMake re-configures itself when curriculum.json or a CMakeLists changes. A
# build folder made with another generator is configured afresh.
$(BUILD)/CMakeCache.txt: | $(DEPS_OK)
	@rm -rf $(BUILD)/CMakeCache.txt $(BUILD)/CMakeFiles
	@$(CMAKE) -S . -B $(BUILD) -G "$(GENERATOR)" -DCMAKE_CXX_COMPILER=$(COMPILER) >$(BUILD).configure.log 2>&1 || { cat $(BUILD).configure.log; exit 1; }
	@rm -f $(BUILD).configure.log

configure: $(DEPS_OK) $(BUILD)/CMakeCache.txt

tutor: configure
	@test -x $(TUTOR) || echo "Building the tutor (the first time takes about 15 s)..."
	@$(CMAKE) --build $(BUILD) --target tutor >$(BUILD)/tutor-build.log 2>&1 || { cat $(BUILD)/tutor-build.log; exit 1; }

start: tutor
	@$(TUTOR) start

test: tutor
	@$(TUTOR) grade $(if $(KATA),--kata $(KATA)) $(if $(TEST),--test $(TEST)) $(if $(SANITIZE),--sanitize $(SANITIZE))

check: tutor
	@$(TUTOR) check $(if $(KATA),--kata $(KATA))

stress: tutor
	@$(TUTOR) stress $(if $(KATA),--kata $(KATA)) $(if $(REPEAT),--repeat $(REPEAT))

hint: tutor
	@$(TUTOR) hint $(KATA)

reset: tutor
	@$(TUTOR) reset $(KATA)

solution: tutor
	@$(TUTOR) solution $(KATA) $(if $(FORCE),--force)

list: tutor
	@$(TUTOR) list

lesson: configure
	@test -n "$(N)" || { echo "usage: make lesson N=01"; exit 2; }
	@$(CMAKE) --build $(BUILD) --target $$(ls lessons/$(N)-*/*.cpp | sed 's|lessons/[^/]*/\(.*\)\.cpp|demo.$(N).\1|') >/dev/null
	@for demo in $(BUILD)/bin/demo.$(N).*; do echo "== $$demo"; $$demo || exit 1; echo; done

# Medians of BENCH_REPETITIONS repetitions per benchmark (single runs vary by 2-5x on a busy
# machine); each program's JSON goes to build/bench/; bench/charts/plot.sh prints its speed-ups
# and draws its SVGs.
bench: configure
	@$(CMAKE) --build $(BUILD) --target benches >/dev/null
	@mkdir -p $(BUILD)/bench
	@for b in $(BUILD)/bin/bench.*; do name=$${b##*/bench.}; echo "== $$b"; \
	  $$b --benchmark_counters_tabular=true --benchmark_repetitions=$(BENCH_REPETITIONS) \
	    --benchmark_report_aggregates_only=true $(BENCH_FLAGS) \
	    --benchmark_out=$(BUILD)/bench/$$name.json --benchmark_out_format=json || exit 1; \
	  bench/charts/plot.sh $(BUILD)/bench/$$name.json $(BUILD)/bench || exit 1; echo; done

clean:
	rm -rf $(BUILD)
