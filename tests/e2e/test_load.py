#!/usr/bin/python3
"""The short version of bench/load.py (make bench): accel-top with 200 connections of the load
generator (fake browser, bench/loadgen.c; not browsers) and serve --stdio at 1,000 requests/s for
5 s, 200 connect/close churns (as the same browsers, and as new ones forgotten with
--forget-lost 1), a client that stops reading, half-open connections.
Run: tests/e2e/test_load.py [NAME...]; ACCEL_TOP names the binary, LOADGEN the load generator
(default build/bench-loadgen, made by `make e2e`/`make test`). Ends with 'load: N passed, N failed'."""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, run_tests  # noqa: E402
import load  # noqa: E402

# Under AddressSanitizer (make test SANITIZE=1) freed memory waits in a 256 MB quarantine before it
# is reused, so the churn's RSS would grow by what it freed, leak or not: with no quarantine, the
# RSS checks below mean the same in both builds.
os.environ["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=0"
# ...but ASan's allocator keeps what was freed in its own free lists, where malloc_trim (which the
# forget timer calls) does not reach: RSS stays near its peak there. LeakSanitizer checks the frees
# at exit instead; the bound below is glibc's (2 MB) without ASan, 6 MB with it (not forgetting
# grows RSS by about 17 MB per 1,000 browsers).
SANITIZED = "build-san" in os.environ.get("ACCEL_TOP", "")


def parsed():
    """bench/load.py's arguments, short"""
    return argparse.Namespace(connections=200, rate=1000, seconds=5.0, window=200, churns=200, flood=400000,
                              slow_seconds=20.0, send_queue="1M", half=20, half_timeout=1, tui_concurrency=16,
                              tui_keys=4, tui_settle=3.0, parts="")


def test_hold_every_request_answered_once():
    load.raise_nofile()
    r = load.part_hold(parsed())
    check(r["held_at_end"] == 200 and r["loadgen"]["welcomed"] == 200, f"connections: {r}")
    check(r["sent"] == 5000 and r["answered"] == r["sent"] and r["answered_twice"] == 0 and r["unanswered"] == 0,
          f"answers: {r}")
    check(r["ok"] == r["sent"] and r["loadgen"]["duplicate_run_ids"] == 0, f"ok/duplicates: {r}")
    # every request the load generator ran was answered, and it ran each once (warm-up included)
    check(r["loadgen"]["runs"] == r["loadgen"]["results"] >= r["sent"], f"run ids: {r['loadgen']}")
    check(r["roundtrip_ms_p50"] is not None and r["roundtrip_ms_p50"] < 1000, f"round trip: {r}")


def test_churn_leaves_no_fds_and_no_growth():
    r = load.part_churn(parsed())["reconnecting"]
    check(r["welcomed"] == 200 and r["connect_errors"] == 0, f"churn: {r}")
    check(r["fds_after"] == r["fds_before"], f"fds {r['fds_before']} -> {r['fds_after']}")
    check(r["rss_mb_after"] - r["rss_mb_before"] < 2, f"RSS {r['rss_mb_before']} -> {r['rss_mb_after']} MB")


def test_churn_of_new_browsers_is_forgotten():
    """--forget-lost 1: the rows of 200 attached browsers that said hello and went away are dropped
    (bench/load.py waits for a snapshot without them, bounded); RSS back within 2 MB (6 under ASan)"""
    r = load.churn_once(parsed(), False, forget_lost=1)
    check(r["welcomed"] == 200 and r["connect_errors"] == 0, f"churn: {r}")
    check(r["rows_after"] == 0, f"rows {r['rows_before']} -> {r['rows_at_churn_end']} -> {r['rows_after']}: {r}")
    check(r["fds_after"] == r["fds_before"], f"fds {r['fds_before']} -> {r['fds_after']}")
    bound = 6 if SANITIZED else 2
    check(r["rss_mb_after"] - r["rss_mb_before"] < bound,
          f"RSS {r['rss_mb_before']} -> {r['rss_mb_after']} MB (bound {bound} MB)")


def test_slow_reader_is_dropped_with_its_reason():
    r = load.part_slow(parsed())
    check(r["dropped"], f"the client that stopped reading was not dropped: {r}")
    check(any("dropped: send queue over 1 MiB (it stopped reading)" in (x or "") for x in r["browser_reasons"]),
          f"reason: {r['browser_reasons']}")
    check(r["rss_hwm_mb"] - r["rss_mb_before"] < 40, f"memory grew {r['rss_mb_before']} -> {r['rss_hwm_mb']} MB")


def test_half_open_connections_are_closed():
    r = load.part_half(parsed())
    ws, tcp = r["half_ws"], r["half_tcp"]
    check(ws["half_closed"] == 20 and ws["close_reasons"] == {"1001 no hello within the heartbeat timeout": 20},
          f"upgrade without hello: {ws}")
    check(ws["half_close_max_ms"] < 4000, f"upgrade without hello closed late: {ws}")
    check(tcp["half_closed"] == 20 and tcp["half_close_max_ms"] < 15000, f"TCP without HTTP: {tcp}")
    check(r["fds_after"] == r["fds_before"], f"fds {r['fds_before']} -> {r['fds_after']}")


def main(argv):
    return run_tests("load", globals(), argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
