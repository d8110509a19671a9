"""A step whose deadline needs a year without holiday data is refused, nothing saved; provisional deadlines (暂定期限) computed again once next year's holiday arrangement is loaded
(engine.cases.deadlines.recompute_provisional): the deadline row and its task's due moment move, an overdue mark is
lifted when the new moment is still ahead, each move is audited; the override file is read again by every process
when it changes; migration 0013 reads the inputs of older provisional deadlines from their explanations."""
from __future__ import annotations

import importlib.util
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.cases.deadlines import provisional_deadlines, recompute_provisional
from engine.cases.lifecycle import complete_task, open_identification
from engine.core.config import project_dir
from engine.core.db import db
from engine.core.errors import CalendarRefused
from engine.core.models import AuditEvent, CaseDeadline, HumanTask
from engine.core.transaction import transaction
from engine.demo import sample_form_data
from engine.households.register import register_household
from tests.bdd.officials import household_data
from tests.factories import FICTITIOUS_2027, provisional_task_deadline, ready_row
from timers.calendar import OVERRIDE_ENV_VAR, WorkCalendar, end_of_day, reset_default_calendar
from timers.functions import explain


@pytest.fixture
def override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An override file without 2027 (as today), the calendar of every process reading it."""
    path = tmp_path / "calendar_override.json"
    path.write_text(json.dumps({"years": {}}), encoding="utf-8")
    monkeypatch.setenv(OVERRIDE_ENV_VAR, str(path))
    reset_default_calendar()
    yield path
    reset_default_calendar()


def test_adding_next_year_moves_a_provisional_deadline_and_lifts_nothing_else(app, clock, override):
    clock.set(datetime(2026, 12, 3, 2, 0, tzinfo=UTC))
    moving_task, moving = provisional_task_deadline(clock, "2026-12-03", "甲")  # ends 12-31: a day off in 2027's
    staying_task, staying = provisional_task_deadline(clock, "2026-12-02", "乙")  # ends 12-30: unchanged
    total, listed = provisional_deadlines("/")
    assert total == 2 and [item.deadline.id for item in listed] == [staying, moving]
    assert not any(item.by_hand for item in listed)

    with transaction():  # nothing is loaded yet: computing again changes nothing
        unchanged = recompute_provisional("/", "zhanggong_admin", clock.now())
    assert (unchanged.moved, unchanged.settled, unchanged.still_provisional) == (0, 0, 2)
    assert db.session.get(HumanTask, moving_task).due_at == end_of_day(date(2026, 12, 31))

    override.write_text(json.dumps(FICTITIOUS_2027, ensure_ascii=False), encoding="utf-8")  # no restart
    with transaction():
        done = recompute_provisional("/", "zhanggong_admin", clock.now())
    assert (done.moved, done.settled, done.still_provisional, done.by_hand) == (1, 1, 0, 0)
    db.session.expire_all()
    moved, task = db.session.get(CaseDeadline, moving), db.session.get(HumanTask, moving_task)
    assert moved.due_at == task.due_at == task.sort_due == end_of_day(date(2027, 1, 4))  # 12-31, 01-01 off; weekend
    assert not moved.provisional and "override sha256:" in moved.data_version and "元旦" in moved.explanation
    kept = db.session.get(CaseDeadline, staying)
    assert kept.due_at == end_of_day(date(2026, 12, 30)) and not kept.provisional
    entries = db.session.scalars(select(AuditEvent).filter_by(action="deadline_recomputed")).all()
    assert [(e.task_id, e.detail["after"][:10]) for e in entries] == [(moving_task, "2027-01-05")]  # 01-04 24:00
    assert provisional_deadlines("/")[0] == 0
    assert db.session.get(HumanTask, staying_task).due_at == end_of_day(date(2026, 12, 30))  # its task untouched


def test_an_overdue_mark_is_lifted_only_when_the_new_moment_is_ahead(app, clock, override):
    clock.set(datetime(2026, 12, 3, 2, 0, tzinfo=UTC))
    task_id, _ = provisional_task_deadline(clock, "2026-12-03", "丙")
    clock.set(datetime(2027, 1, 1, 2, 0, tzinfo=UTC))  # after 12-31 24:00: the sweep marked it overdue
    with transaction():
        db.session.get(HumanTask, task_id).overdue_since = end_of_day(date(2026, 12, 31))
    override.write_text(json.dumps(FICTITIOUS_2027, ensure_ascii=False), encoding="utf-8")
    with transaction():
        recompute_provisional("/", "system", clock.now())
    db.session.expire_all()
    assert db.session.get(HumanTask, task_id).overdue_since is None  # due 2027-01-04 now: not overdue yet


def test_only_the_cases_of_the_place_asked_for_are_computed_again(app, clock, override):
    clock.set(datetime(2026, 12, 3, 2, 0, tzinfo=UTC))
    provisional_task_deadline(clock, "2026-12-03", "丁")  # 沙河村, 章贡区
    override.write_text(json.dumps(FICTITIOUS_2027, ensure_ascii=False), encoding="utf-8")
    with transaction():
        elsewhere = recompute_provisional("/37/", "system", clock.now())  # 山东省
    assert (elsewhere.moved, elsewhere.still_provisional) == (0, 0)
    assert provisional_deadlines("/36/")[0] == 1


def _migration():
    path = project_dir("migrations") / "versions" / "0013_deadline_inputs.py"
    spec = importlib.util.spec_from_file_location("migration_0013", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("kind", "start", "amount", "extended"), [
    ("working_days", "2026-12-03", 20, False), ("days", "2026-12-20", 10, True), ("working_days", "2026-12-28", 1, False)])
def test_migration_0013_reads_the_inputs_of_an_older_provisional_deadline_from_its_explanation(kind, start, amount,
                                                                                            extended):
    deadline = explain(kind, start, amount, extend_over_holidays=extended)
    assert deadline.provisional
    assert _migration().inputs(deadline.explanation) == {
        "kind": kind, "start_on": date.fromisoformat(start), "amount": amount, "extended": extended}


def test_migration_0013_leaves_a_period_that_cannot_be_provisional():
    calendar = WorkCalendar(None)
    assert _migration().inputs(calendar.add_days("2026-12-20", 10).explanation) is None  # not moved over rest days
    assert _migration().inputs(calendar.add_months("2026-12-20", 1).explanation) is None


def test_a_step_whose_deadline_reaches_a_year_without_holiday_data_is_refused_and_nothing_is_saved(
        app, clock, override):
    """龙口市: the verification is due 5 working days after the lead; from 2026-12-28 that reaches 2027."""

    clock.set(datetime(2026, 12, 28, 2, 0, tzinfo=UTC))
    household = register_household(household_data("诸由观村", "戊", 2), "zhuyouguan_cun", clock)
    case = open_identification(household.id, "self_application", date(2026, 12, 28), "zhuyouguan_cun", clock)
    apply = ready_row(case)
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    data = sample_form_data(apply.form, date(2026, 12, 28), apply.case)
    with pytest.raises(CalendarRefused) as refused:
        complete_task(apply.id, data, "zhuyouguan_cun", clock)
    message = str(refused.value)
    assert "还没有 2027 年的节假日/调休数据" in message and "本次办理未保存" in message and "系统管理员" in message
    assert str(override) not in message  # an official is told whom to ask, not a file on the server
    db.session.expire_all()
    assert db.session.get(HumanTask, apply.id).state == "READY"
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before
