#!/usr/bin/env bash
# bench/tune.sh: what tuning the WGSL log-mel kernels gains. Runs `accel-top tune --force` on every
# installed browser (a fresh database, so nothing is reused) and prints, per browser and adapter,
# each candidate workgroup shape's median time for the audio front end (log-mel of the espeak-ng
# speech clip over the whisper encoder's 3000 frames) next to the default shape (64x1x1, 1 per
# thread) measured in the same run, interleaved round by round. The GPU time comes from
# timestamp-query where the adapter has it, else wall time around submit; the table says which.
# On software adapters (SwiftShader, Firefox's fallback) the gains may be small or negative.
#
# Usage: bench/tune.sh [--seconds S] [--rounds N] [--repeat N] [--browser LIST]
# Environment: ACCEL_TOP (binary, default ./accel-top), ACCEL_TOP_DATA (default: the repository).
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
ACCEL_TOP=${ACCEL_TOP:-$ROOT/accel-top}
export ACCEL_TOP_DATA=${ACCEL_TOP_DATA:-$ROOT}
SECS=3 ROUNDS=3 REPEAT=3 BROWSERS=all
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) SECS=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --repeat) REPEAT=$2; shift ;;
    --browser) BROWSERS=$2; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "bench/tune: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
TMPD=$(mktemp -d /tmp/accel-top-bench-tune.XXXXXX)
trap 'rm -rf "$TMPD"' EXIT
echo "bench/tune: $(uptime | sed 's/^ *//')" >&2
"$ACCEL_TOP" tune --force --browser "$BROWSERS" --db "$TMPD/tune.db" --json "$TMPD/tune.json" \
  --clip speech,silence,sweep --seconds "$SECS" --rounds "$ROUNDS" --repeat "$REPEAT" >"$TMPD/out.txt" 2>"$TMPD/err.txt"
rc=$?
[ -s "$TMPD/tune.json" ] || { echo "bench/tune: accel-top tune failed (exit $rc):" >&2; tail -5 "$TMPD/err.txt" >&2; exit 1; }
/usr/bin/python3 - "$TMPD/tune.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("| browser | adapter | workgroup | items | median ms | min ms | samples | vs default | timing | max abs err |")
print("|---|---|---|---|---|---|---|---|---|---|")
for b in d["browsers"]:
    if b["source"] == "skipped":
        print(f"| {b['browser']} {b['version']} | n/a | skipped: {b['reason']} | | | | | | | |")
        continue
    cands = b["candidates"]
    dflt = next(c for c in cands if c["default"])
    for c in cands:
        wg = "x".join(map(str, c["workgroup"]))
        tag = " (default)" if c["default"] else ""
        tag += " **chosen**" if c["chosen"] else ""
        if c["median_ms"] is None:
            print(f"| {b['browser']} | {b['adapter']} | {wg}{tag} | {c['items']} | n/a | n/a | 0 | n/a | n/a | {c['reason']} |")
            continue
        vs = f"{dflt['median_ms'] / c['median_ms']:.2f}x" if dflt["median_ms"] else "n/a"
        print(f"| {b['browser']} {b['version']} | {b['adapter']} ({b['classification']}) | {wg}{tag} | {c['items']} "
              f"| {c['median_ms']:.2f} | {c['min_ms']:.2f} | {c['samples']} | {vs} | {c['timing']} | {c['verify_max_abs']:.1e} |")
for b in d["browsers"]:
    if b.get("summary"):
        print(f"\n{b['browser']}: {b['summary']}")
PY
exit $rc
