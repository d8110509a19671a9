"""Benchmark the queries of a county-sized data set (bench/county.py): inbox pages and their counts for each
level, the county's overdue overview, and the overdue sweep with nothing new due, as p95 of repeated runs, each
in a fresh session (as a request would be), against the issue's targets.

    .venv/bin/python bench/bench_county.py                       # generates the county on a temporary SQLite file
    .venv/bin/python bench/bench_county.py --database-url postgresql://…   # on PostgreSQL (emptied first)
    BENCH_QUICK=1 …                                               # a tenth of the county
"""
from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import START
from county import COUNTY, NOW, generate
from sqlalchemy import select

from engine.app import create_engine_app
from engine.bootstrap import setup_database
from engine.cases.tasks import TaskFilter, count_ready, inbox
from engine.core.clock import FixedClock
from engine.core.config import tune_garbage_collector
from engine.core.db import db
from engine.core.models import Jurisdiction
from engine.core.transaction import transaction
from engine.demo import create_users
from engine.supervision.overdue import mark_overdue
from engine.supervision.overview import overdue_overview

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
RUNS = 20
INBOX_MS, OVERDUE_MS, SWEEP_MS = 20.0, 50.0, 20.0


def p95(fn: Callable[[], object], runs: int = RUNS) -> float:
    """The 95th percentile of ``runs`` timings in ms, each after emptying the session (after one untimed run: the
    first pays for compiling the statements, as only a server's first request would)."""
    db.session.remove()
    fn()
    times = []
    for _ in range(runs):
        db.session.remove()
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return times[min(len(times) - 1, int(0.95 * len(times)))]


def _place(code: str) -> Jurisdiction:
    return db.session.scalar(select(Jurisdiction).filter_by(code=code))


def measure() -> None:
    county = f"{COUNTY}"
    township, village = f"{COUNTY}900", f"{COUNTY}900000"
    for label, code, roles in (("village cadre", village, ("village_cadre",)),
                               ("township officer", township, ("township_officer",)),
                               ("county officer", county, ("county_officer",)),
                               ("county, every role", county, None)):
        def page(code=code, roles=roles) -> None:
            f = TaskFilter(roles, _place(code))
            inbox(f, limit=50, total=count_ready(f))  # as the inbox page: its count, then its first page
        db.session.remove()
        n = count_ready(TaskFilter(roles, _place(code)))
        ms = p95(page)
        print(f"inbox page and count, {label} ({n} open): p95 {ms:.1f} ms   (target < {INBOX_MS:g} ms) "
              f"{'✓' if ms < INBOX_MS else '✗'}")
    db.session.remove()
    overview = overdue_overview(_place(county), NOW)
    ms = p95(lambda: overdue_overview(_place(county), NOW))
    print(f"overdue overview, county ({overview.total} overdue, first page of {len(overview.items)}): p95 {ms:.1f} ms"
          f"   (target < {OVERDUE_MS:g} ms) {'✓' if ms < OVERDUE_MS else '✗'}")
    started = time.perf_counter()
    marked = mark_overdue(NOW)
    first = (time.perf_counter() - started) * 1000
    ms = p95(lambda: mark_overdue(NOW))
    print(f"overdue sweep: first marks {marked} in {first:.0f} ms; with nothing new due p95 {ms:.1f} ms   "
          f"(target < {SWEEP_MS:g} ms) {'✓' if ms < SWEEP_MS else '✗'}")


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    tune_garbage_collector()  # as the web and scheduler processes do
    scale = 10 if QUICK else 1
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'county.db'}"
        clock = FixedClock(START)
        app = create_engine_app({"SQLALCHEMY_DATABASE_URI": url, "FANGPIN_CLOCK_OBJECT": clock})
        with app.app_context():
            if args.database_url:
                db.drop_all()
            setup_database(clock)
            with transaction():
                from engine.core.config import project_dir
                from engine.policy.parameters import load_policy_file
                load_policy_file(project_dir("policy") / "demo_parameters.json")
                create_users()
            made = generate(200_000 // scale, 1_000_000 // scale, 100_000 // scale, 10_000 // scale)
            if db.engine.dialect.name == "postgresql":  # what autovacuum does soon after a bulk load
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                    connection.exec_driver_sql("ANALYZE")
            print(f"county on {db.engine.dialect.name}: {made.households} households, {made.tasks} tasks "
                  f"({made.open_tasks} open, {made.overdue} overdue), generated in {made.seconds:.0f} s")
            measure()
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
