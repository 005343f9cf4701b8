#!/usr/bin/env bash
# On the GPU machine: unpack what bench/gpu-bundle.sh packed (once), then run a command with
# accel-top and Firefox ready: accel-top on PATH with its libraries, firefox-esr on PATH as a
# wrapper that adds the browser's libraries, VK_ICD_FILENAMES at NVIDIA's Vulkan driver.
#   gpu-run.sh STASH COMMAND...      STASH: the folder holding ff.part.* and at.part.*
# $GPU_ROOT (default /root/gpu) receives the unpacked files; $AT is the accel-top folder there
# (the data folder: browser-js, build/models, bench/floor), $AT_BASE the before-folder if packed.
set -euo pipefail
stash=${1:?folder holding ff.part.* and at.part.*}; shift
root=${GPU_ROOT:-/root/gpu}
mkdir -p "$root"
if [ ! -e "$root/.unpacked" ]; then
  cat "$stash"/ff.part.* | xz -dc | tar -x -C "$root"
  cat "$stash"/at.part.* | xz -dc | tar -x -C "$root"
  # libwebsockets dlopens its libuv event plugin from the folder it was built for
  d=/usr/lib/x86_64-linux-gnu; mkdir -p "$d"
  [ -e "$d/libwebsockets-evlib_uv.so" ] || cp "$root/at/lib/libwebsockets-evlib_uv.so" "$d/"
  mkdir -p "$root/bin"
  cat > "$root/bin/firefox-esr" <<W
#!/bin/sh
export LD_LIBRARY_PATH=$root/bundle/lib:$root/bundle/lib/nss:$root/bundle/browser\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}
exec $root/bundle/browser/firefox-esr "\$@"
W
  cat > "$root/bin/accel-top" <<W
#!/bin/sh
export LD_LIBRARY_PATH=$root/at/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}
exec $root/at/accel-top "\$@"
W
  chmod +x "$root/bin/firefox-esr" "$root/bin/accel-top"
  touch "$root/.unpacked"
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -e "$icd" ] || icd=$(find / -name nvidia_icd.json -not -path '/proc/*' 2>/dev/null | head -1)
export VK_ICD_FILENAMES=$icd
[ -d /usr/local/nvidia/lib64 ] && export LD_LIBRARY_PATH=/usr/local/nvidia/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PATH=$root/bin:$PATH AT=$root/at ACCEL_TOP_DATA=$root/at
[ -d "$root/at/base" ] && export AT_BASE=$root/at/base
exec "$@"
