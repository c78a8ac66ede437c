#!/usr/bin/env bash
# soak-receive.sh — the wallet's receive kill -9 test with many iterations (make test runs 8):
# `lz wallet receive` SIGKILLed at random points against the real department service, half the
# time the next start killed too; after each, zero credentials lost and zero orphaned keys.
# Usage: scripts/soak-receive.sh [ITERATIONS]   (default 300)
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}
LZ_KILL_ITERATIONS=${1:-300} go test -count=1 -timeout 4h -v -run 'TestReceiveSurvivesKills' ./wallet/
