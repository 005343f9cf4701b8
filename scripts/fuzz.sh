#!/bin/sh
# Runs the libFuzzer targets, one after the other: the accel.v1 codec (tests/fuzz/fuzz-proto.c)
# and the recording reader (tests/fuzz/fuzz-journal.c: journal.c, journal_codec.c, checkpoint.c
# and the pool appliers a replay drives).
#
#   scripts/fuzz.sh smoke [TARGET]   60 s: proto 40 s, journal 20 s (what `make test` runs)
#   scripts/fuzz.sh long [TARGET]    1800 s: proto 1200 s, journal 600 s (`make fuzz`)
#
# TARGET (proto or journal) runs one alone for the whole time. FUZZ_SECONDS overrides the total
# (split 2:1 when both run). Each target's working corpus is build-fuzz/corpus (proto) or
# build-fuzz/corpus-journal, seeded from tests/fuzz/corpus or tests/fuzz/corpus-journal (never
# written to); inputs the fuzzer finds keep growing it from run to run. A crash, a sanitizer
# report, a leak, a timeout or an out-of-memory stops the run: the input is saved as
# build-fuzz/crash-* (or leak-*, timeout-*, oom-*), its path printed, and this script exits
# non-zero. Reproduce with: build-fuzz/fuzz-proto build-fuzz/crash-... (or fuzz-journal).
set -eu

mode=${1:-smoke}
only=${2:-all}
case $mode in
smoke) seconds=${FUZZ_SECONDS:-60} ;;
long) seconds=${FUZZ_SECONDS:-1800} ;;
-h | --help)
	sed -n '2,16s/^# \{0,1\}//p' "$0"
	exit 0
	;;
*)
	echo "usage: $0 smoke|long [proto|journal] (FUZZ_SECONDS=N overrides the duration)" >&2
	exit 2
	;;
esac
case $only in
all | proto | journal) ;;
*)
	echo "$0: TARGET is proto or journal, not '$only'" >&2
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
out=build-fuzz

artifacts() {
	find "$out" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
		-o -name 'oom-*' -o -name 'slow-unit-*' \) | sort
}

# fuzz_one NAME SECONDS SEEDS CORPUS [libFuzzer flags...]
fuzz_one() {
	name=$1 secs=$2 seeds=$3 corpus=$4
	shift 4
	bin=$out/fuzz-$name
	# Builds the target when missing or stale (a fresh clone has no build-fuzz/).
	make --no-print-directory "$bin" >&2 || {
		echo "$0: could not build $bin (needs clang with libFuzzer: apt-get install clang)" >&2
		exit 2
	}
	mkdir -p "$corpus"
	# Seeds are copied in on every run, so new or changed seeds reach an existing working corpus.
	cp -p "$seeds"/* "$corpus/"
	log=$out/fuzz-$name-$mode.log
	before=$out/.artifacts-before
	artifacts >"$before"
	n0=$(find "$corpus" -type f | wc -l)
	echo "fuzz-$name: $mode run, $secs s, corpus $corpus ($n0 inputs), log $log" >&2
	# UBSan in this build only reports by default; halt_on_error turns a report into a crash.
	status=0
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
		"$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$out/" "$@" "$corpus" >"$log" 2>&1 || status=$?
	new=$(artifacts | grep -vxF -f "$before" || true)
	rm -f "$before"
	if [ "$status" -ne 0 ] || [ -n "$new" ]; then
		echo "fuzz-$name: FAILED (exit status $status); the last lines of $log:" >&2
		tail -n 40 "$log" >&2
		for f in $new; do
			echo "fuzz-$name: input that failed: $f ($(wc -c <"$f") bytes)" >&2
			echo "fuzz-$name: reproduce with: $bin $f" >&2
			od -A x -t x1z -v "$f" | head -n 32 >&2
		done
		exit 1
	fi
	grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added|Done )' "$log" >&2 || true
	echo "fuzz-$name: ok, no crash in $secs s (corpus $n0 -> $(find "$corpus" -type f | wc -l) inputs)" >&2
}

# proto gets two thirds of the time when both run: it is the one facing the network
if [ "$only" = all ]; then
	p_secs=$((seconds * 2 / 3))
	j_secs=$((seconds - p_secs))
else
	p_secs=$seconds
	j_secs=$seconds
fi
[ "$only" = journal ] || fuzz_one proto "$p_secs" tests/fuzz/corpus "$out/corpus"
# recordings: inputs up to 16 KiB (the fixture is 35 KB: its head is seeded too), so that each
# run applies at most a few hundred events and the fuzzer keeps a useful pace
[ "$only" = proto ] || fuzz_one journal "$j_secs" tests/fuzz/corpus-journal "$out/corpus-journal" -max_len=16384
