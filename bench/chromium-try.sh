#!/usr/bin/env bash
# On the GPU machine: does Chromium offer the NVIDIA adapter when it has an X display? Unpacks
# Chromium (browser-bundle chromium), a carried Xvfb with Mesa (xv.part.*) and accel-top's part
# (for bench/floor), starts Xvfb :99 and opens the floor probe's WebGPU part with several flag sets.
#   chromium-try.sh STASH OUTDIR     (STASH holds chb.part.*, xv.part.*, at.part.*)
# CHROMIUM_TRY_SECOND=1 tries the second set of flags (--disable-vulkan-surface: the one that works).
# The parts: ../shared/scripts/browser-bundle chromium DIR (rename part.NN to chb.part.NN);
# bench/gpu-bundle.sh (at.part.NN); and xv.part.00, made with
#   apt-get download xvfb libxfont2 libfontenc1 x11-xkb-utils libxkbfile1 xkb-data libpixman-1-0 \
#     libxcvt0 xserver-common libunwind8 libgl1-mesa-dri libglx-mesa0 libglapi-mesa libxshmfence1 \
#     libdrm2 libdrm-amdgpu1 libdrm-intel1 libdrm-nouveau2 libdrm-radeon1 libllvm15 libsensors5 \
#     libz3-4 libedit2 libelf1 libpciaccess0 libbsd0 libmd0 libxxf86vm1 libx11-xcb1 libxcb-dri2-0 \
#     libxcb-dri3-0 libxcb-glx0 libxcb-present0 libxcb-randr0 libxcb-sync1 libxcb-shm0 libxcb-xfixes0
#   for f in *.deb; do dpkg -x $f root; done; mkdir -p pack/xv; cp -a root/usr pack/xv/
#   (plus every library `ldd` names for Xvfb, xkbcomp and dri/swrast_dri.so, into
#   pack/xv/usr/lib/x86_64-linux-gnu), then tar -C pack -cf - xv | xz -T0 -6 | split -b 61000000 -d - xv.part.
set -uo pipefail
s=${1:?stash}; out=${2:?output folder}; root=/root/chb
mkdir -p "$root" "$out"
[ -e "$root/.unpacked" ] || for p in chb xv at; do cat "$s/$p".part.* | xz -dc | tar -x -C "$root" || { echo "unpack $p failed"; exit 1; }; done
touch "$root/.unpacked"
xl=$root/xv/usr/lib/x86_64-linux-gnu
cp -n "$root/xv/usr/bin/xkbcomp" /usr/bin/ 2>/dev/null   # Xvfb runs xkbcomp from /usr/bin
LD_LIBRARY_PATH=$xl LIBGL_DRIVERS_PATH=$xl/dri "$root/xv/usr/bin/Xvfb" :99 -screen 0 1280x1024x24 \
  -xkbdir "$root/xv/usr/share/X11/xkb" -nolisten tcp > "$out/xvfb.log" 2>&1 &
xpid=$!
sleep 3
export DISPLAY=:99 __GLX_VENDOR_LIBRARY_NAME=nvidia
export VK_ICD_FILENAMES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export LD_LIBRARY_PATH=$root/bundle/lib:$root/bundle/lib/nss:$root/bundle/browser:/usr/local/nvidia/lib64:$xl
ch=$root/bundle/browser/chromium
try() {
  local name=$1; shift
  local fl=(); for f in "$@"; do fl+=("--flag=$f"); done
  timeout 80 python3 "$root/at/bench/floor/serve.py" --data "$root/at" --chromium "$ch" "${fl[@]}" \
    --query 'parts=gpu&iters=5&dur=500&depths=1,4' --out "$out/$name.json" --stderr "$out/$name.err" --timeout 60 \
    > "$out/$name.log" 2>&1
  echo "== $name: $*"
  if [ -s "$out/$name.json" ]; then
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print('adapter', d.get('adapter'), 'error', d.get('gpu_error')); c=d.get('gpu',{}).get('cases',{}); [print(' ', k, v['wall_ms'].get('p50'), v.get('gpu_ms',{}).get('p50')) for k,v in c.items()]" "$out/$name.json"
  else echo "no result"; fi
  grep -aiE 'vulkan|webgpu|dawn|gpu process|context was lost|xcb|glx' "$out/$name.err" | cut -c1-220 | sort | uniq -c | sort -rn | head -6
}
W=--enable-unsafe-webgpu
V="--enable-features=Vulkan --use-vulkan=native --use-angle=vulkan --ignore-gpu-blocklist"
if [ -n "${CHROMIUM_TRY_SECOND:-}" ]; then   # the second round: keep Vulkan away from the Xvfb display
  try x11-vulkan-nosurface $W $V --disable-vulkan-surface
  try x11-vulkan-swiftshader-gl $W --enable-features=Vulkan --use-vulkan=native --use-angle=swiftshader --ignore-gpu-blocklist
  try headless-vulkan-nosurface --headless=new $W $V --disable-vulkan-surface
  try x11-vulkan-nosurface-nocompositing $W $V --disable-vulkan-surface --disable-gpu-compositing
else
  try x11-vulkan $W $V
  try x11-gl $W --use-angle=gl --ignore-gpu-blocklist
  try x11-default $W --ignore-gpu-blocklist
  try x11-vulkan-nosandbox $W --enable-features=Vulkan,VulkanFromANGLE,DefaultANGLEVulkan --use-vulkan=native --use-angle=vulkan --ignore-gpu-blocklist --disable-gpu-sandbox --use-webgpu-power-preference=force-high-performance
  try headless-vulkan --headless=new $W $V
fi
kill $xpid 2>/dev/null
