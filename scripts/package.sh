#!/usr/bin/env bash
# package.sh [FYNE_PACKAGE_ARGS…] — the Linux desktop package 链证通.tar.xz with
# `fyne package -os linux` (or `fyne package ARGS…`, e.g. `-os android -app-id …`), leaving the
# source tree exactly as it found it.
#
# `fyne package` (fyne.io/tools v1.7.4) increments `Build` in FyneApp.toml after every
# successful run, with or without -release, and writes fyne_metadata_init.go into the source
# directory while it builds. This script keeps a copy of FyneApp.toml and puts it back on any
# exit (success, failure or Ctrl-C), removes a left-over metadata file, and then checks that
# `git status` is what it was before packaging: a packaging run that changed the tree fails.
#
#   FYNE_TOOLS=fyne.io/tools/cmd/fyne@v1.7.4 bash scripts/package.sh
#
# The Linux package makes the app the desktop's handler of openid4vp:// links (an online
# service's request, docs/portal.md): its .desktop entry gets `MimeType=x-scheme-handler/
# openid4vp;` and `Exec=lianzheng %u`. fyne package (v1.7.4) writes a MimeType only from
# FyneApp.toml's [CanOpen], and then always with `%F` (a list of files: a desktop would not
# pass it a URL), so the script rewrites the entry inside the tarball after fyne made it.
#
# FYNE_CMD replaces the whole `go run $FYNE_TOOLS` command (the tests use a stand-in that
# behaves like fyne package on FyneApp.toml and writes a tarball shaped like fyne's, to check
# the restore and the desktop entry without a real build).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/progress.sh

GO=${GO:-go}
FYNE_TOOLS=${FYNE_TOOLS:-fyne.io/tools/cmd/fyne@v1.7.4}
read -r -a fyne <<<"${FYNE_CMD:-$GO run $FYNE_TOOLS}"
args=("$@")
if [ "${#args[@]}" -eq 0 ]; then args=(-os linux); fi
meta=fyne_metadata_init.go
out=链证通.tar.xz

ingit=false
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then ingit=true; fi
state() { git status --porcelain=v1 --untracked-files=all 2>/dev/null; }
before=""
if $ingit; then before=$(state); fi

saved=$(mktemp)
cp FyneApp.toml "$saved"
hadmeta=false
if [ -e "$meta" ]; then hadmeta=true; fi
restore() {
  cp "$saved" FyneApp.toml
  rm -f "$saved"
  if ! $hadmeta; then rm -f "$meta"; fi
}
trap restore EXIT

# register_handler DIR: the package's Makefile (fyne's: install, user-install, …) also tells the
# desktop about the handler after installing — update-desktop-database rebuilds the MIME cache
# of the applications directory it installed into, and a user install makes the app the user's
# default for openid4vp:// (xdg-mime). Either tool missing is skipped, not an error.
register_handler() {
  local mk
  mk=$(find "$1" -maxdepth 2 -name Makefile -type f | head -n 1)
  if [ -z "$mk" ]; then
    printf '安装包里没有 Makefile / the package holds no Makefile\n' >&2
    return 1
  fi
  awk -v scheme="$scheme" '
    function extra(rule) {
      if (rule == "install")
        print "\t@if command -v update-desktop-database >/dev/null; then update-desktop-database -q $(DESTDIR)$(PREFIX)/share/applications; fi"
      if (rule == "user-install") {
        print "\t@if command -v update-desktop-database >/dev/null; then update-desktop-database -q $(DESTDIR)$(HOME)/.local/share/applications; fi"
        print "\t@if command -v xdg-mime >/dev/null; then xdg-mime default $(AppID).desktop " scheme "; fi"
      }
    }
    cur != "" && !/^\t/ { extra(cur); cur = "" }
    /^(install|user-install):/ { cur = $0; sub(/:.*/, "", cur) }
    { print }
    END { if (cur != "") extra(cur) }
  ' "$mk" > "$mk.new"
  mv "$mk.new" "$mk"
}

# scheme_handler TARBALL: the one .desktop entry in TARBALL declares the openid4vp scheme and
# passes the link (%u); every other member is kept as it was.
scheme=x-scheme-handler/openid4vp
scheme_handler() {
  local tarball=$1 work entries entry
  work=$(mktemp -d)
  tar -xJf "$tarball" -C "$work"
  mapfile -t entries < <(find "$work" -path '*/share/applications/*.desktop' -type f)
  if [ "${#entries[@]}" -ne 1 ]; then
    printf '安装包里应有一个 .desktop 文件，实际 %d 个 / the package should hold one .desktop entry, it holds %d\n' "${#entries[@]}" "${#entries[@]}" >&2
    rm -rf "$work"
    return 1
  fi
  entry=${entries[0]}
  # Exec: the program and the URL field code, nothing else (%F/%U and the like dropped)
  sed -i -E 's/^Exec=([^ ]+).*$/Exec=\1 %u/' "$entry"
  if ! grep -q '^MimeType=' "$entry"; then
    sed -i "/^Exec=/a MimeType=$scheme;" "$entry"
  elif ! grep -q "^MimeType=.*$scheme;" "$entry"; then
    sed -i -E "/^MimeType=/s|;?\$|;$scheme;|" "$entry"
  fi
  register_handler "$work"
  newtar=$(mktemp --suffix=.tar.xz)
  (cd "$work" && XZ_OPT=${XZ_OPT:--T0} tar -cJf "$newtar" -- *)
  chmod 0644 "$newtar"
  mv "$newtar" "$tarball"
  rm -rf "$work"
}

step "打包：fyne package ${args[*]}（首次约 10 分钟：下载 fyne 工具，并以 fyne 的加固编译参数重新编译 cgo 包，OpenGL 最慢；之后约 3 分钟，主要是链接与 xz 压缩）" \
     "packaging: fyne package ${args[*]} (first time about 10 min: fetching the fyne tool and recompiling the cgo packages with fyne's hardening flags, OpenGL the slowest; then about 3 min, mostly linking and xz compression)"
start=$SECONDS
ticking "打包" "packaging" -- "${fyne[@]}" package "${args[@]}"
if [ "${args[*]}" = "-os linux" ]; then
  step "安装包声明 openid4vp:// 链接的处理程序" "the package declares the handler of openid4vp:// links"
  scheme_handler "$PWD/$out"
fi
restore
trap - EXIT

if $ingit; then
  after=$(state)
  changed=false
  if [ "$before" != "$after" ]; then changed=true; fi
  if ! grep -q ' FyneApp.toml$' <<<"$before" && ! git diff --quiet -- FyneApp.toml; then changed=true; fi
  if $changed; then
    printf '打包改动了源码树 / packaging changed the source tree:\n' >&2
    diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") >&2 || true
    exit 1
  fi
fi
if [ "${args[*]}" = "-os linux" ]; then
  size=$(stat -c %s "$out")
  done_in "已生成 $out（$((size / 1000000)) MB）" "built $out ($((size / 1000000)) MB)" "$start"
else
  done_in "已打包" "packaged" "$start"
fi
