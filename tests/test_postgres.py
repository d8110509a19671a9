"""The engine on a real PostgreSQL server (the production database): a whole identification case,
timestamptz round trips, two officials completing one task at once, and a refused form saving nothing."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text

from engine.bpmn.runtime import next_wakeup
from engine.cases.functions import CaseContext, case_workflow
from engine.cases.lifecycle import complete_task, open_identification
from engine.core.db import db
from engine.core.errors import FormInvalid
from engine.core.models import AuditEvent, Case, Household, HumanTask
from engine.demo import official_for, sample_form_data
from engine.households.register import register_household
from tests.bdd.officials import household_data
from tests.concurrency import complete_twice_at_once

pytestmark = pytest.mark.postgres

CST = timezone(timedelta(hours=8))


def _open_case(clock, head: str) -> Case:
    household = register_household(household_data("沙河村", head, 3, is_formerly_poor=True), "shahe_cun", clock)
    return open_identification(household.id, "cadre_screening", date(2026, 9, 20), "shahe_cun", clock)


def _ready(case_id: int) -> list[HumanTask]:
    return list(db.session.scalars(select(HumanTask).filter_by(case_id=case_id, state="READY").order_by(HumanTask.id)))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _is_utc(moment: datetime | None) -> bool:
    return moment is not None and moment.utcoffset() == timedelta(0)


def test_the_database_is_postgresql_with_timestamptz_columns(pg_app):
    assert db.engine.dialect.name == "postgresql"
    types = dict(db.session.execute(text(
        "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns "
        "WHERE table_name IN ('case', 'human_task') AND column_name IN ('due_at', 'next_wakeup_at')")).all())
    assert types == {"case.due_at": "timestamp with time zone", "case.next_wakeup_at": "timestamp with time zone",
                     "human_task.due_at": "timestamp with time zone"}
    assert db.session.scalar(text("SHOW TimeZone")) == "Asia/Shanghai"  # instants must not depend on it


def test_a_whole_identification_case_on_postgresql(pg_app, clock):
    from tests.bdd.steps import _run  # the default-data driver of the features

    world = {"done": [], "case_id": _open_case(clock, "刘建国").id}
    _run(world, clock, until="张贴村级公示")

    # a timer's instant: computed in Python, stored as timestamptz, read back equal and in UTC
    db.session.expire_all()
    case = db.session.get(Case, world["case_id"])
    expected = next_wakeup(case_workflow(case, CaseContext(case, "t", clock).script_engine()))
    assert case.next_wakeup_at == expected == datetime(2026, 9, 25, 16, 0, tzinfo=UTC)  # 09-25 24:00 CST
    assert _is_utc(case.next_wakeup_at)
    raw = db.session.scalar(text('SELECT next_wakeup_at FROM "case" WHERE id = :id'), {"id": case.id})
    assert raw == expected and raw.utcoffset() == timedelta(hours=8)  # the session's zone, same instant

    _run(world, clock)
    db.session.expire_all()
    case = db.session.get(Case, world["case_id"])
    assert (case.status, case.outcome) == ("completed", "identified")
    assert case.next_wakeup_at is None and _is_utc(case.closed_at) and _is_utc(case.opened_at)
    assert db.session.get(Household, case.household_id).status == "monitored"
    assert [step for step, _ in world["done"]][-1] == "录入全国防返贫监测信息系统"
    assert not _ready(case.id)

    # every task's due time reads back equal to the one computed when it became ready (kept in the audit log)
    tasks = {t.id: t for t in db.session.scalars(select(HumanTask).filter_by(case_id=case.id))}
    assert len(tasks) == len(world["done"]) and all(t.state == "COMPLETED" for t in tasks.values())
    computed = {e.task_id: e.detail["due_at"] for e in db.session.scalars(
        select(AuditEvent).filter_by(case_id=case.id, action="task_ready"))}
    assert computed.keys() == tasks.keys()
    due = {i: t.due_at for i, t in tasks.items() if t.due_at is not None}
    assert due and {i: datetime.fromisoformat(computed[i]) for i in due} == due
    assert due[min(due)] == datetime(2026, 10, 5, 16, 0, tzinfo=UTC)  # lead date 09-20 + 15 days, 24:00 CST
    assert all(_is_utc(t.created_at) and _is_utc(t.completed_at) for t in tasks.values())
    assert all(_is_utc(moment) for moment in due.values())

    # an instant with microseconds, given in another zone, round-trips exactly
    moment = datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=CST)
    row = tasks[min(tasks)]
    row.due_at = moment
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(HumanTask, row.id).due_at
    assert stored == moment and stored.tzinfo == UTC and stored.microsecond == 999_999


def test_two_officials_completing_one_task_at_once_one_gets_a_conflict(pg_app, clock, monkeypatch):
    case = _open_case(clock, "蒋三")
    first = _ready(case.id)[0]
    complete_task(first.id, sample_form_data(first.form, date(2026, 9, 20), first.case), "shahe_cun", clock)
    row = next(r for r in _ready(case.id) if r.name == "入户核实")
    row_id, case_id, version = row.id, case.id, case.lock_version
    data = sample_form_data(row.form, date(2026, 9, 20), row.case)
    user = official_for("township_officer", case).username
    db.session.commit()  # the test's own session holds no transaction while the officials work

    results = complete_twice_at_once(pg_app, monkeypatch, row_id, data, user, clock)
    assert sorted(r.split(":")[0] for r in results) == ["conflict", "ok"], results
    assert "同时办理" in next(r for r in results if r.startswith("conflict"))  # lost at the optimistic lock

    db.session.expire_all()  # the officials worked in other sessions
    case = db.session.get(Case, case_id)
    assert case.lock_version == version + 1  # saved once
    completed = db.session.scalars(select(HumanTask).filter_by(case_id=case_id, name="入户核实")).all()
    assert [(t.state, t.completed_by) for t in completed] == [("COMPLETED", user)]
    assert [t.name for t in _ready(case_id)] == ["民主评议", "信息比对"]  # 001 Q43: the comparison beside the appraisal
    done = db.session.scalars(select(AuditEvent).filter_by(case_id=case_id, action="task_completed")).all()
    assert [e.detail["step"] for e in done] == ["受理申请并签署承诺授权书", "入户核实"]


def test_wrong_form_field_is_named_and_nothing_is_saved_on_postgresql(pg_app, clock):
    case = _open_case(clock, "张三")
    task, version, events = _ready(case.id)[0], case.lock_version, _count(AuditEvent)
    with pytest.raises(FormInvalid) as refused:
        complete_task(task.id, {"applied_on": "20.9.2026", "all_members_signed": False}, "shahe_cun", clock)
    fields = dict(refused.value.errors)
    assert set(fields) == {"applied_on", "all_members_signed", "risk_description"}
    db.session.expire_all()
    assert (task.state, task.completed_by, task.form_data) == ("READY", None, None)
    assert (case.lock_version, _count(AuditEvent)) == (version, events)
    # the session is usable after the refusal: the same task can then be completed
    complete_task(task.id, sample_form_data(task.form, date(2026, 9, 20), task.case), "shahe_cun", clock)
    db.session.expire_all()
    assert (task.state, case.lock_version) == ("COMPLETED", version + 1)


def test_the_migrations_make_the_schema_of_the_models_on_postgresql(pg_app):
    from tests.core.test_schema import schema_differences

    assert db.session.scalar(text("SELECT version_num FROM alembic_version")) is not None
    assert schema_differences() == []


def test_an_included_warning_waiting_for_the_county_is_listed_overdue_on_postgresql(pg_app, clock):
    """(engine.warnings.ledger takes a verification case's warning id from its reference, in SQL.)"""
    from engine.core.models import Jurisdiction
    from engine.warnings.ledger import overdue_warnings
    from tests.warnings.test_procedure import WARNING_DUE, _included

    warning, _ = _included(clock, "逾期甲")
    county = db.session.scalar(select(Jurisdiction).filter_by(code="360702"))
    assert overdue_warnings(county, WARNING_DUE) == []
    late = overdue_warnings(county, WARNING_DUE + timedelta(hours=9))
    assert [(r.warning.id, r.open_due, r.days_overdue) for r in late] == [(warning.id, WARNING_DUE, 1)]
