#!/usr/bin/env bash
# Pack accel-top and Firefox for a machine with a GPU and no package registry (bench/README.md,
# "On the GPU machine"): accel-top with the shared libraries it links and the libwebsockets
# evlib-uv plugin it dlopens, browser-js (and browser-js as committed at BASE, for a before/after),
# the onnxruntime-web files the page loads, the demo models, the speech clip, the floor probe;
# and firefox-esr through ../shared/scripts/browser-bundle. Every part is at most 61 MB.
#   bench/gpu-bundle.sh OUTDIR [BASE]      (run from the repository root after `make`)
# GPU_BUNDLE_LANES="1 8 16" also packs copies of the page with that many lanes (ort-lanes.js).
# OUTDIR gets ff.part.NN (Firefox), at.part.NN (accel-top) and gpu-run.sh.
set -euo pipefail
out=${1:?output folder}; base=${2:-}
[ -x ./accel-top ] && [ -d build/models ] || { echo "gpu-bundle: run 'make' first" >&2; exit 1; }
bb=${BROWSER_BUNDLE:-../shared/scripts/browser-bundle}
[ -x "$bb" ] || bb=/work/shared/scripts/browser-bundle
ort=browser-js/node_modules/onnxruntime-web/dist
mkdir -p "$out"; rm -f "$out"/at.part.*
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
a=$work/at; mkdir -p "$a/lib" "$a/browser-js/$(dirname "${ort#browser-js/}")" "$a/build" "$a/bench"
cp accel-top "$a/"
ldd accel-top | awk '/=> \//{print $3}' |
  grep -vE '/(libc|libm|libpthread|libdl|librt|ld-linux-x86-64|libresolv)\.so' |
  while read -r l; do cp -L "$l" "$a/lib/"; done
plugin=$(dpkg -L libwebsockets-evlib-uv | grep '\.so$' | head -1)   # dlopened from its install dir
cp -L "$plugin" "$a/lib/"
cp browser-js/*.html browser-js/*.js "$a/browser-js/"
mkdir -p "$a/$ort"
# what the page loads (ort.bundle.min.mjs and its jsep runtime) and what accel-top checks at start
cp "$ort"/ort.bundle.min.mjs "$ort"/ort.all.min.mjs "$ort"/ort-wasm-simd-threaded.jsep.mjs \
   "$ort"/ort-wasm-simd-threaded.jsep.wasm "$a/$ort/"
cp -r build/models build/audio "$a/build/"
cp -r bench/floor "$a/bench/"
if [ -n "$base" ]; then   # the page as committed at $base: same runtime and models, older scripts
  mkdir -p "$a/base/browser-js"
  for f in $(git ls-tree --name-only "$base" browser-js/ | grep -E '\.(js|html)$'); do
    git show "$base:$f" > "$a/base/$f"
  done
  ln -s ../../browser-js/node_modules "$a/base/browser-js/node_modules"
  ln -s ../build "$a/base/build"
  git rev-parse "$base" > "$a/base/REV"
fi
for n in ${GPU_BUNDLE_LANES:-}; do   # the page with a fixed lane count (ort-lanes.js), for the depth table
  mkdir -p "$a/lanes$n/browser-js"
  cp browser-js/*.html browser-js/*.js "$a/lanes$n/browser-js/"
  sed -i "s/^const FORCED_LANES = null;/const FORCED_LANES = $n;/" "$a/lanes$n/browser-js/ort-lanes.js"
  grep -q "^const FORCED_LANES = $n;" "$a/lanes$n/browser-js/ort-lanes.js"
  ln -s ../../browser-js/node_modules "$a/lanes$n/browser-js/node_modules"
  ln -s ../build "$a/lanes$n/build"
done
git rev-parse HEAD > "$a/REV"; git status --short -- browser-js pool tui bridge >> "$a/REV" || true
tar -C "$work" -cf - at | xz -T0 -6 | split -b 61000000 -d - "$out/at.part."
if [ -z "${GPU_BUNDLE_NO_BROWSER:-}" ]; then   # Firefox changes rarely: GPU_BUNDLE_NO_BROWSER=1 keeps the old ff parts
  rm -f "$out"/ff.part.*
  "$bb" firefox-esr "$work/ff" >/dev/null
  for p in "$work"/ff/part.*; do mv "$p" "$out/ff.$(basename "$p")"; done
fi
cp bench/gpu-run.sh "$out/"
ls -la "$out"
