# HandsOn: `make demo` runs the main chapter end to end, `make test` runs every test.
# Both set up what is missing first (on Debian as root: Docker 26 with BuildKit from Debian 13's packages, a second
# dockerd on the containerd image store, Podman, debootstrap, curl, chromium; the daemons started).

SWIFT   ?= swift
HANDSON := .build/debug/handson
# The second Docker daemon, on the containerd image store (started by scripts/setup-engine.sh).
CONTAINERD_HOST ?= unix:///run/handson-containerd-store/docker.sock

.PHONY: all setup build release-build image message-keys demo test test-clock unit-test stress-test matrix lab clean bench install uninstall vm-test format format-check

all: build

setup:
	$(TIMED) setup bash scripts/setup-engine.sh

build:
	$(TIMED) build $(SWIFT) build

lab: setup build
	$(HANDSON) lab prepare

# The main chapter end to end: every step of optimize-image run by the engine with its reference solution.
demo: lab
	$(HANDSON) run optimize-image --solution

# The whole suite on the default engine (Docker 26, BuildKit, overlay2; the first end-to-end test prepares the lab
# images itself, from nothing on a new machine), every chapter proved there, then the other engines of the matrix.
# Each phase is timed (scripts/timed.sh): the log ends with where the time went.
TIMED = bash scripts/timed.sh
test: test-clock format-check setup build release-build
	$(TIMED) e2e-default-engine env HANDSON_E2E=1 $(SWIFT) test --skip EngineMatrix
	$(TIMED) stress-test $(MAKE) stress-test
	$(TIMED) dev-check-default $(HANDSON) dev check
	$(MAKE) matrix
	@$(TIMED) --summary

test-clock:
	@$(TIMED) --reset

# The release binary (the Swift runtime linked in) that make install copies and the VM test grades with. make test
# builds it before the end-to-end tests, whose install test would otherwise build it beside the other suites.
RELEASE_BUILD = $(SWIFT) build -c release --product handson --static-swift-stdlib --scratch-path .build-install
release-build:
	$(TIMED) release-build $(RELEASE_BUILD)

# HandsOn as a container image (scripts/make-image.sh): the release binary and the course files, with the docker CLI,
# its buildx plugin and curl, on an empty base. HANDSON_IMAGE names its tag (handson:latest).
image: release-build
	scripts/make-image.sh .build-install/release/handson

# The other engines: Docker's containerd image store, the classic builder, Podman. On each, the reference solutions
# and example answers (dev check) of the chapters whose grades hang on the builder or the store: the main chapter,
# build time (each builder's cache) and security (each store's layers); every chapter is proven on the default engine.
# Then one test grades the sample class (every tier and failure kind, the disk fillers among them) on all four engines
# and compares sizes and scores; and on each, that an answer's container has no network but loopback.
MATRIX_CHAPTERS = optimize-image build-time secure-image
matrix: build
	$(TIMED) lab-prepare-containerd env DOCKER_HOST=$(CONTAINERD_HOST) $(HANDSON) lab prepare
	$(TIMED) lab-prepare-podman $(HANDSON) lab prepare --engine podman
	$(TIMED) dev-check-containerd env DOCKER_HOST=$(CONTAINERD_HOST) $(HANDSON) dev check $(MATRIX_CHAPTERS)
	$(TIMED) dev-check-classic env DOCKER_BUILDKIT=0 $(HANDSON) dev check $(MATRIX_CHAPTERS)
	$(TIMED) dev-check-podman $(HANDSON) dev check --engine podman $(MATRIX_CHAPTERS)
	$(TIMED) matrix-batch env HANDSON_E2E=1 HANDSON_MATRIX=1 HANDSON_CONTAINERD_HOST=$(CONTAINERD_HOST) \
		$(SWIFT) test --filter EngineMatrix
	$(TIMED) matrix-network env HANDSON_E2E=1 HANDSON_MATRIX=1 HANDSON_CONTAINERD_HOST=$(CONTAINERD_HOST) \
		$(SWIFT) test --filter 'HostSurvivesAnswersTests/theAnswersContainerHasNoInterfaceButLoopback'
	$(MAKE) vm-test

# The build limits on the host kind contests and classes use: a VM (QEMU, software emulation) with systemd on cgroup v2,
# Docker 26 and Podman as root and rootless, built from Debian's packages once per machine and cached in
# /var/cache/handson-vm (scripts/vm/build-image.sh). HandsOn's release binary grades the fixture course there.
vm-test: release-build
	$(TIMED) vm-test bash -c 'HANDSON_VM=1 $(SWIFT) test --filter HostKindsVMTests; status=$$?; bash scripts/vm/stop.sh; exit $$status'

# The catalogs' keys as member chains the compiler checks (Sources/HandsOnMessages/MessageKey+Catalog.swift), written
# from Catalogs/en.json: run after adding or removing a key (a unit test fails while the file is stale).
message-keys:
	python3 scripts/generate-message-keys.py

# The toolchain's formatter with the project's .swift-format: `make format` formats the tree; `format-check` (the
# first step of `make test`) fails on any file it would change, naming the files.
FORMATTED = Package.swift Sources Tests
format:
	$(SWIFT) format format --configuration .swift-format --in-place --recursive --parallel $(FORMATTED)

format-check:
	@rm -rf .build/format-check && mkdir -p .build/format-check && cp -R $(FORMATTED) .build/format-check/
	@$(SWIFT) format format --configuration .swift-format --in-place --recursive --parallel .build/format-check
	@changed=$$(for path in $(FORMATTED); do diff -rq "$$path" ".build/format-check/$$(basename $$path)" >/dev/null 2>&1 \
		|| diff -rq "$$path" ".build/format-check/$$(basename $$path)" 2>/dev/null | sed -E 's/^Files ([^ ]+) and .*/\1/'; done); \
		rm -rf .build/format-check; \
		if [ -n "$$changed" ]; then echo "not formatted (run make format):"; echo "$$changed"; exit 1; fi
	@echo "format-check: every Swift file is formatted"

# Unit tests only: no engine needed.
unit-test:
	$(SWIFT) test --skip EndToEndTests
	$(MAKE) stress-test

# The process runner under load (thousands of children beside descriptor churn), alone: beside the other suites it
# would starve their timed tests.
stress-test:
	HANDSON_STRESS=1 $(SWIFT) test --filter ProcessRunnerStressTests

clean:
	rm -rf .build .build-install

# `make install [PREFIX=/usr/local]`: the release binary (the Swift runtime linked in, so it needs no toolchain) to
# PREFIX/bin/handson and the course files to PREFIX/share/handson, where the binary finds them from any folder.
# Every path written is listed in PREFIX/share/handson/install-manifest.txt, which `make uninstall` removes exactly.
PREFIX ?= /usr/local
SHARE   = $(DESTDIR)$(PREFIX)/share/handson
install:
	$(RELEASE_BUILD)
	@# The folders this makes (PREFIX, bin, share) are listed too, so that uninstall leaves PREFIX as it found it.
	@for dir in "$(DESTDIR)$(PREFIX)" "$(DESTDIR)$(PREFIX)/bin" "$(DESTDIR)$(PREFIX)/share"; do \
		[ -d "$$dir" ] || echo "$$dir"; done > .build-install/new-folders.txt
	install -D -m 0755 .build-install/release/handson "$(DESTDIR)$(PREFIX)/bin/handson"
	rm -rf "$(SHARE)" && mkdir -p "$(SHARE)"
	cp -R Chapters apps "$(SHARE)/"
	{ cat .build-install/new-folders.txt; echo "$(DESTDIR)$(PREFIX)/bin/handson"; echo "$(SHARE)"; find "$(SHARE)" -mindepth 1 | sort; \
		echo "$(SHARE)/install-manifest.txt"; } > "$(SHARE)/install-manifest.txt"
	@echo "installed: $(DESTDIR)$(PREFIX)/bin/handson and $(SHARE)"

uninstall:
	@test -f "$(SHARE)/install-manifest.txt" || { echo "nothing installed under $(DESTDIR)$(PREFIX) (no $(SHARE)/install-manifest.txt)"; exit 1; }
	# Files first, then the folders deepest first, each only as listed.
	sort -r "$(SHARE)/install-manifest.txt" | while IFS= read -r path; do \
		if [ -d "$$path" ] && [ ! -L "$$path" ]; then rmdir "$$path"; else rm -f "$$path"; fi; done
	@echo "removed what was installed under $(DESTDIR)$(PREFIX)"

# Benchmarks (not part of make test): print ratios, exit non-zero when a goal is missed.
bench: lab
	python3 bench/bench.py
