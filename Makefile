# HandsOn: `make demo` runs the main chapter end to end, `make test` runs every test.
# Both set up what is missing first (on Debian as root: docker.io, debootstrap, curl, podman, chromium; dockerd started).

SWIFT   ?= swift
HANDSON := .build/debug/handson

.PHONY: all setup build demo test unit-test lab clean bench

all: build

setup:
	bash scripts/setup-engine.sh

build:
	$(SWIFT) build

lab: setup build
	$(HANDSON) lab prepare

# The main chapter end to end: every step of optimize-image run by the engine with its reference solution.
demo: lab
	$(HANDSON) run optimize-image --solution

# End-to-end tests are enabled here; the first one prepares the lab images itself (from nothing on a new machine).
test: setup build
	HANDSON_E2E=1 $(SWIFT) test
	$(HANDSON) dev check

# Unit tests only: no engine needed.
unit-test:
	$(SWIFT) test --filter HandsOnKitTests

clean:
	rm -rf .build

# Benchmarks (not part of make test): print ratios, exit non-zero when a goal is missed.
bench: lab
	python3 bench/bench.py
