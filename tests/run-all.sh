#!/usr/bin/env bash
# The whole suite, as `make test` runs it: C unit tests, a bounded libFuzzer run of the protocol
# decoder, the recording reader and the checkpoint loader, the end-to-end tests with real browsers (bridge, models, screen in tmux). Ends with one
# 'N passed, N failed' line.
set -u
cd "$(dirname "$0")/.."
: "${ACCEL_TOP:?set by make}" "${UNIT:?set by make}"
export ACCEL_TOP ACCEL_TOP_DATA="${ACCEL_TOP_DATA:-$PWD}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

passed=0 failed=0 broken=()
suite() {
  local name=$1; shift
  echo "=== $name"
  local log; log=$(mktemp)
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local line; line=$(grep -E '^([a-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  if [ -n "$line" ]; then
    local p f
    p=$(sed -E 's/^([a-z-]+: )?([0-9]+) passed.*/\2/' <<<"$line")
    f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
    passed=$((passed + p)); failed=$((failed + f))
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && { failed=$((failed + 1)); broken+=("$name (exit $rc)"); }
  else
    if [ "$rc" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); broken+=("$name (exit $rc)"); fi
  fi
  [ "$rc" -ne 0 ] && broken+=("$name")
  rm -f "$log"
}

suite unit "$UNIT"
suite fuzz-smoke scripts/fuzz.sh smoke
suite e2e /usr/bin/python3 tests/e2e/test_e2e.py
suite remote /usr/bin/python3 tests/e2e/test_remote.py
suite grid /usr/bin/python3 tests/e2e/test_grid.py
suite tls /usr/bin/python3 tests/e2e/test_tls.py
suite models /usr/bin/python3 tests/e2e/test_models.py
suite replay /usr/bin/python3 tests/e2e/test_replay.py
suite faults /usr/bin/python3 tests/e2e/test_faults.py
suite tune /usr/bin/python3 tests/e2e/test_tune.py
suite shard /usr/bin/python3 tests/e2e/test_shard.py
suite doctor /usr/bin/python3 tests/e2e/test_doctor.py
suite metrics /usr/bin/python3 tests/e2e/test_metrics.py
suite dropin /usr/bin/python3 tests/e2e/test_dropin.py
suite load /usr/bin/python3 tests/e2e/test_load.py
suite webnn /usr/bin/python3 tests/e2e/test_webnn.py
suite tmux /usr/bin/python3 tests/tmux/test_screen.py

[ ${#broken[@]} -gt 0 ] && echo "failing suites: ${broken[*]}"
echo "all: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
