# Thin wrapper over CMake: the README's two quick-start commands.
BUILD ?= build
COVERAGE_BUILD ?= build-coverage
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc)

.PHONY: all configure demo test bench coverage clean

all: configure
	cmake --build $(BUILD) -j $(JOBS)

configure:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

demo: all
	$(BUILD)/helhost run --trace $(BUILD)/examples/hello

test: all
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 120

bench: all
	$(BUILD)/bench/helhost-bench --json $(BUILD)/bench.json --svg $(BUILD)/bench.svg

# Line and branch coverage of src/ and shim/ over the whole suite (needs gcovr).
# Auto-started emulators write their counters when they end, shortly after
# their test: wait for every emulator of this build to be gone before reading.
coverage:
	cmake -S . -B $(COVERAGE_BUILD) -DHELHOST_COVERAGE=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(COVERAGE_BUILD) -j $(JOBS)
	find $(COVERAGE_BUILD) -name '*.gcda' -delete
	cd $(COVERAGE_BUILD) && CK_TIMEOUT_MULTIPLIER=4 ctest --output-on-failure -j $(JOBS) \
		--timeout 600; echo $$? >ctest.status
	emu=$$(realpath $(COVERAGE_BUILD)/helhost); for i in $$(seq 300); do \
		ls -l /proc/[0-9]*/exe 2>/dev/null | grep -q -- "-> $$emu$$" || break; sleep 0.1; done
	gcovr -r . $(COVERAGE_BUILD) -f src/ -f shim/ --exclude-unreachable-branches \
		-s --txt $(COVERAGE_BUILD)/coverage.txt --html-details $(COVERAGE_BUILD)/coverage.html
	gcovr -r . $(COVERAGE_BUILD) -f src/ -f shim/ --exclude-unreachable-branches \
		-b --txt $(COVERAGE_BUILD)/coverage-branches.txt
	@echo "per file: $(COVERAGE_BUILD)/coverage.txt (lines), coverage-branches.txt, coverage.html"
	@exit $$(cat $(COVERAGE_BUILD)/ctest.status)

clean:
	rm -rf $(BUILD) $(COVERAGE_BUILD)
