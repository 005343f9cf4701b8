#!/usr/bin/env bash
# Throughput at 1, 2, 4, 8 and 16 requests in flight for one Firefox on the GPU machine, through
# accel-top itself (bench --concurrency N), for each packed variant of the page:
#   base    the page before the floor work (no nudge, one runtime)
#   lanes1  nudge, one runtime;  default  nudge + lanes as ort-lanes.js decides;  lanesN  N lanes
# Run under gpu-run.sh (which sets $AT, $AT_BASE). Writes OUTDIR/depths.tsv and the bench JSON files.
#   gpu-depths.sh OUTDIR [MODELS] [VARIANTS] [DEPTHS]
set -uo pipefail
out=${1:?output folder}; models=${2:-bert-tiny,vit-tiny}
variants=${3:-base lanes1 default lanes2 lanes8 lanes16}; depths=${4:-1 2 4 8 16}
mkdir -p "$out/json"
printf 'variant\tin_flight\tmodel\tp50_ms\tp95_ms\treq_s\tverified\tstatus\n' > "$out/depths.tsv"
for v in $variants; do
  case $v in base) data=$AT_BASE; it=40 ;; default) data=$AT; it=300 ;; *) data=$AT/$v; it=300 ;; esac
  for c in $depths; do
    j=$out/json/$v-$c.json
    ACCEL_TOP_DATA=$data timeout 120 accel-top bench --browser firefox --platform webgpu --model "$models" \
      --precision 32 --iterations $it --warmup 8 --concurrency "$c" --db "$out/depths.db" --json "$j" \
      > "$out/json/$v-$c.log" 2>&1
    python3 - "$j" "$v" "$c" >> "$out/depths.tsv" <<'PY'
import json, sys
path, v, c = sys.argv[1:4]
try:
    rows = json.load(open(path))
    rows = rows.get('results', rows) if isinstance(rows, dict) else rows
except Exception as e:
    print(f"{v}\t{c}\t-\t-\t-\t-\t-\tno json: {e}"); sys.exit()
for r in rows:
    f = r.get('figures', r)
    g = lambda k: f.get(k, r.get(k))
    print(f"{v}\t{c}\t{r.get('model')}\t{g('p50_ms')}\t{g('p95_ms')}\t{g('throughput_rps')}\t{r.get('verify_ok')}\t{r.get('status')}")
PY
    tail -1 "$out/depths.tsv"
  done
done
