# LianZheng — every command a newcomer or CI needs. Each target installs what it needs first.
export GOTOOLCHAIN := go1.27.3
export GOPROXY ?= https://proxy.golang.org,direct
export GOFLAGS ?= -buildvcs=false
export LANG ?= C.UTF-8
export PATH := $(PATH):/usr/local/go/bin:/usr/lib/go/bin

GO ?= go
FUZZTIME ?= 10s
BENCHTIME ?= 1s

.PHONY: all deps run package demo test test-short bench fuzz lint consortium clean

all: test

## deps: install apt packages for Fyne's cgo build and the Go toolchain, only when missing
deps:
	@bash scripts/bootstrap.sh

## run: launch the LianZheng app (链证通) on an embedded single-node ledger with the demo
## departments (state in ~/.local/share/lianzheng/demo, or LZ_HOME)
run: deps
	$(GO) run .

## demo: the real-estate scenario end to end, headless, on a fresh embedded ledger
demo: deps
	$(GO) run ./cmd/lz demo

FYNE_TOOLS ?= fyne.io/tools/cmd/fyne@v1.7.4

## package: the Linux desktop package (链证通.tar.xz: binary, icon, .desktop) with fyne package
package: deps
	$(GO) run $(FYNE_TOOLS) package -os linux

## test: every test, with the race detector
test: deps
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...

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
	rm -rf .lz
