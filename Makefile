# Set-up and entry points. Works on a machine with only node, npm, gcc and make:
# when `bun` is not on PATH it is fetched from the npm registry (package `bun`, pinned).
BUN_VERSION := 1.4.5
BUN := $(shell command -v bun 2>/dev/null || echo $(CURDIR)/.tools/node_modules/bun/bin/bun.exe)
NATIVE_LIB := native/build/libpevm_native.so
BLOCK ?= data/mainnet/blocks/19932703

.PHONY: all setup deps native run test bench bench-quick typecheck clean

all: setup

setup: deps native

$(CURDIR)/.tools/node_modules/bun/bin/bun.exe:
	mkdir -p .tools && echo '{"private":true}' > .tools/package.json
	npm install --prefix .tools --no-save --no-audit --no-fund bun@$(BUN_VERSION)

deps: $(BUN)
	$(BUN) install --frozen-lockfile

native: $(NATIVE_LIB)

$(NATIVE_LIB): native/pevm_native.c
	mkdir -p native/build
	$(CC) -O2 -fPIC -shared -Wall -Wextra -o $@ $< -lpthread

run: setup
	$(BUN) run pevm $(BLOCK)

test: setup
	$(BUN) test

bench: setup
	$(BUN) run bench

bench-quick: setup
	$(BUN) run bench --quick

typecheck: deps
	$(BUN) x tsc -p tsconfig.json

clean:
	rm -rf native/build .tools node_modules
