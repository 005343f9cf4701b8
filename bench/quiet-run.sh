#!/usr/bin/env bash
# On the quiet machine: unpack what bench/quiet-bundle.sh packed (once), then run a command with
# wrappers on PATH for accel-top, accel-top-base, chromium and the bench binaries (each sets
# LD_LIBRARY_PATH to its own libraries only, so the machine's python3 keeps its own), and
# $AT (the data folder), ACCEL_TOP_DATA, ACCEL_TOP, LOADGEN, ROUNDTRIP, LWS_ECHO and PYTHONPATH
# (python3-websockets) set for bench/*.py.
#   quiet-run.sh STASH COMMAND...      STASH: the folder holding q.part.* and chb.part.*
set -euo pipefail
stash=${1:?folder holding q.part.* and chb.part.*}; shift
root=${QUIET_ROOT:-/root/quiet}
if [ ! -e "$root/.unpacked" ]; then
  mkdir -p "$root"
  cat "$stash"/q.part.* | xz -dc | tar -x -C "$root"
  cat "$stash"/chb.part.* | xz -dc | tar -x -C "$root"
  d=/usr/lib/x86_64-linux-gnu; mkdir -p "$d"   # lws dlopens its libuv plugin from its build's folder
  [ -e "$d/libwebsockets-evlib_uv.so" ] || cp "$root/q/at/lib/libwebsockets-evlib_uv.so" "$d/"
  mkdir -p "$root/bin"
  lib=$root/q/at/lib
  wrap() { printf '#!/bin/sh\nexport LD_LIBRARY_PATH=%s${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}\nexec %s "$@"\n' "$2" "$3" > "$root/bin/$1"; chmod +x "$root/bin/$1"; }
  wrap accel-top "$lib" "$root/q/at/accel-top"
  [ -x "$root/q/at/accel-top-base" ] && wrap accel-top-base "$lib" "$root/q/at/accel-top-base"
  for b in loadgen overhead roundtrip lws_echo; do wrap "bench-$b" "$lib" "$root/q/at/build/bench-$b"; done
  wrap chromium "$root/bundle/lib:$root/bundle/lib/nss:$root/bundle/browser" "$root/bundle/browser/chromium"
  touch "$root/.unpacked"
fi
b=$root/bin
export PATH=$b:$PATH AT=$root/q/at ACCEL_TOP_DATA=$root/q/at ACCEL_TOP=$b/accel-top \
  LOADGEN=$b/bench-loadgen ROUNDTRIP=$b/bench-roundtrip LWS_ECHO=$b/bench-lws_echo \
  PYTHONPATH=$root/q/py${PYTHONPATH:+:$PYTHONPATH}
exec "$@"
