#!/usr/bin/env bash
# soak-batch.sh — the batch kill -9 test with many iterations (go test runs 6 per kind):
# `Department.RunBatch` in a child process SIGKILLed at random points (checking, signing,
# committing a chunk, writing the result file, opening a status list) and run again with the
# same file, round after round (8 kills a round, then run to the end); after each round every
# row is in the result file exactly once, naming its own record (or a redeemable offer), with
# the records exactly the rows, on distinct status entries.
# Usage: scripts/soak-batch.sh [ITERATIONS]   (default 400: 50 rounds per kind)
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}
LZ_KILL_ITERATIONS=${1:-400} go test -count=1 -timeout 4h -v -run 'TestBatchSurvivesKills' ./issuer/
