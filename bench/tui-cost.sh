#!/usr/bin/env bash
# bench/tui-cost.sh: what the interactive screen costs. accel-top's own CPU time (utime + stime from
# /proc/PID/stat) and peak RSS (VmHWM) over a window (default 60 s) with 2 browsers connected, at
# -d 1, side by side with `htop -d 10` (also a 1 s refresh) running in the same tmux setup
# (120x40 panes of one private tmux server). Browsers are separate processes and not counted.
#
# Scenarios: "idle" (browsers connected, no model running) and "20req/s" (bert-tiny fp32 on wasm
# at 20 requests per second, launched with the l form). --idle-only skips the second.
#
# Usage: bench/tui-cost.sh [--idle-only] [--seconds N]
# Environment: ACCEL_TOP (binary, default ./accel-top), ACCEL_TOP_DATA (default: the repository).
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
ACCEL_TOP=${ACCEL_TOP:-$ROOT/accel-top}
export ACCEL_TOP_DATA=${ACCEL_TOP_DATA:-$ROOT}
SECONDS_WINDOW=60
SCENARIOS="idle 20req/s"
while [ $# -gt 0 ]; do
  case $1 in
    --idle-only) SCENARIOS=idle ;;
    --seconds) SECONDS_WINDOW=$2; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "tui-cost: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

die() { echo "tui-cost: $*" >&2; exit 1; }
command -v tmux >/dev/null || die "tmux is not installed (apt-get install -y tmux)"
if ! command -v htop >/dev/null; then
  echo "tui-cost: installing htop for the comparison" >&2
  apt-get install -y htop >/dev/null 2>&1 || die "htop is missing and could not be installed (apt-get install -y htop)"
fi
[ -x "$ACCEL_TOP" ] || die "$ACCEL_TOP is not built (make)"

SOCK=accel-top-bench-$$
T() { tmux -L "$SOCK" -f /dev/null "$@"; }
cleanup() {
  for s in at ht; do
    pid=$(T display-message -p -t "$s" '#{pane_pid}' 2>/dev/null) && [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
  done
  sleep 4
  T kill-server 2>/dev/null
}
trap cleanup EXIT

TCK=$(getconf CLK_TCK)
cpu_ticks() { # utime + stime of a pid
  awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

screen_of() { T capture-pane -p -t "$1"; }

# REQ/s of a model row, read under its column heading (right-aligned numbers end where it ends)
req_per_s() { # session, model
  screen_of "$1" | /usr/bin/python3 -c '
import re, sys
lines = sys.stdin.read().split("\n")
head = next((l for l in lines if "REQ/s" in l), None)
row = next((l for l in lines if re.match(r"^\s*\d+ " + re.escape(sys.argv[1]) + " ", l)), None)
if head and row:
    end = head.index("REQ/s") + 5
    print(row[:end].split()[-1])' "$2"
}

wait_rate() { # session, model, low, high, timeout
  local end=$((SECONDS + $5)) r
  while [ $SECONDS -lt $end ]; do
    r=$(req_per_s "$1" "$2")
    awk -v r="$r" -v lo="$3" -v hi="$4" 'BEGIN { exit !(r + 0 >= lo && r + 0 <= hi) }' && return 0
    sleep 1
  done
  screen_of "$1" >&2
  die "$2 did not reach $3 to $4 req/s (last: ${r:-none})"
}

wait_for() { # session, grep -E pattern, timeout seconds, what
  local end=$((SECONDS + $3))
  while [ $SECONDS -lt $end ]; do
    screen_of "$1" | grep -Eq "$2" && return 0
    sleep 0.5
  done
  screen_of "$1" >&2
  die "timed out waiting for $4"
}

measure() { # scenario
  local scen=$1
  T kill-server 2>/dev/null
  T start-server \; set-option -g remain-on-exit on \; \
    new-session -d -s at -x 120 -y 40 -e "ACCEL_TOP_DATA=$ACCEL_TOP_DATA" -- \
      "$ACCEL_TOP" -d 1 --browsers chromium,firefox --port 0 \; \
    new-session -d -s ht -x 120 -y 40 -- htop -d 10 || die "cannot start tmux"
  local apid hpid
  apid=$(T display-message -p -t at '#{pane_pid}')
  hpid=$(T display-message -p -t ht '#{pane_pid}')
  wait_for at '^ *[0-9]+ chromium .*connected.*SOFTWARE' 60 "the chromium row"
  wait_for at '^ *[0-9]+ firefox .*connected.*SOFTWARE' 60 "the firefox row"
  local note="no model running"
  if [ "$scen" = "20req/s" ]; then
    # the launch form: bert-tiny (the default), fp32, platform wasm, requests per second, 20
    T send-keys -t at l; sleep 0.5
    wait_for at 'Launch a model' 5 "the launch form"
    T send-keys -t at Down Down Right Right Down Down Right Down BSpace 2 0; sleep 0.3
    screen_of at | grep -q '< wasm >' || die "could not set the platform in the form"
    screen_of at | grep -q 'Requests/s *\[20' || die "could not set 20 requests per second in the form"
    T send-keys -t at Enter
    wait_for at 'launched bert-tiny' 10 "the launch"
    # settle: sessions loaded and the rate reached before the window opens
    wait_rate at bert-tiny 17 23 120
    sleep 5
    note="bert-tiny fp32 on wasm at 20 req/s"
  fi
  local a0 h0 a1 h1
  a0=$(cpu_ticks "$apid"); h0=$(cpu_ticks "$hpid")
  sleep "$SECONDS_WINDOW"
  a1=$(cpu_ticks "$apid"); h1=$(cpu_ticks "$hpid")
  local ahwm hhwm row=""
  ahwm=$(hwm_kb "$apid"); hhwm=$(hwm_kb "$hpid")
  if [ "$scen" = "20req/s" ]; then
    row="$(screen_of at | grep -E '^ *[0-9]+ bert-tiny ' | head -1 | tr -s ' ') (REQ/s $(req_per_s at bert-tiny))"
  fi
  awk -v s="$scen" -v note="$note" -v w="$SECONDS_WINDOW" -v tck="$TCK" -v a="$((a1 - a0))" -v h="$((h1 - h0))" \
      -v am="$ahwm" -v hm="$hhwm" -v row="$row" 'BEGIN {
    ac = a / tck; hc = h / tck
    printf "scenario %s (%s), window %d s, 2 browsers connected, -d 1 vs htop -d 10\n", s, note, w
    printf "  accel-top  cpu %6.2f s (%5.2f%% of a core)  peak rss %6.1f MB\n", ac, 100 * ac / w, am / 1024
    printf "  htop       cpu %6.2f s (%5.2f%% of a core)  peak rss %6.1f MB\n", hc, 100 * hc / w, hm / 1024
    if (hc > 0) printf "  ratio accel-top / htop: cpu %.2f, rss %.2f\n", ac / hc, am / hm
    else printf "  ratio accel-top / htop: cpu n/a (htop used no measurable cpu), rss %.2f\n", am / hm
    if (row != "") printf "  models row at the end: %s\n", row
  }'
  # stop both; accel-top stops its browsers
  kill -TERM "$apid" "$hpid" 2>/dev/null
  local end=$((SECONDS + 20))
  while [ $SECONDS -lt $end ] && kill -0 "$apid" 2>/dev/null; do sleep 0.3; done
  T kill-server 2>/dev/null
}

echo "tui-cost: $(nproc) cores, $(uname -r), $("$ACCEL_TOP" --version), $(htop --version | head -1)"
for s in $SCENARIOS; do
  measure "$s"
done
