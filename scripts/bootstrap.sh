#!/usr/bin/env bash
# bootstrap.sh — install what LianZheng needs on a fresh Debian machine, idempotently.
#
# Installs only what is missing: the apt packages Fyne's cgo build needs, and a Go
# toolchain able to fetch the one go.mod names through GOTOOLCHAIN. Safe to run any number of
# times; silent when nothing is missing. Each step that downloads says so first, with a rough
# duration, and prints an elapsed-time line every 15 s while it runs (scripts/progress.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/progress.sh

# chromium: for the headless-browser test of the portal's pages (portal/browser_test.go, docs/portal.md).
APT_PKGS=(gcc pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev
          libxinerama-dev libxi-dev libxxf86vm-dev chromium)

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
  step "安装系统软件包 ${missing[*]}（约 1–2 分钟）" "installing system packages ${missing[*]} (about 1-2 min)"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  start=$SECONDS
  ticking "安装系统软件包" "installing system packages" -- $SUDO apt-get update -qq
  ticking "安装系统软件包" "installing system packages" -- \
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  done_in "系统软件包已安装" "system packages installed" "$start"
fi

# The toolchain itself: any go >= 1.21 downloads GOTOOLCHAIN from Go's default module proxy
# (about 76 MB, once; it is kept in the module cache).
GO=$(command -v go || echo /usr/local/go/bin/go)
want=${GOTOOLCHAIN:-}
case "$want" in
  go1.*) ;;
  *) want=go$(awk '$1 == "go" { print $2; exit }' go.mod) ;;
esac
have=$(GOTOOLCHAIN=local "$GO" env GOVERSION 2>/dev/null || true)
if [ "$have" != "$want" ]; then
  cache=$(GOTOOLCHAIN=local "$GO" env GOMODCACHE)
  plat=$(GOTOOLCHAIN=local "$GO" env GOOS)-$(GOTOOLCHAIN=local "$GO" env GOARCH)
  if [ ! -d "$cache/golang.org/toolchain@v0.0.1-$want.$plat" ]; then
    step "下载 Go 工具链 $want（约 76 MB，约 1 分钟，只需一次）" \
         "downloading the Go toolchain $want (about 76 MB, about 1 min, once)"
    start=$SECONDS
    ticking "下载 Go 工具链" "downloading the Go toolchain" -- env GOTOOLCHAIN="$want" "$GO" version >/dev/null
    done_in "Go 工具链已就绪" "Go toolchain ready" "$start"
  fi
fi
GOTOOLCHAIN=$want "$GO" version >/dev/null
