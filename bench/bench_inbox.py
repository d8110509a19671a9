"""Benchmark the inbox with many open tasks: the first page, a page deep in the list (keyset cursor),
and the count, for a village cadre and for a county officer, on SQLite.

    .venv/bin/python bench/bench_inbox.py --tasks 100000
"""
from __future__ import annotations

import argparse
import logging
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from common import id_number, setup
from sqlalchemy import insert, select

from engine.app import create_engine_app
from engine.cases.lifecycle import open_identification
from engine.cases.tasks import TaskFilter, count_ready, inbox
from engine.core.clock import FixedClock
from engine.core.db import db
from engine.core.models import HumanTask, Jurisdiction
from engine.households.register import register_household

START = datetime(2026, 9, 20, 1, tzinfo=UTC)
ROLES = {"village": "village_cadre", "township": "township_officer", "county": "county_officer"}


def _fill(n: int) -> None:
    clock = FixedClock(START)
    household = register_household({"village": "360702101201", "members": [
        {"name": "基准户", "relation_to_head": "户主", "id_number": id_number(0)}]}, "bench", clock)
    case = open_identification(household.id, "self_application", date(2026, 9, 20), "bench", clock)
    places = db.session.scalars(select(Jurisdiction).where(Jurisdiction.path.startswith("/36/"),
                                                           Jurisdiction.level.in_(list(ROLES)))).all()
    rng = random.Random(7)
    rows = []
    for i in range(n):
        place = rng.choice(places)
        due = START + timedelta(days=rng.randint(-20, 40)) if rng.random() < 0.9 else None
        rows.append({"case_id": case.id, "task_uuid": f"bench-{i}", "bpmn_id": "verify", "name": "入户核实",
                     "role": ROLES[place.level], "jurisdiction_id": place.id, "jurisdiction_path": place.path,
                     "state": "READY", "form": "household_verification.json", "created_at": START, "due_at": due,
                     "sort_due": due or datetime(9999, 12, 31, tzinfo=UTC)})
    for chunk in range(0, n, 5000):
        db.session.execute(insert(HumanTask), rows[chunk:chunk + 5000])
    db.session.commit()


def _time(fn, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _report(label: str, f: TaskFilter, cursor: str, deep: bool) -> None:
    first = _time(lambda: inbox(f, limit=25))
    later = _time(lambda: inbox(f, limit=25, after=cursor))
    counted = _time(lambda: count_ready(f))
    print(f"{label}: {count_ready(f)} open tasks; first page {first:.1f} ms, page 200+ {later:.1f} ms, "
          f"count {counted:.1f} ms" + ("" if deep else " (fewer than 200 pages)"))


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=100_000)
    n = parser.parse_args().tasks
    with tempfile.TemporaryDirectory() as tmp:
        clock = FixedClock(START)
        app = create_engine_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'inbox.db'}",
                                 "FANGPIN_CLOCK_OBJECT": clock})
        with app.app_context():
            setup(clock)  # with the demo policy: the monitoring line an identification measures against
            db.session.commit()
            _fill(n)
            for label, code, role in (("village cadre, 沙河村", "360702101201", "village_cadre"),
                                      ("county officer, 章贡区", "360702", "county_officer"),
                                      ("supervisor view of all roles, 江西省", "36", None)):
                place = db.session.scalar(select(Jurisdiction).filter_by(code=code))
                f = TaskFilter((role,) if role else None, place)
                first = inbox(f, limit=25)
                cursor = first[-1].cursor
                deep = None
                for _ in range(200):  # walk 200 pages in, then time the next page
                    page = inbox(f, limit=25, after=cursor)
                    if not page:
                        break
                    deep, cursor = page, page[-1].cursor
                _report(label, f, cursor, deep is not None)


if __name__ == "__main__":
    main()
