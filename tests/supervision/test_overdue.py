"""The overdue overview is counted in the database: its totals, per-place and per-step counts cover every overdue
item while its list holds the most overdue LIMIT, in the same number of statements however much is overdue; the
sweep marks only what newly fell due."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, insert, select

from engine.core.db import db
from engine.core.models import HumanTask, Jurisdiction
from engine.supervision.overdue import LIMIT, mark_overdue
from engine.supervision.overview import overdue_overview
from tests.factories import open_case

COUNTY, TOWNSHIP = "360702", "360702101"


def _tasks(case_id: int, n: int, now, state: str = "READY", start: int = 0) -> None:
    villages = db.session.scalars(select(Jurisdiction).where(Jurisdiction.level == "village",
                                                             Jurisdiction.path.like("/36/3607/360702/%"))).all()
    rows = []
    for i in range(start, start + n):
        place = villages[i % len(villages)]
        due = now - timedelta(days=1 + i % 9)
        rows.append({"case_id": case_id, "task_uuid": f"t-{state}-{i}", "bpmn_id": "appraise", "name": "民主评议",
                     "role": "village_cadre", "jurisdiction_id": place.id, "jurisdiction_path": place.path,
                     "state": state, "form": "democratic_appraisal.json", "created_at": now, "due_at": due,
                     "sort_due": due})
    db.session.execute(insert(HumanTask), rows)
    db.session.commit()


def _overview(now):
    statements = []
    listen = (db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    event.listen(*listen)
    try:
        db.session.remove()
        county = db.session.scalar(select(Jurisdiction).filter_by(code=COUNTY))
        return overdue_overview(county, now), len(statements)
    finally:
        event.remove(*listen)


def test_the_overview_counts_everything_in_the_same_number_of_statements_and_lists_the_most_overdue(app, clock):
    case = open_case(clock).id
    now = clock.now() + timedelta(days=30)
    _tasks(case, 30, now)
    _tasks(case, 500, now, state="COMPLETED")  # done: never overdue, however old their due date
    small, statements = _overview(now)
    _tasks(case, 90, now, start=30)
    big, more_statements = _overview(now)
    assert more_statements == statements
    ready = 1 + 120  # the case's own first step (due 15 days after the lead, so overdue by now) and the rows above
    assert (small.tasks, big.tasks) == (31, ready)
    assert len(big.items) == LIMIT and sum(p.total for p in big.by_child) + big.own_level.total == big.total
    assert [i.days_overdue for i in big.items] == sorted((i.days_overdue for i in big.items), reverse=True)
    assert big.worst_days == big.items[0].days_overdue
    assert {step: n for _, step, n in big.by_step}["民主评议"] == 120
    assert next(p for p in big.by_child if p.code == TOWNSHIP).tasks > 0


def test_the_sweep_marks_each_overdue_task_once(app, clock):
    case = open_case(clock).id
    now = clock.now() + timedelta(days=30)
    _tasks(case, 40, now)
    assert mark_overdue(now) == 40 + 2  # the rows, the case's first step and its overall limit
    assert mark_overdue(now) == 0
    assert mark_overdue(now + timedelta(days=1)) == 0
