#!/bin/sh
# Runs the libFuzzer target for the accel.v1 codec (tests/fuzz/fuzz-proto.c).
#
#   scripts/fuzz.sh smoke   60 s (what `make test` runs)
#   scripts/fuzz.sh long    1800 s (`make fuzz`)
#
# FUZZ_SECONDS overrides either duration. The working corpus is build-fuzz/corpus, seeded from
# tests/fuzz/corpus (which is never written to); inputs the fuzzer finds keep growing it from run
# to run. A crash, a sanitizer report, a leak, a timeout or an out-of-memory stops the run: the
# input is saved as build-fuzz/crash-* (or leak-*, timeout-*, oom-*), its path printed, and this
# script exits non-zero. Reproduce with: build-fuzz/fuzz-proto build-fuzz/crash-...
set -eu

mode=${1:-smoke}
case $mode in
smoke) seconds=${FUZZ_SECONDS:-60} ;;
long) seconds=${FUZZ_SECONDS:-1800} ;;
-h | --help)
	sed -n '2,12s/^# \{0,1\}//p' "$0"
	exit 0
	;;
*)
	echo "usage: $0 smoke|long (FUZZ_SECONDS=N overrides the duration)" >&2
	exit 2
	;;
esac
case $seconds in
'' | *[!0-9]*)
	echo "$0: FUZZ_SECONDS must be a whole number of seconds, not '$seconds'" >&2
	exit 2
	;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=build-fuzz/fuzz-proto
out=build-fuzz

# Builds the target when missing or stale (a fresh clone has no build-fuzz/).
make --no-print-directory "$bin" >&2 || {
	echo "$0: could not build $bin (needs clang with libFuzzer: apt-get install clang)" >&2
	exit 2
}

mkdir -p "$out/corpus"
# Seeds are copied in on every run, so new or changed seeds reach an existing working corpus.
cp -p tests/fuzz/corpus/* "$out/corpus/"

log=$out/fuzz-$mode.log
artifacts() {
	find "$out" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
		-o -name 'oom-*' -o -name 'slow-unit-*' \) | sort
}
inputs() { find "$out/corpus" -type f | wc -l; }
before=$out/.artifacts-before
artifacts >"$before"
echo "fuzz-proto: $mode run, $seconds s, corpus $out/corpus ($(inputs) inputs), log $log" >&2

# UBSan in this build only reports by default; halt_on_error turns a report into a crash.
status=0
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
	"$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
	-artifact_prefix="$out/" "$out/corpus" >"$log" 2>&1 || status=$?

new=$(artifacts | grep -vxF -f "$before" || true)
rm -f "$before"

if [ "$status" -ne 0 ] || [ -n "$new" ]; then
	echo "fuzz-proto: FAILED (exit status $status); the last lines of $log:" >&2
	tail -n 40 "$log" >&2
	for f in $new; do
		echo "fuzz-proto: input that failed: $f ($(wc -c <"$f") bytes)" >&2
		echo "fuzz-proto: reproduce with: $bin $f" >&2
		od -A x -t x1z -v "$f" | head -n 32 >&2
	done
	exit 1
fi
grep -E '^(stat::number_of_executed_units|stat::new_units_added|Done )' "$log" >&2 || true
echo "fuzz-proto: ok, no crash in $seconds s ($(inputs) inputs in the corpus)" >&2
