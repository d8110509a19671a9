"""Benchmark the timer scheduler: how late a timer fires after its due time, and how long catching up
on N timers that fell due while the scheduler was down takes.

    .venv/bin/python bench/bench_timers.py --timers 10000 --latency-samples 5

Latency: a case waits on its publicity timer; the clock is offset so that the timer falls due a few
seconds from now in real time; the real scheduler (sweep + exact wake-up jobs) runs in this process;
the delay is measured from the due time to the moment the case was woken (audit entry).
Catch-up: one case waiting on its publicity timer is copied N times in the database; the clock is set
past the due time; scheduler sweeps (one, or several if a sweep works in bounded batches) wake them all.
"""
from __future__ import annotations

import argparse
import logging
import statistics

from common import catch_up, latency


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timers", type=int, default=2000, help="timers to catch up")
    parser.add_argument("--latency-samples", type=int, default=3)
    args = parser.parse_args()
    delays = latency(args.latency_samples)
    print(f"timer latency over {len(delays)} timers: median {statistics.median(delays) * 1000:.0f} ms, "
          f"max {max(delays) * 1000:.0f} ms after the due time")
    result = catch_up(args.timers)
    assert result.cases_woken == args.timers, (result.cases_woken, args.timers)
    print(f"catch-up: {args.timers} timers due while down fired in {result.seconds:.1f} s "
          f"({args.timers / result.seconds:.0f} timers/s)")


if __name__ == "__main__":
    main()
