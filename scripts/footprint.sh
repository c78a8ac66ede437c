#!/usr/bin/env bash
# footprint.sh — what a citizen's phone carries: the number of packages behind ./wallet, and the
# size of an android/arm64 CGO_ENABLED=0 build of internal/rig/footprint (a program using the
# wallet and verifier cores). Also checks that no validator code is linked. Run by `make bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
forbidden='github.com/cometbft/cometbft/(node|p2p|consensus|mempool|privval|blocksync|statesync)(/|$)'
pk=$($GO list -deps ./wallet | wc -l)
pkv=$($GO list -deps ./wallet ./verifier | wc -l)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
GOOS=android GOARCH=arm64 CGO_ENABLED=0 $GO build -trimpath -o "$out/footprint" ./internal/rig/footprint
size=$(stat -c %s "$out/footprint")
GOOS=android GOARCH=arm64 CGO_ENABLED=0 $GO build -trimpath -ldflags='-s -w' -o "$out/footprint-stripped" ./internal/rig/footprint
ssize=$(stat -c %s "$out/footprint-stripped")
printf 'footprint: packages behind ./wallet: %d (wallet+verifier: %d)\n' "$pk" "$pkv"
awk -v a="$size" -v b="$ssize" 'BEGIN { printf "footprint: android/arm64 wallet+verifier program: %.1f MB (stripped %.1f MB)\n", a/1e6, b/1e6 }'
bad=$($GO list -deps ./wallet ./verifier ./issuer/... | grep -E "$forbidden" || true)
if [ -n "$bad" ]; then
  echo "footprint: FAIL: the cores link validator code:"; echo "$bad"; exit 1
fi
echo "footprint: no validator code behind wallet, verifier, issuer"
