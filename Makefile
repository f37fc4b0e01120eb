# Thin wrapper over CMake: the README's two quick-start commands.
BUILD ?= build
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc)

.PHONY: all configure demo test bench clean

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

clean:
	rm -rf $(BUILD)
