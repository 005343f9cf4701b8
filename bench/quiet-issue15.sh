#!/usr/bin/env bash
# On the quiet machine, inside bench/quiet-run.sh: issue 15's figures, the build before
# (accel-top-base, when packed) and this build one after the other in the same run.
#   quiet-run.sh STASH bash $AT/bench/quiet-issue15.sh OUTDIR PARTS
# PARTS: any of load, overhead, seed (comma-separated). Each writes its JSON/text under OUTDIR,
# with the load average and the CPU count before and after.
set -uo pipefail
out=${1:?output folder}; parts=${2:-load,overhead,seed}
secs=${QUIET_SECONDS:-60}; conns=${QUIET_CONNECTIONS:-1000}; rate=${QUIET_RATE:-10000}
mkdir -p "$out"; cd "$AT"
note() { echo "== $* | load $(cut -d' ' -f1-3 /proc/loadavg) | $(nproc) cpus | $(date -u +%T)" | tee -a "$out/log.txt"; }
builds="accel-top"; command -v accel-top-base >/dev/null && builds="accel-top-base accel-top"
case ",$parts," in *,load,*)
  for b in $builds; do
    note "load $b"
    lp=hold,churn,slow; [ "$b" = accel-top-base ] && lp=${QUIET_BASE_PARTS:-hold}  # churn uses --forget-lost, new in this build
    ACCEL_TOP=$(command -v "$b") python3 bench/load.py --parts "$lp" --connections "$conns" \
      --rate "$rate" --seconds "$secs" > "$out/load-$b.json" 2> "$out/load-$b.err"
    tail -n 25 "$out/load-$b.err" >> "$out/log.txt"
  done;;
esac
case ",$parts," in *,overhead,*)
  note "overhead"
  bench-overhead "${QUIET_REQUESTS:-300}" bert-tiny "${QUIET_BROWSERS:-4}" > "$out/overhead.txt" 2> "$out/overhead.err"
  cat "$out/overhead.txt" >> "$out/log.txt";;
esac
case ",$parts," in *,seed,*)
  note "seed"
  python3 bench/seed_baseline.py "${QUIET_SMALL:-2000}" "${QUIET_MIB:-200}" > "$out/seed.txt" 2> "$out/seed.err"
  cat "$out/seed.txt" >> "$out/log.txt";;
esac
note "end"
