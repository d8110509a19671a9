"""A county-sized data set (县级规模数据): 200 000 households in 300 generated villages of 章贡区, a million task
rows of which 100 000 open and 10 000 overdue, each with its deadline, written with set-based inserts in a few minutes, on SQLite or
PostgreSQL. Every case carries the state of a real identification, so it loads.

    .venv/bin/python bench/county.py --database-url sqlite:////tmp/county.db
    DATABASE_URL=postgresql://… .venv/bin/python bench/county.py

Used by bench/bench_county.py; sizes are options (``--households``, ``--tasks``, ``--open``, ``--overdue``).
"""
from __future__ import annotations

import argparse
import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from common import START, id_number, setup, waiting_case
from sqlalchemy import func, insert, select

from engine.app import create_engine_app
from engine.core.clock import FixedClock
from engine.core.config import REPO_ROOT
from engine.core.db import db
from engine.core.models import Case, CaseDeadline, Household, HumanTask, Jurisdiction, Member

log = logging.getLogger("bench.county")
COUNTY = "360702"
TOWNSHIPS, VILLAGES_EACH = 20, 15
STEPS = (("village_cadre", "village", "民主评议", "democratic_appraisal.json"),
         ("township_officer", "township", "入户核实", "household_verification.json"),
         ("county_officer", "county", "县级审定", "county_approval.json"))
NOW = START + timedelta(days=60)  # "today" in the generated county
CHUNK = 20_000
FAR = datetime(9999, 12, 31, tzinfo=UTC)


@dataclass(frozen=True)
class County:
    households: int
    tasks: int
    open_tasks: int
    overdue: int
    seconds: float


def _places() -> tuple[Jurisdiction, list[Jurisdiction], list[Jurisdiction]]:
    county = db.session.scalar(select(Jurisdiction).filter_by(code=COUNTY))
    townships, villages = [], []
    for t in range(TOWNSHIPS):
        code = f"{COUNTY}9{t:02d}"
        township = Jurisdiction(code=code, name=f"生成{t}镇", level="township", parent_id=county.id,
                                path=f"{county.path}{code}/")
        townships.append(township)
    db.session.add_all(townships)
    db.session.flush()
    for township in townships:
        for v in range(VILLAGES_EACH):
            code = f"{township.code}{v:03d}"
            villages.append(Jurisdiction(code=code, name=f"{township.name}{v}村", level="village",
                                         parent_id=township.id, path=f"{township.path}{code}/", rural_population=2000))
    db.session.add_all(villages)
    db.session.flush()
    return county, townships, villages


def _insert(model, rows) -> None:
    for start in range(0, len(rows), CHUNK):
        db.session.execute(insert(model), rows[start:start + CHUNK])


def generate(households: int = 200_000, tasks: int = 1_000_000, open_tasks: int = 100_000,
             overdue: int = 10_000) -> County:
    """Write the county into the current application's database (already set up); one commit at the end."""
    started = time.perf_counter()
    clock = FixedClock(START)
    template = waiting_case(clock)
    version_id, state, case_number = template.process_version_id, template.state, template.number
    county, townships, villages = _places()
    by_level = {"county": [county], "township": townships, "village": villages}
    first_household = (db.session.scalar(select(func.max(Household.id))) or 0) + 1
    _insert(Household, [{"id": first_household + i, "number": f"G{i:09d}", "village_id": villages[i % len(villages)].id,
                         "status": "applying", "created_at": START} for i in range(households)])
    _insert(Member, [{"household_id": first_household + i, "position": 0, "name": f"户主{i}", "relation_to_head": "户主",
                      "id_number": id_number(i, date(1960, 1, 1))} for i in range(households)])
    per_case = max(1, tasks // households)
    cases = tasks // per_case
    first_case = (db.session.scalar(select(func.max(Case.id))) or 0) + 1
    running = open_tasks  # one ready task each
    case_rows = []
    for i in range(cases):
        village = villages[i % len(villages)]
        open_ = i < running
        case_rows.append({"id": first_case + i, "number": f"SB-G-{i:07d}", "procedure": "identification",
                          "process_version_id": version_id, "household_id": first_household + i % households,
                          "jurisdiction_id": village.id, "jurisdiction_path": village.path,
                          "channel": "self_application", "lead_date": date(2026, 9, 1), "opened_at": START,
                          "opened_by": "bench", "status": "running" if open_ else "completed",
                          "outcome": None if open_ else "identified", "state": state, "lock_version": 1})
    _insert(Case, case_rows)
    task_rows, deadline_rows = [], []
    task_id = (db.session.scalar(select(func.max(HumanTask.id))) or 0) + 1
    for i in range(cases):
        case = case_rows[i]
        village = villages[i % len(villages)]
        for k in range(per_case):
            ready = case["status"] == "running" and k == per_case - 1
            role, level, name, form = STEPS[(i // len(villages) + k) % len(STEPS)]
            place = village if level == "village" else (
                townships[(i % len(villages)) // VILLAGES_EACH] if level == "township" else county)
            if ready:
                due = NOW - timedelta(days=1 + i % 20) if i < overdue else NOW + timedelta(days=1 + i % 30)
            else:
                due = START + timedelta(days=k)
            deadline_rows.append({"case_id": case["id"], "subject": "task", "task_id": task_id, "label": name,
                                  "due_at": due, "created_at": START})
            task_rows.append({"id": task_id, "case_id": case["id"], "procedure": case["procedure"], "task_uuid": f"g-{i}-{k}", "bpmn_id": form[:-5], "name": name,
                              "role": role, "jurisdiction_id": place.id, "jurisdiction_path": place.path,
                              "state": "READY" if ready else "COMPLETED", "form": form, "created_at": START,
                              "due_at": due, "sort_due": due or FAR,
                              "completed_by": None if ready else "bench", "completed_at": None if ready else START})
            task_id += 1
        if len(task_rows) >= CHUNK:
            _insert(HumanTask, task_rows)
            _insert(CaseDeadline, deadline_rows)
            task_rows, deadline_rows = [], []
    _insert(HumanTask, task_rows)
    _insert(CaseDeadline, deadline_rows)
    db.session.commit()
    assert by_level and case_number
    made = County(households, cases * per_case, min(running, cases), min(overdue, running), time.perf_counter() - started)
    log.info("county: %s", made)
    return made


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=f"sqlite:///{REPO_ROOT / 'instance' / 'county.db'}")
    parser.add_argument("--households", type=int, default=200_000)
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--overdue", type=int, default=10_000)
    args = parser.parse_args()
    clock = FixedClock(START)
    app = create_engine_app({"SQLALCHEMY_DATABASE_URI": args.database_url, "FANGPIN_CLOCK_OBJECT": clock})
    with app.app_context():
        setup(clock)
        made = generate(args.households, args.tasks, args.open, args.overdue)
    print(f"county: {made.households} households, {made.tasks} tasks ({made.open_tasks} open, {made.overdue} overdue) "
          f"written in {made.seconds:.0f} s")


if __name__ == "__main__":
    main()
