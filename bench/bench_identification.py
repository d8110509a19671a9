"""Benchmark: N identification cases end to end through the engine on SQLite, against the same
diagram run in bare SpiffWorkflow in memory.

    .venv/bin/python bench/bench_identification.py --cases 100

Prints cases/s and task completions/s for both, and the ratio (engine time / bare time). The engine
figure includes everything a real completion does: form validation, permission check, loading the
instance state, running, serializing, the task projection, the audit log and the commit.
"""
from __future__ import annotations

import argparse
import logging
import tempfile
import time
from datetime import date

from common import START, household_data, make_app, run_bare, setup

from engine.cases.lifecycle import open_identification
from engine.core.clock import FixedClock
from engine.demo import drive_case
from engine.households.register import register_household

log = logging.getLogger("bench")


def run_engine(n: int) -> tuple[float, int]:
    clock = FixedClock(START)
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(tmp, clock)
        with app.app_context():
            setup(clock)
            ids = [register_household(household_data(i), "bench", clock).id for i in range(n)]
            completions = 0
            started = time.perf_counter()
            for household_id in ids:
                clock.set(START)
                case = open_identification(household_id, "self_application", date(2026, 9, 20), "bench", clock)
                completions += len(drive_case(case.id, clock))
            return time.perf_counter() - started, completions


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100)
    n = parser.parse_args().cases
    engine_s, engine_tasks = run_engine(n)
    bare_s, bare_tasks = run_bare(n)
    print(f"cases: {n}; task completions per case: engine {engine_tasks / n:.0f}, bare {bare_tasks / n:.0f}")
    print(f"engine on SQLite:          {n / engine_s:8.1f} cases/s  {engine_tasks / engine_s:8.1f} completions/s"
          f"  ({engine_s:.2f} s)")
    print(f"bare SpiffWorkflow in RAM: {n / bare_s:8.1f} cases/s  {bare_tasks / bare_s:8.1f} completions/s"
          f"  ({bare_s:.2f} s)")
    print(f"ratio engine/bare: {engine_s / bare_s:.1f}×")


if __name__ == "__main__":
    main()
