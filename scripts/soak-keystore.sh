#!/usr/bin/env bash
# soak-keystore.sh — the keystore's kill -9 tests with many iterations (make test runs 14).
# Usage: scripts/soak-keystore.sh [ITERATIONS]   (default 300)
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}
LZ_KILL_ITERATIONS=${1:-300} go test -count=1 -timeout 2h -v -run 'TestUnlockSurvivesKills|TestWrongGuessesCountedDespiteKills' ./internal/keystore/
