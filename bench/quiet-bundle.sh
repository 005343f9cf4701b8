#!/usr/bin/env bash
# Pack the issue-15 benchmarks for a quiet machine with cores to spare (the device tool's GPU
# machine: 16 cores, Ubuntu 24.04, no package registry; bench/README.md, "On a quiet machine"):
# accel-top (this build, and optionally the build of BASE for a before/after in the same run), the
# load generator (fake browser) and the other bench binaries with the shared libraries they link,
# the lws evlib-uv plugin, browser-js with the onnxruntime-web files the page loads, the demo
# models, bench/*.py and their pages, the hello fixture the load generator sends, Debian's
# python3-websockets (the seed-style baseline's server), and Chromium (browser-bundle chromium).
#   bench/quiet-bundle.sh OUTDIR [BASE_ACCEL_TOP]    (from the repository root, after `make bench`)
# OUTDIR gets q.part.NN (everything but the browser), chb.part.NN (Chromium) and quiet-run.sh.
# Every part is at most 61 MB: one device call carries at most 64 MiB.
set -euo pipefail
out=${1:?output folder}; base=${2:-}
bins="accel-top build/bench-loadgen build/bench-overhead build/bench-roundtrip build/bench-lws_echo"
for b in $bins; do [ -x "$b" ] || { echo "quiet-bundle: $b missing: run 'make bench' first" >&2; exit 1; }; done
[ -z "$base" ] || [ -x "$base" ] || { echo "quiet-bundle: $base is not an executable" >&2; exit 1; }
bb=${BROWSER_BUNDLE:-../shared/scripts/browser-bundle}
[ -x "$bb" ] || bb=/work/shared/scripts/browser-bundle
ws=/usr/lib/python3/dist-packages/websockets
[ -d "$ws" ] || { echo "quiet-bundle: python3-websockets missing: apt-get install python3-websockets" >&2; exit 1; }
ort=browser-js/node_modules/onnxruntime-web/dist
mkdir -p "$out"; rm -f "$out"/q.part.*
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
a=$work/q/at; mkdir -p "$a/lib" "$a/build" "$a/bench" "$a/tests/fixtures" "$a/$ort" "$work/q/py"
for b in $bins; do mkdir -p "$a/$(dirname "$b")"; cp "$b" "$a/$b"; done
[ -z "$base" ] || cp "$base" "$a/accel-top-base"
for b in $bins; do ldd "$b"; done | awk '/=> \//{print $3}' | sort -u |
  grep -vE '/(libc|libm|libpthread|libdl|librt|ld-linux-x86-64|libresolv)\.so' |
  while read -r l; do cp -L "$l" "$a/lib/"; done
cp -L "$(dpkg -L libwebsockets-evlib-uv | grep '\.so$' | head -1)" "$a/lib/"   # dlopened by lws
cp browser-js/*.html browser-js/*.js "$a/browser-js/"
cp "$ort"/ort.bundle.min.mjs "$ort"/ort.all.min.mjs "$ort"/ort-wasm-simd-threaded.jsep.mjs \
   "$ort"/ort-wasm-simd-threaded.jsep.wasm "$a/$ort/"
cp -r build/models "$a/build/"
[ -d build/audio ] && cp -r build/audio "$a/build/"
cp bench/*.py bench/*.html "$a/bench/"
cp tests/fixtures/hello-*.json "$a/tests/fixtures/"
cp -r "$ws" "$work/q/py/"
git rev-parse HEAD > "$a/REV"; git status --short -- pool tui bridge bench browser-js >> "$a/REV" || true
tar -C "$work" -cf - q | xz -T0 -6 | split -b 61000000 -d - "$out/q.part."
if [ -z "${QUIET_BUNDLE_NO_BROWSER:-}" ]; then   # Chromium changes rarely: QUIET_BUNDLE_NO_BROWSER=1 keeps the parts
  rm -f "$out"/chb.part.*
  "$bb" chromium "$work/chb" >/dev/null
  for p in "$work"/chb/part.*; do mv "$p" "$out/chb.$(basename "$p")"; done
fi
cp bench/quiet-run.sh "$out/"
ls -la "$out"
