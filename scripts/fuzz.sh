#!/bin/sh
# Runs the libFuzzer targets, one after the other: the accel.v1 codec (tests/fuzz/fuzz-proto.c),
# the recording reader (tests/fuzz/fuzz-journal.c: journal.c, journal_codec.c, checkpoint.c and
# the pool appliers a replay drives) and the checkpoint loader (tests/fuzz/fuzz-checkpoint.c:
# pool_load, then the snapshot, the screen's rows and a few events on what it loaded).
#
#   scripts/fuzz.sh smoke [TARGET]   70 s: proto 40 s, journal 20 s, checkpoint 10 s (`make test`)
#   scripts/fuzz.sh long [TARGET]    1800 s: proto 1200 s, journal 300 s, checkpoint 300 s (`make fuzz`)
#
# TARGET (proto, journal or checkpoint) runs one alone for the whole time. FUZZ_SECONDS overrides
# the total (split 4:2:1 in smoke, 4:1:1 in long when all run). Each target's working corpus is
# build-fuzz/corpus (proto), build-fuzz/corpus-journal or build-fuzz/corpus-checkpoint, seeded
# from tests/fuzz/corpus, corpus-journal or corpus-checkpoint (never written to; the checkpoint
# target also gets real checkpoints of this very build, written by build-fuzz/ck-seeds from the
# fixture recording); inputs the fuzzer finds keep growing it from run to run. A crash, a sanitizer
# report, a leak, a timeout or an out-of-memory stops the run: the input is saved as
# build-fuzz/crash-* (or leak-*, timeout-*, oom-*), its path printed, and this script exits
# non-zero. Reproduce with: build-fuzz/fuzz-proto build-fuzz/crash-... (or fuzz-journal, fuzz-checkpoint).
set -eu

mode=${1:-smoke}
only=${2:-all}
case $mode in
smoke) seconds=${FUZZ_SECONDS:-70} ;;
long) seconds=${FUZZ_SECONDS:-1800} ;;
-h | --help)
	sed -n '2,19s/^# \{0,1\}//p' "$0"
	exit 0
	;;
*)
	echo "usage: $0 smoke|long [proto|journal|checkpoint] (FUZZ_SECONDS=N overrides the duration)" >&2
	exit 2
	;;
esac
case $only in
all | proto | journal | checkpoint) ;;
*)
	echo "$0: TARGET is proto, journal or checkpoint, not '$only'" >&2
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

# proto gets most of the time when all run: it is the one facing the network
if [ "$only" = all ]; then
	if [ "$mode" = smoke ]; then
		p_secs=$((seconds * 4 / 7)) j_secs=$((seconds * 2 / 7))
	else
		p_secs=$((seconds * 4 / 6)) j_secs=$((seconds / 6))
	fi
	c_secs=$((seconds - p_secs - j_secs))
else
	p_secs=$seconds j_secs=$seconds c_secs=$seconds
fi
case $only in all | proto) fuzz_one proto "$p_secs" tests/fuzz/corpus "$out/corpus" ;; esac
# recordings: inputs up to 16 KiB (the fixture is 35 KB: its head is seeded too), so that each
# run applies at most a few hundred events and the fuzzer keeps a useful pace
case $only in all | journal)
	fuzz_one journal "$j_secs" tests/fuzz/corpus-journal "$out/corpus-journal" -max_len=16384 ;;
esac
# checkpoints: a table layout is one build's, so real ones of this build are written first; an
# unsqueezed body (mode 1) of the fixture's is under 40 KB
case $only in all | checkpoint)
	make --no-print-directory "$out/ck-seeds" >&2 || exit 2
	mkdir -p "$out/corpus-checkpoint"
	"$out/ck-seeds" tests/fixtures/recording-v1-main-56eb8d2.acrec "$out/corpus-checkpoint" >/dev/null || {
		echo "$0: $out/ck-seeds could not write checkpoints of this build" >&2
		exit 1
	}
	fuzz_one checkpoint "$c_secs" tests/fuzz/corpus-checkpoint "$out/corpus-checkpoint" -max_len=65536
	;;
esac
