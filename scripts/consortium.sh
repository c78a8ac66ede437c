#!/usr/bin/env bash
# consortium.sh — run a local 4-validator LianZheng consortium ledger on loopback.
#
# Builds lz (CGO_ENABLED=0), initialises a 4-validator testnet in .lz/consortium if there is
# none yet (public-security, civil-affairs, market-regulation and vehicle-admin run the
# validators; realestate is a member without one), starts the four nodes in the background,
# prints their status every few seconds, and stops all four cleanly on Ctrl-C.
#
#   DIR=.lz/consortium BASE_PORT=26656 INTERVAL=3 bash scripts/consortium.sh
#
# Node i listens for p2p on BASE_PORT+10i and for RPC on BASE_PORT+10i+1 (node0: 26656/26657).
# Logs: DIR/node<i>.log. Delete DIR (make clean) to start a fresh chain.
set -euo pipefail
cd "$(dirname "$0")/.."

DIR=${DIR:-.lz/consortium}
BASE_PORT=${BASE_PORT:-26656}
INTERVAL=${INTERVAL:-3}
N=4
GO=${GO:-go}
LZ=.lz/bin/lz

mkdir -p .lz/bin
echo "consortium: building lz (CGO_ENABLED=0)…"
CGO_ENABLED=0 "$GO" build -o "$LZ" ./cmd/lz

if [ ! -f "$DIR/nodes.json" ]; then
  "$LZ" ledger testnet init --validators "$N" --dir "$DIR" --base-port "$BASE_PORT"
else
  echo "consortium: reusing $DIR (delete it for a fresh chain)"
fi

pids=()
stopping=0
stop_all() {
  [ "$stopping" = 1 ] && return
  stopping=1
  trap '' INT TERM
  echo
  echo "consortium: stopping ${#pids[@]} nodes…"
  for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  for _ in $(seq 1 300); do # up to 30 s for a clean stop
    alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do
    if kill -0 "$p" 2>/dev/null; then echo "consortium: node pid $p did not stop, killing it"; kill -KILL "$p" 2>/dev/null || true; fi
  done
  wait 2>/dev/null || true
  echo "consortium: stopped (state kept in $DIR)"
}
trap stop_all EXIT
trap 'stop_all; exit 130' INT TERM

for i in $(seq 0 $((N - 1))); do
  # setsid: the terminal's Ctrl-C reaches this script only; it stops each node exactly once.
  setsid "$LZ" ledger start --home "$DIR/node$i" >>"$DIR/node$i.log" 2>&1 &
  pids+=("$!")
done
echo "consortium: started nodes (pids ${pids[*]}), logs in $DIR/node<i>.log; Ctrl-C stops them"

while true; do
  sleep "$INTERVAL"
  line="$(date +%T)"
  for i in $(seq 0 $((N - 1))); do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      s="exited (see $DIR/node$i.log)"
    elif ! s=$("$LZ" ledger status --home "$DIR/node$i" --timeout 2s 2>/dev/null); then
      s="no answer"
    fi
    line+=$'\n'"  node$i $s"
  done
  echo "$line"
done
