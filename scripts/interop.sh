#!/usr/bin/env bash
# make interop: install the pinned npm packages of interop/ (only when missing or changed) and
# run the Go tests tagged "interop", which start LianZheng's services on 127.0.0.1 and drive
# independent implementations against them. Needs Node.js (installed from Debian's packages
# when missing) and the npm registry; no other network.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "interop: installing Node.js and npm (Debian packages)"
	SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
	$SUDO apt-get update -qq && $SUDO apt-get install -y -qq nodejs npm
fi
stamp=interop/node_modules/.lz-installed
if [ ! -f "$stamp" ] || [ interop/package-lock.json -nt "$stamp" ]; then
	echo "interop: npm ci (pinned packages of interop/package-lock.json)"
	(cd interop && npm ci --no-audit --no-fund)
	touch "$stamp"
fi
exec ${GO:-go} test -tags interop -count=1 -timeout 30m ./internal/rig/interop/... "$@"
