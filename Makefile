# The front door. Everything here is a thin wrapper: CMake builds, the tutor grades.
#   make start              set up, build, and show the next kata to work on
#   make test [KATA=01a]    grade your katas (table, build/results.json, build/junit.xml)
#   make check              the project's own test suite (what CI runs)
#   make hint KATA=01a      the next hint        make reset KATA=01a   restore the starter
#   make solution KATA=01a  the solution, once the kata passes (FORCE=1 to insist)
#   make lesson N=01        run a lesson's demos  make bench            the measured tables
#   make list               every lesson and kata

BUILD  ?= build
TUTOR  := $(BUILD)/bin/tutor
CMAKE  ?= cmake
JOBS   ?= 2

.PHONY: start test check bench lesson hint reset solution list deps configure tutor clean

deps:
	@scripts/install-deps.sh

# Configure once; CMake re-configures itself when curriculum.json or a CMakeLists changes.
$(BUILD)/Makefile: | deps
	@$(CMAKE) -S . -B $(BUILD) >$(BUILD).configure.log 2>&1 || { cat $(BUILD).configure.log; exit 1; }
	@rm -f $(BUILD).configure.log

configure: deps $(BUILD)/Makefile

tutor: configure
	@$(CMAKE) --build $(BUILD) --target tutor -j $(JOBS) >/dev/null || $(CMAKE) --build $(BUILD) --target tutor

start: tutor
	@$(TUTOR) start

test: tutor
	@$(TUTOR) grade $(if $(KATA),--kata $(KATA))

check: tutor
	@$(TUTOR) check $(if $(KATA),--kata $(KATA))

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
	@$(CMAKE) --build $(BUILD) -j $(JOBS) --target $$($(CMAKE) --build $(BUILD) --target help | sed -n 's/^\.\.\. \(demo\.$(N)\..*\)/\1/p') >/dev/null
	@for demo in $(BUILD)/bin/demo.$(N).*; do echo "== $$demo"; $$demo || exit 1; echo; done

bench: configure
	@$(CMAKE) --build $(BUILD) -j $(JOBS) --target benches >/dev/null
	@for b in $(BUILD)/bin/bench.*; do echo "== $$b"; $$b --benchmark_counters_tabular=true || exit 1; echo; done

clean:
	rm -rf $(BUILD)
