#!/usr/bin/env bash
# batch-scale.sh — issuance at city scale, measured (a measurement, not a test).
#
# Makes a fresh single-validator demo ledger (embedded CometBFT, `lz ledger init --demo`) and a
# public-security department home on it, generates ROWS synthetic household registers of
# invented people (internal/rig/batchgen: 测试用户 + a number, TEST ID numbers, a fresh holder
# did:key per row), then runs `lz issuer batch` under /usr/bin/time -v and prints rows/s and
# peak RSS (equal within noise for 100,000 and 1,000,000 rows: nothing proportional to the
# row count is held in memory). With REVOKE=1 (default) it then revokes the whole batch with
# `lz issuer revoke --batch ID` and prints the time and the ledger transactions it used.
#
#   scripts/batch-scale.sh [ROWS]         default 100000
#   KEEP=1 scripts/batch-scale.sh 1000000 keep the work directory (the result CSV of 1M rows
#                                         is ~4 GB; the issuer database ~1.5 GB)
#
# Environment: LZ_SCALE_DIR (work directory; default a new one under /tmp), REVOKE=0 to skip
# the bulk revocation, GOMAXPROCS as usual (the batch signs on all of them).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3} GOFLAGS=${GOFLAGS:--buildvcs=false} LANG=${LANG:-C.UTF-8}
ROWS=${1:-100000}
REVOKE=${REVOKE:-1}
W=${LZ_SCALE_DIR:-$(mktemp -d /tmp/lz-scale-XXXXXX)}
mkdir -p "$W"
if [ ! -x /usr/bin/time ]; then # GNU time, for the peak RSS
  echo "batch-scale: installing GNU time"
  $( [ "$(id -u)" = 0 ] || echo sudo ) apt-get install -y time >/dev/null
fi
LZ="$W/lz"
echo "batch-scale: $ROWS rows in $W"
go build -o "$LZ" ./cmd/lz
go build -o "$W/batchgen" ./internal/rig/batchgen

"$LZ" ledger init --home "$W/ledger" --demo >"$W/ledger-init.log"
"$LZ" ledger start --home "$W/ledger" >"$W/ledger.log" 2>&1 &
LEDGER=$!
cleanup() {
  kill -INT "$LEDGER" 2>/dev/null || true
  wait "$LEDGER" 2>/dev/null || true
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$W"; fi
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  "$LZ" ledger status --home "$W/ledger" >/dev/null 2>&1 && break
  sleep 0.2
done

export LZ_ISSUER_PASSPHRASE="scale test passphrase $RANDOM$RANDOM"
"$LZ" issuer init --home "$W/issuer" --id public-security --ledger-home "$W/ledger" >/dev/null
"$W/batchgen" --rows "$ROWS" --out "$W/in.csv"
echo "batch-scale: input $(du -h "$W/in.csv" | cut -f1)"

# time -v reports on stderr after the command's own stderr (the progress lines)
/usr/bin/time -v "$LZ" issuer batch --home "$W/issuer" --type household-register --csv "$W/in.csv" --out "$W/out.csv" \
  >"$W/batch.out" 2>"$W/batch.err"
cat "$W/batch.out"
grep -E '^已完成' "$W/batch.err" | tail -n 3 || true
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$W/batch.err")
rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$W/batch.err")
secs=$(echo "$wall" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
echo "batch-scale: $ROWS rows in ${secs}s = $(awk -v r="$ROWS" -v s="$secs" 'BEGIN { printf "%.0f", r / s }') rows/s, peak RSS $((rss / 1024)) MiB (GOMAXPROCS ${GOMAXPROCS:-$(nproc)})"
echo "batch-scale: result $(du -h "$W/out.csv" | cut -f1), database $(du -ch "$W/issuer/issuer.db"* | tail -n 1 | cut -f1)"

if [ "$REVOKE" = 1 ]; then
  id=$(grep -oE '^batch [0-9a-f]{32}' "$W/batch.out" | cut -d' ' -f2)
  /usr/bin/time -v "$LZ" issuer revoke --home "$W/issuer" --batch "$id" >"$W/revoke.out" 2>"$W/revoke.err"
  cat "$W/revoke.out"
  rwall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$W/revoke.err")
  rrss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$W/revoke.err")
  echo "batch-scale: bulk revocation of the batch: $rwall wall (process), peak RSS $((rrss / 1024)) MiB"
fi
