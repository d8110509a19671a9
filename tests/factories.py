"""Helpers shared by the engine's tests: a case opened for a new household, its ready task, a table's row count,
new places, and how many SQL statements a call sends."""
from __future__ import annotations

import functools
from datetime import date

from sqlalchemy import event, func, select
from werkzeug.security import generate_password_hash

from engine.cases.deadlines import new_deadline
from engine.cases.lifecycle import open_identification
from engine.core.db import db
from engine.core.models import Case, HumanTask, Jurisdiction
from engine.core.transaction import transaction
from engine.households.register import register_household
from tests.bdd.officials import household_data
from timers.functions import explain

TEST_HASH_METHOD = "scrypt:1024:8:1"  # Werkzeug's scrypt at 1/32 of its default work (n = 2**15): ~2 ms, not ~90


@functools.lru_cache(maxsize=4)
def password_hash(password: str = "demo") -> str:
    """``password`` hashed once per test process, with the same algorithm as production (salted scrypt) at a lower
    work factor: the hash of the demo logins of the tests' databases (tests/conftest.py) and of the logins a test
    adds. Logging in checks it through the same code (Werkzeug reads the work factor from the hash), in ~2 ms instead
    of ~90 ms, for each of the suite's many logins; the users a test creates through the engine get production's."""
    return generate_password_hash(password, method=TEST_HASH_METHOD)


def open_case(clock, head: str = "张三", lead: date = date(2026, 9, 20)) -> Case:
    household = register_household(household_data("沙河村", head, 2), "shahe_cun", clock)
    return open_identification(household.id, "self_application", lead, "shahe_cun", clock)


def ready_row(case: Case) -> HumanTask:
    return db.session.scalar(select(HumanTask).filter_by(case_id=case.id, state="READY"))


def count_rows(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def at_assistance_plan(app, clock) -> int:
    """A new household of 沙河村 identified up to its assistance plan (制定帮扶计划): the plan task's id."""
    from engine.demo import drive_case  # the demo driver: imported here so that the factories stay light

    with app.app_context():
        household = register_household(household_data("沙河村", "措施户", 3), "shahe_cun", clock)
        case_id = open_identification(household.id, "cadre_screening", date(2026, 9, 20), "shahe_cun", clock).id
        drive_case(case_id, clock, until="县级审定")
        return db.session.scalar(select(HumanTask.id).filter_by(case_id=case_id, state="READY",
                                                                form="assistance_plan.json"))


def statements_of(fn) -> int:
    """How many SQL statements ``fn()`` sends to the database."""
    seen: list[str] = []
    listen = (db.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    event.listen(*listen)
    try:
        fn()
    finally:
        event.remove(*listen)
    return len(seen)


def add_place(parent_code: str, code: str, name: str, level: str, **extra) -> Jurisdiction:
    """A new place below ``parent_code`` (flushed, not committed)."""
    parent = db.session.scalar(select(Jurisdiction).filter_by(code=parent_code))
    place = Jurisdiction(code=code, name=name, level=level, parent_id=parent.id, path=f"{parent.path}{code}/", **extra)
    db.session.add(place)
    db.session.flush()
    return place


def add_township(county_code: str, code: str, name: str, villages: int, **extra) -> list[Jurisdiction]:
    """A new township of ``county_code`` with ``villages`` new villages (their codes ``<code>201``, …): the villages."""
    add_place(county_code, code, name, "township", **extra)
    return [add_place(code, f"{code}{201 + i}", f"{name}{i + 1}村", "village", **extra) for i in range(villages)]


# FICTITIOUS: a 2027 arrangement that also gives 2026-12-31 off (a cross-year change), NOT the real notice
FICTITIOUS_2027 = {"years": {"2027": {"source": "虚构测试数据（不是真实通知）",
                                      "holidays": {"2026-12-31": "元旦（虚构）", "2027-01-01": "元旦（虚构）"},
                                      "workdays": {}}}}


def provisional_task_deadline(clock, start: str, head: str) -> tuple[int, int]:
    """A case whose ready task is due 20 working days after ``start`` — provisional without 2027's data — as
    engine.cases.tasks projects a due date: (task id, deadline id)."""
    case = open_case(clock, head, date.fromisoformat(start))  # found the day the task starts
    row = ready_row(case)
    computed = explain("working_days", start, 20)
    assert computed.provisional
    with transaction():
        row.due_at = row.sort_due = computed.due_at
        deadline = new_deadline(case.id, "task", row.name, computed.due_at, [computed], clock.now(), task=row)
        db.session.add(deadline)
    return row.id, deadline.id
