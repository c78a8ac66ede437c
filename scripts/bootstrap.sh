#!/usr/bin/env bash
# bootstrap.sh — install what LianZheng needs on a fresh Debian machine, idempotently.
#
# Installs only what is missing: the apt packages Fyne's cgo build needs, and a Go
# toolchain able to fetch go1.27.3 through GOTOOLCHAIN. Safe to run any number of times.
set -euo pipefail

APT_PKGS=(gcc pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev
          libxinerama-dev libxi-dev libxxf86vm-dev)

missing=()
for p in "${APT_PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ! command -v go >/dev/null 2>&1 && [ ! -x /usr/local/go/bin/go ]; then
  missing+=(golang-go)
fi

if [ "${#missing[@]}" -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The toolchain itself: any go >= 1.21 downloads GOTOOLCHAIN from the module proxy.
GO=$(command -v go || echo /usr/local/go/bin/go)
GOTOOLCHAIN=go1.27.3 "$GO" version >/dev/null
