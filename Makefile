# Set-up and entry points. Works on a machine with only node, npm, gcc and make:
# when `bun` is not on PATH it is fetched from the npm registry (package `bun`, pinned).
BUN_VERSION := 1.4.5
TOOLS_BUN := $(CURDIR)/.tools/bin/bun
BUN := $(shell command -v bun 2>/dev/null || echo $(TOOLS_BUN))
# Sub-processes (tests spawn the CLI) find the same bun.
export PATH := $(dir $(BUN)):$(PATH)
NATIVE_LIB := native/build/libpevm_native.so
BLOCK ?= data/mainnet/blocks/19932703

.PHONY: all setup deps native run test bench bench-quick typecheck pack clean

all: setup

setup: deps native

$(TOOLS_BUN):
	mkdir -p .tools/bin && echo '{"private":true}' > .tools/package.json
	npm install --prefix .tools --no-save --no-audit --no-fund bun@$(BUN_VERSION)
	# npm links the platform binary into bun/bin (or its install script copies it there).
	for candidate in .tools/node_modules/bun/bin/bun.exe .tools/node_modules/@oven/bun-linux-x64/bin/bun; do \
	  if "$$candidate" --version >/dev/null 2>&1; then ln -sf "$(CURDIR)/$$candidate" $(TOOLS_BUN); break; fi; \
	done
	$(TOOLS_BUN) --version

node_modules/.installed: package.json bun.lock | $(BUN)
	$(BUN) install --frozen-lockfile
	touch $@

deps: node_modules/.installed

native: $(NATIVE_LIB)

$(NATIVE_LIB): native/pevm_native.c
	mkdir -p native/build
	$(CC) -O2 -fPIC -shared -Wall -Wextra -o $@ $< -lpthread

run: setup
	$(BUN) run pevm $(BLOCK)

# Bun 1.4.5 ignores bunfig's test timeout; suites that take minutes set their own, this is the default.
test: setup
	$(BUN) test --timeout 600000

bench: setup
	$(BUN) run bench

bench-quick: setup
	$(BUN) run bench --quick

typecheck: deps
	$(BUN) x tsc -p tsconfig.json

# The package tarball (pevm-<version>.tgz): declarations and the bundled worker are built first (prepack).
pack: deps
	$(BUN) pm pack

clean:
	rm -rf native/build .tools node_modules dist
