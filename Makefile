# LianZheng — every command a newcomer or CI needs. Each target installs what it needs first.
export GOTOOLCHAIN := go1.27.3
export GOFLAGS ?= -buildvcs=false
export LANG ?= C.UTF-8
export PATH := $(PATH):/usr/local/go/bin:/usr/lib/go/bin

GO ?= go
FUZZTIME ?= 10s
BENCHTIME ?= 1s

.PHONY: all deps run lz package demo federation test test-short bench fuzz lint consortium interop clean

all: test

## deps: install apt packages for Fyne's cgo build and the Go toolchain, only when missing
deps:
	@bash scripts/bootstrap.sh

## run: build the LianZheng app (链证通) as ./bin/lianzheng and launch it on an embedded single-node
## ledger with the demo departments (state in ~/.local/share/lianzheng/demo, or LZ_HOME). The first
## run downloads the Go toolchain and modules and compiles Fyne's cgo code (minutes); each step
## says so first and prints its progress every 15 s (scripts/build.sh). Later runs take seconds.
## `make run TAGS=mobile` runs Fyne's phone simulation. LANGUAGE is given (when unset) because
## Fyne reads the locale in its package initialisation, before main, and logs "Error parsing user
## locale C" for C.UTF-8 (this Makefile's LANG when none is set) unless LANGUAGE names a language;
## the app then selects its own language (its preference, 中文 by default) either way.
TAGS ?=
run: deps
	@TAGS=$(TAGS) bash scripts/build.sh . bin/lianzheng 编译图形界面 "building the app" "首次约 8 分钟" "first time about 8 min"
	LANGUAGE=$${LANGUAGE:-zh-Hans} ./bin/lianzheng

## lz: build the headless command line as ./bin/lz (./bin/lz help lists its commands)
lz: deps
	@bash scripts/build.sh ./cmd/lz bin/lz "编译命令行工具 lz" "building the lz command line" "首次约 4 分钟" "first time about 4 min"

## demo: the real-estate scenario end to end, headless, on a fresh embedded ledger
demo: lz
	./bin/lz demo

## federation: the cross-region scenario (跨区域互认), headless: two consortia on loopback, region B
## with three validators; agreements by governance, online and offline verification, revocation,
## withdrawal (docs/federation.md)
federation: lz
	./bin/lz demo --federation

## package: the Linux desktop package (链证通.tar.xz: binary, icon, .desktop) with fyne package;
## FyneApp.toml and the rest of the tree are left as they were (scripts/package.sh checks git status)
FYNE_TOOLS ?= fyne.io/tools/cmd/fyne@v1.7.4
package: deps
	@FYNE_TOOLS=$(FYNE_TOOLS) bash scripts/package.sh

## test: every test, with the race detector
test: deps
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...

## interop: independent implementations (pinned npm packages in interop/: OWF sd-jwt-js and OpenID4VC,
## Digital Bazaar vc) against the live services on 127.0.0.1 (scripts/interop.sh installs them when missing)
interop: deps
	@bash scripts/interop.sh

## bench: performance figures, each printed beside its floor measured in the same run, and what
## a phone carries (scripts/footprint.sh: packages behind ./wallet, android/arm64 build size)
bench: deps
	@bash scripts/footprint.sh
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) -count 1 ./...

## fuzz: each fuzz target for FUZZTIME
fuzz: deps
	@bash scripts/fuzz.sh $(FUZZTIME)

## consortium: 4 validators on loopback in .lz/consortium (made once), status every 3 s; Ctrl-C stops all
consortium: deps
	@bash scripts/consortium.sh

## lint: go vet plus gofmt
lint: deps
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

clean:
	rm -rf .lz bin
