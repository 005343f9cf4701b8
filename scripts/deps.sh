#!/usr/bin/env bash
# Installs what accel-top needs to build, run and test, and nothing when all is present (fast).
# Debian packages through apt-get (as root; otherwise prints the command to run), and the npm
# packages of browser-js/ from its committed package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(
  make gcc pkg-config
  libwebsockets-dev libwebsockets-evlib-uv libuv1-dev libcjson-dev libsqlite3-dev libncurses-dev
  chromium firefox-esr mesa-vulkan-drivers
  clang libclang-rt-14-dev         # libFuzzer and the sanitizers
  tmux python3 python3-websockets  # screen tests; scripted protocol client in tests/e2e
  procps                           # pgrep/ps in tests
  python3-onnx python3-numpy espeak-ng  # demo models and speech, made at build time
  openssl                          # --tls self-signed, and the TLS test's certificate
  openjdk-17-jre-headless chromium-driver  # a Selenium Grid (jar from npm) for --grid and its test
  prometheus                       # promtool and a real scrape of /metrics in the test
  brotli                           # unpacks @sparticuz/chromium (a Chromium with WebNN) at build time
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "accel-top: missing packages: ${missing[*]}" >&2
    echo "run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "accel-top: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

# onnxruntime-web and the other npm packages, pinned by browser-js/package-lock.json; reinstalled when the lock changes.
stamp=browser-js/node_modules/.accel-top-lock
if ! cmp -s browser-js/package-lock.json "$stamp" 2>/dev/null; then
  echo "accel-top: installing npm packages of browser-js/ (npm ci)" >&2
  (cd browser-js && npm ci --no-audit --no-fund --ignore-scripts >&2)
  cp browser-js/package-lock.json "$stamp"
fi
