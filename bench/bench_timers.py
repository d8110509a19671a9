"""Benchmark the timer scheduler: how late a timer fires after its due time, and how long catching up
on N timers that fell due while the scheduler was down takes.

    .venv/bin/python bench/bench_timers.py --timers 10000 --latency-samples 5

Latency: a case waits on its publicity timer; the clock is offset so that the timer falls due a few
seconds from now in real time; the real scheduler (sweep + exact wake-up jobs) runs in this process;
the delay is measured from the due time to the moment the case was woken (audit entry).
Catch-up: one case waiting on its publicity timer is copied N times in the database; the clock is set
past the due time; one scheduler sweep wakes them all.
"""
from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from engine.app import create_engine_app
from engine.bootstrap import setup_database
from engine.cases.lifecycle import open_identification
from engine.core.clock import FixedClock
from engine.core.config import project_dir
from engine.core.db import db
from engine.core.models import AuditEvent, Case
from engine.core.transaction import transaction
from engine.demo import create_users, drive_case
from engine.households.register import register_household
from engine.policy.parameters import load_policy_file
from timers.scheduler import TimerScheduler

START = datetime(2026, 9, 20, 1, 0, tzinfo=UTC)


class OffsetClock:
    """Real time shifted by an offset (so a far-away due time can arrive in seconds)."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def _app(tmp: str, clock):
    app = create_engine_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'timers.db'}",
                             "FANGPIN_CLOCK_OBJECT": clock})
    return app


def _waiting_case(clock, i: int = 0) -> Case:
    data = {"village": "360702101201", "members": [
        {"name": f"户主{i}", "relation_to_head": "户主", "id_number": f"3607021980{i:08d}"}]}
    household = register_household(data, "bench", clock)
    case = open_identification(household.id, "self_application", date(2026, 9, 20), "bench", clock)
    drive_case(case.id, clock, until="张贴村级公示")
    return db.session.get(Case, case.id)


def _setup(clock) -> None:
    setup_database(clock)
    with transaction():
        load_policy_file(project_dir("policy") / "demo_parameters.json")
        create_users()


def latency(samples: int) -> list[float]:
    delays = []
    with tempfile.TemporaryDirectory() as tmp:
        setup_clock = FixedClock(START)
        app = _app(tmp, setup_clock)
        with app.app_context():
            _setup(setup_clock)
            cases = [_waiting_case(setup_clock, i) for i in range(samples)]
            dues = {c.id: c.next_wakeup_at for c in cases}
        for i, (case_id, due) in enumerate(dues.items()):
            clock = OffsetClock(due - datetime.now(UTC) - timedelta(seconds=3))
            app.extensions["fangpin.clock"] = clock
            scheduler = TimerScheduler(app, sweep_seconds=30, owner=f"bench-{i}").start()
            deadline = time.monotonic() + 40
            fired_at = None
            while time.monotonic() < deadline and fired_at is None:
                time.sleep(0.05)
                with app.app_context():
                    fired_at = db.session.scalar(select(AuditEvent.at).filter_by(case_id=case_id, action="timers_fired"))
            scheduler.stop()
            delays.append((fired_at - due).total_seconds() if fired_at else float("inf"))
    return delays


def catch_up(n: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        clock = FixedClock(START)
        app = _app(tmp, clock)
        with app.app_context():
            _setup(clock)
            template = _waiting_case(clock)
            columns = {c.key: getattr(template, c.key) for c in Case.__table__.columns if c.key not in ("id", "number")}
            db.session.execute(insert(Case), [{**columns, "number": f"BENCH-{i}"} for i in range(n - 1)])
            db.session.commit()
            clock.set(template.next_wakeup_at + timedelta(hours=1))
        started = time.perf_counter()
        woken = TimerScheduler(app, owner="bench").tick()
        elapsed = time.perf_counter() - started
        assert woken == n, (woken, n)
    return elapsed


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timers", type=int, default=2000, help="timers to catch up")
    parser.add_argument("--latency-samples", type=int, default=3)
    args = parser.parse_args()
    delays = latency(args.latency_samples)
    print(f"timer latency over {len(delays)} timers: median {statistics.median(delays) * 1000:.0f} ms, "
          f"max {max(delays) * 1000:.0f} ms after the due time")
    elapsed = catch_up(args.timers)
    print(f"catch-up: {args.timers} timers due while down fired in {elapsed:.1f} s "
          f"({args.timers / elapsed:.0f} timers/s)")


if __name__ == "__main__":
    main()
