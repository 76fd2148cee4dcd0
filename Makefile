# The front door. `make run` and `make test` work as the first commands on a fresh
# Debian 12 machine: each installs what is missing (scripts/deps.sh) before building.

BUILD      ?= build
TEST_BUILD ?= build-test
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
WERROR     := $(if $(CSVPIPE_WERROR),ON,OFF)
FUZZ_SECONDS ?= 60

# `make install` (GNU conventions: PREFIX, DESTDIR for staging).
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

# A short build log: cmake's own make runs below this one, and would print every
# "Entering directory" of its recursion.
MAKEFLAGS  += --no-print-directory

.PHONY: all build run test test-build soak fuzz bench format clean deps node-deps install \
	uninstall image

all: build

deps:
	@scripts/deps.sh build

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DCSVPIPE_TESTS=OFF \
	    -DCSVPIPE_WERROR=$(WERROR) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

install: build
	@install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(MANDIR)/man1" "$(DESTDIR)$(BASHCOMPDIR)"
	@install -m 755 $(BUILD)/csvpipe "$(DESTDIR)$(BINDIR)/csvpipe"
	@install -m 644 docs/csvpipe.1 "$(DESTDIR)$(MANDIR)/man1/csvpipe.1"
	@install -m 644 scripts/completion.bash "$(DESTDIR)$(BASHCOMPDIR)/csvpipe"
	@echo "installed $(DESTDIR)$(BINDIR)/csvpipe, $(DESTDIR)$(MANDIR)/man1/csvpipe.1," \
	    "$(DESTDIR)$(BASHCOMPDIR)/csvpipe"

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/csvpipe" "$(DESTDIR)$(MANDIR)/man1/csvpipe.1" \
	    "$(DESTDIR)$(BASHCOMPDIR)/csvpipe"

run: build
	@scripts/run-example.sh $(BUILD)/csvpipe

# The Lambda image csvpipe-lambda:latest, with docker or (no daemon) buildah: scripts/image.sh.
image:
	@scripts/image.sh

node-deps:
	@scripts/node-deps.sh tests/js

test: test-build
	@cd $(TEST_BUILD) && ctest --output-on-failure --no-tests=error -j $(JOBS) --timeout 900

# The test build: sanitizers and the fault injection of src/util/fault.h.
test-build:
	@scripts/check-deps.sh
	@scripts/deps.sh all $(TEST_BUILD)
	@scripts/node-deps.sh tests/js
	@cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCSVPIPE_SANITIZE=ON \
	    -DCSVPIPE_FAULTS=ON -DCSVPIPE_WERROR=$(WERROR) >/dev/null
	@cmake --build $(TEST_BUILD) -j $(JOBS)

# kill -9 at random moments of run and watch, SOAK_KILLS (50) times each, invariants after
# each (tests/soak/kill_soak.sh; SOAK_SEED repeats a soak).
soak: test-build
	@CP_BUILD_DIR=$(abspath $(TEST_BUILD)) tests/soak/kill_soak.sh

fuzz:
	@scripts/deps.sh all
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCSVPIPE_FUZZ=ON \
	    -DCSVPIPE_TESTS=OFF >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@scripts/run-fuzz.sh $(FUZZ_BUILD)/fuzz $(FUZZ_SECONDS)

bench: build
	@bench/run.sh $(BUILD)/csvpipe

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(TEST_BUILD) $(FUZZ_BUILD)
