#!/usr/bin/env bash
# bench/shard.sh: sharded inference against the whole model, measured in the same run. For each
# demo encoder (bert-tiny, vit-tiny, whisper-tiny-encoder) at fp32 on wasm: the whole model on
# Chromium and on Firefox (1 in flight: the baselines), then shard 1 on Chromium and shard 2 on
# Firefox at 1 and at N in flight (pipelining: shard 1 of request k+1 runs while shard 2 of request
# k does). Prints per-shard compute, transfer (round trip minus the page's own span) and total,
# p50/p95, throughput, the pipelining gain, and the verification of the sharded output against the
# whole model. All figures come from one `accel-top bench --shard` run; nothing is assumed.
#
# Usage: bench/shard.sh [--iterations N] [--inflight N] [--platform wasm|webgpu] [--precision BITS]
# Environment: ACCEL_TOP (binary, default ./accel-top), ACCEL_TOP_DATA (default: the repository).
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
ACCEL_TOP=${ACCEL_TOP:-$ROOT/accel-top}
export ACCEL_TOP_DATA=${ACCEL_TOP_DATA:-$ROOT}
ITER=40 INFLIGHT=4 PLATFORM=wasm PRECISION=32
while [ $# -gt 0 ]; do
  case $1 in
    --iterations) ITER=$2; shift ;;
    --inflight) INFLIGHT=$2; shift ;;
    --platform) PLATFORM=$2; shift ;;
    --precision) PRECISION=$2; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "shard: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
TMPD=$(mktemp -d /tmp/accel-top-bench-shard.XXXXXX)
trap 'rm -rf "$TMPD"' EXIT
echo "bench/shard: $(nproc) cores; load before: $(uptime | sed 's/.*load average: //')"
"$ACCEL_TOP" bench --shard chromium,firefox --platform "$PLATFORM" --precision "$PRECISION" \
  --model bert-tiny,vit-tiny,whisper-tiny-encoder --iterations "$ITER" --warmup 5 --concurrency "$INFLIGHT" \
  --db "$TMPD/shard.db" --json "$TMPD/shard.json" --timeout 300 >"$TMPD/out" 2>"$TMPD/err"
rc=$?
echo "bench/shard: load after: $(uptime | sed 's/.*load average: //')"
[ -s "$TMPD/shard.json" ] || { echo "bench/shard: accel-top bench failed (exit $rc):"; tail -5 "$TMPD/err"; exit 1; }
/usr/bin/python3 - "$TMPD/shard.json" "$INFLIGHT" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
n = int(sys.argv[2])
def find(m, q, pl, shard, conc=1, browser=None):
    for r in res:
        if (r["model"], r["precision_requested"], r["platform_requested"]) == (m, q, pl) and bool(r["shard"]) == shard \
           and r["concurrency"] == conc and (browser is None or r["browser"] == browser):
            return r
def ms(r, k="p50_ms"):
    return "%.2f" % r[k] if r and r["status"] == "ok" and r[k] is not None else "n/a"
print("| model | precision | platform | whole p50 chromium / firefox ms | sharded p50 / p95 ms | shard 1 compute / transfer / total ms | shard 2 compute / transfer / total ms | intermediate KB | req/s whole chromium / firefox | req/s sharded 1 / %d in flight | pipelining gain | verified |" % n)
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
seen = set()
for r in res:
    key = (r["model"], r["precision_requested"], r["platform_requested"])
    if key in seen:
        continue
    seen.add(key)
    s1 = find(*key, True)
    sN = find(*key, True, n) if n > 1 else None
    wc, wf = find(*key, False, browser="chromium"), find(*key, False, browser="firefox")
    figs = s1["shards"] if s1 and s1["status"] == "ok" else []
    def shard(k):
        f = [x for x in figs if x["shard"] == k]
        return "%.2f / %.2f / %.2f" % (f[0]["compute_ms"], f[0]["transfer_ms"], f[0]["total_ms"]) if f else "n/a"
    kb = "%.0f" % (figs[0]["bytes"] / 1024) if figs else "n/a"
    gain = "x%.2f" % (sN["throughput_rps"] / s1["throughput_rps"]) if sN and s1 and sN["status"] == "ok" and s1["status"] == "ok" and s1["throughput_rps"] else "n/a"
    ver = ("yes, error %.1e (tolerance %.0e)" % (s1["verify_norm_err"], s1["verify_tolerance"]) if s1["verify_ok"] else
           "NO: %s" % s1.get("verify_note")) if s1 and s1.get("verify_ok") is not None else "n/a"
    print("| %s | %s | %s | %s / %s | %s / %s | %s | %s | %s | %s / %s | %s / %s | %s | %s |" % (
        key[0], key[1], key[2], ms(wc), ms(wf), ms(s1), ms(s1, "p95_ms"), shard(1), shard(2), kb,
        ms(wc, "throughput_rps"), ms(wf, "throughput_rps"), ms(s1, "throughput_rps"), ms(sN, "throughput_rps"), gain, ver))
bad = [r for r in res if r["status"] != "ok"]
for r in bad:
    print("  %s %s %s %s x%d: %s: %s" % (r["browser"], r["platform_requested"], r["model"], r["precision_requested"],
                                       r["concurrency"], r["status"], r["reason"]))
PY
exit $rc
