#!/usr/bin/env bash
# progress.sh — sourced by the other scripts: say what a long step does and how long it takes,
# before it starts and while it runs, so that a first `make run` (toolchain, modules, the cgo
# build of Fyne: minutes) is never minutes of silence. Each line is Chinese, then English.
#
#   step "下载依赖模块（约 1 分钟）" "downloading modules (about 1 min)"
#   ticking "下载依赖模块" "downloading modules" -- go mod download
#   built "bin/lz" "$start"
#
# ticking runs a command in the background and prints one "still working, N elapsed" line
# every TICK seconds (default 15) until it ends; it returns the command's exit status.

TICK=${TICK:-15}

# zh_dur / en_dur SECONDS: "2 分 05 秒" / "2m05s".
zh_dur() { if [ "$1" -ge 60 ]; then printf '%d 分 %02d 秒' $(($1 / 60)) $(($1 % 60)); else printf '%d 秒' "$1"; fi; }
en_dur() { if [ "$1" -ge 60 ]; then printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); else printf '%ds' "$1"; fi; }

# step ZH EN: announce a step.
step() {
  printf '==> %s… / %s…\n' "$1" "$2" >&2
}

# done_in ZH EN START: say a step finished and how long it took (START is a $SECONDS value).
done_in() {
  local s=$((SECONDS - $3))
  printf '    %s，用时 %s / %s in %s\n' "$1" "$(zh_dur "$s")" "$2" "$(en_dur "$s")" >&2
}

# ticking ZH EN -- CMD...: run CMD, printing an elapsed-time line every TICK seconds.
ticking() {
  local zh=$1 en=$2
  shift 3
  local start=$SECONDS last=$SECONDS pid rc s
  "$@" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if [ $((SECONDS - last)) -ge "$TICK" ] && kill -0 "$pid" 2>/dev/null; then
      s=$((SECONDS - start))
      printf '    %s：仍在进行，已用 %s / %s: still working, %s elapsed\n' \
        "$zh" "$(zh_dur "$s")" "$en" "$(en_dur "$s")" >&2
      last=$SECONDS
    fi
  done
  if wait "$pid"; then rc=0; else rc=$?; fi
  return "$rc"
}
