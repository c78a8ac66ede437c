#!/usr/bin/env bash
# build.sh PKG OUT ZH EN FIRST_ZH FIRST_EN — build Go package PKG into OUT, saying what happens.
#
# A first build on a fresh machine downloads the modules (about 300 MB) and compiles about 900
# packages, the cgo ones (GLFW, OpenGL) slowly: minutes in which `go build` prints nothing. This
# script announces each step with a rough duration (FIRST_ZH / FIRST_EN: how long the first
# build of PKG takes), then builds with `go build -v` and prints every TICK seconds (default
# 15) how many packages are compiled, of how many at most, and the latest one started. A warm
# build (everything cached) prints one line and takes seconds.
#
#   bash scripts/build.sh . bin/lianzheng 编译图形界面 "building the app" "首次约 8 分钟" "first time about 8 min"
#
# TAGS (optional) are build tags, e.g. TAGS=mobile for Fyne's phone simulation.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/progress.sh

pkg=$1 out=$2 zh=$3 en=$4 first_zh=$5 first_en=$6
GO=${GO:-go}

# Modules: go list loads the package graph, fetching any missing module; with GOPROXY=off it
# only tells us whether something is missing.
if ! GOPROXY=off GOFLAGS="${GOFLAGS:-} -mod=readonly" "$GO" list -deps "$pkg" >/dev/null 2>&1; then
  step "下载依赖模块（共约 300 MB，视网络约 1–5 分钟，只需一次）" \
       "downloading modules (about 300 MB, 1-5 min depending on the network, once)"
  start=$SECONDS
  ticking "下载依赖模块" "downloading modules" -- "$GO" list -deps "$pkg" >/dev/null
  done_in "依赖模块已就绪" "modules ready" "$start"
fi

total=$("$GO" list -deps "$pkg" | wc -l)
step "$zh（$first_zh，之后几秒）" "$en ($first_en, then seconds)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
mkdir -p "$(dirname "$out")"
start=$SECONDS
last=$SECONDS
"$GO" build -v ${TAGS:+-tags "$TAGS"} -o "$out" "$pkg" >"$log" 2>&1 &
pid=$!
# now: what go build's children are compiling at this moment (compile -p PKG, cgo -importpath
# PKG), cgo ones marked; empty if ps is missing.
now() {
  ps -o args= --ppid "$pid" 2>/dev/null | awk '
    / -importpath / { for (i = 1; i < NF; i++) if ($i == "-importpath") { printf "%s%s (cgo)", sep, $(i+1); sep = ", " } next }
    /\/compile / { for (i = 1; i < NF; i++) if ($i == "-p") { printf "%s%s", sep, $(i+1); sep = ", " } }'
}
hinted=false
while kill -0 "$pid" 2>/dev/null; do
  sleep 1
  if [ $((SECONDS - last)) -ge "$TICK" ] && kill -0 "$pid" 2>/dev/null; then
    # go build -v prints each package's import path as it starts compiling it.
    n=$(grep -c -E '^[A-Za-z0-9._/~-]+$' "$log" || true)
    cur=$(now || true)
    if [ -z "$cur" ]; then cur=$(grep -E '^[A-Za-z0-9._/~-]+$' "$log" | tail -n 1 || true); fi
    s=$((SECONDS - start))
    printf '    %s：已编译 %d/%d 个包，已用 %s，正在编译 %s / %s: %d of at most %d packages, %s elapsed, compiling %s\n' \
      "$zh" "$n" "$total" "$(zh_dur "$s")" "${cur:-…}" "$en" "$n" "$total" "$(en_dur "$s")" "${cur:-…}" >&2
    case "$hinted$cur" in
      false*"(cgo)"*) hinted=true; printf '    （cgo 包要编译 C 代码，OpenGL 与 GLFW 首次各需数分钟 / cgo packages compile C code: OpenGL and GLFW take minutes each the first time）\n' >&2 ;;
    esac
    last=$SECONDS
  fi
done
if ! wait "$pid"; then
  grep -v -E '^[A-Za-z0-9._/~-]+$' "$log" >&2 || true
  printf '编译失败 / build failed: %s\n' "$pkg" >&2
  exit 1
fi
done_in "已生成 $out" "built $out" "$start"
