"""Dates of what happened (engine.cases.event_dates): a county approval in the future, a posting before its
posting step, an application months ahead are refused naming the field, and nothing changes; a posting recorded
late never shortens the publicity; backdating is allowed only within the policy's tolerance, with a reason,
audited."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from engine.bpmn.forms import load_form
from engine.cases.deadlines import deadlines_of_case
from engine.cases.event_dates import event_date_fields
from engine.cases.lifecycle import complete_task, open_identification
from engine.core.db import db
from engine.core.errors import FormInvalid
from engine.core.models import AuditEvent, Case, HumanTask, User
from engine.demo import drive_case, official_for, sample_form_data
from engine.households.register import register_household
from engine.policy.editing import set_parameter
from tests.bdd.officials import household_data
from timers.calendar import CHINA_TZ, to_local_date
from timers.functions import days_from

pytestmark = pytest.mark.usefixtures("app")


def _at(day: str, hour: int = 9) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=CHINA_TZ)


def _case(clock, lead: date = date(2026, 9, 20)) -> Case:
    household = register_household(household_data("沙河村", "日期户", 2), "shahe_cun", clock)
    return open_identification(household.id, "cadre_screening", lead, "shahe_cun", clock)


def _ready(case_id: int) -> HumanTask:
    return db.session.scalar(select(HumanTask).filter_by(case_id=case_id, state="READY").order_by(HumanTask.id))


def _complete(clock, case_id: int, **fields):
    row = _ready(case_id)
    values = {**sample_form_data(row.form, to_local_date(clock.now()), row.case), **fields}
    reason = values.pop("backdating_reason", None)
    return complete_task(row.id, values, official_for(row.role, row.case).username, clock,
                         backdating_reason=reason)


def _refused(clock, case_id: int, **fields) -> dict[str, str]:
    """The fields named by the refusal; the case, its tasks and the audit log unchanged."""
    case = db.session.get(Case, case_id)
    before = (case.lock_version, case.state, _ready(case_id).id,
              db.session.scalar(select(func.count()).select_from(AuditEvent)))
    with pytest.raises(FormInvalid) as refused:
        _complete(clock, case_id, **fields)
    db.session.expire_all()
    case = db.session.get(Case, case_id)
    assert (case.lock_version, case.state, _ready(case_id).id,
            db.session.scalar(select(func.count()).select_from(AuditEvent))) == before
    return dict(refused.value.errors)


def test_every_date_field_of_the_shipped_forms_is_a_date_of_what_happened():
    assert event_date_fields(load_form("county_approval.json")) == {"decided_on": "审定日期（即识别日期）"}
    assert event_date_fields(load_form("post_publicity.json")) == {"posted_on": "张贴日期"}
    assert event_date_fields({"properties": {"next_visit": {"type": "string", "format": "date",
                                                            "x-planned": True}}}) == {}


def test_an_earlier_comparison_reused_may_be_dated_before_the_step_but_not_after_today(clock):
    """``x-earlier``: the date of a comparison made before the procedure (001 Q43), whose result the step reuses."""
    assert event_date_fields(load_form("information_comparison.json")) == {"compared_on": "比对日期",
                                                                           "earlier_compared_on": "此前比对日期"}
    case = _case(clock)
    drive_case(case.id, clock, until="民主评议")
    assert _ready(case.id).name == "信息比对"
    errors = _refused(clock, case.id, earlier_comparison_reused=True, earlier_compared_on="2026-09-21")
    assert errors == {"earlier_compared_on": "此前比对日期 2026-09-21 晚于今天（2026-09-20）：发生过的事不能填将来的日期"}
    _complete(clock, case.id, earlier_comparison_reused=True, earlier_compared_on="2026-07-01")  # before the lead date
    assert _ready(case.id).name == "张贴村级公示"


def test_an_application_dated_months_ahead_is_refused(clock):
    case = _case(clock)
    errors = _refused(clock, case.id, applied_on="2027-01-15")
    assert errors == {"applied_on": "申请日期 2027-01-15 晚于今天（2026-09-20）：发生过的事不能填将来的日期"}


def test_a_future_date_is_named_together_with_the_forms_other_errors(clock):
    """One submission names every wrong field: the schema's (a required field left out, text too long) and the
    dates of what happened; a date the schema finds malformed is named once, by the schema."""
    case = _case(clock)
    errors = _refused(clock, case.id, applied_on="2027-05-01", risk_description="x" * 3000)
    assert set(errors) == {"applied_on", "risk_description"} and "晚于今天" in errors["applied_on"]
    errors = _refused(clock, case.id, applied_on="2027-13-45", all_members_signed=None)
    assert set(errors) == {"applied_on", "all_members_signed"} and "格式应为" in errors["applied_on"]


def test_an_application_before_the_lead_date_is_refused_and_on_the_lead_date_accepted(clock):
    clock.set(_at("2026-09-22"))
    case = _case(clock, lead=date(2026, 9, 21))
    errors = _refused(clock, case.id, applied_on="2026-09-19")
    assert "申请日期 2026-09-19 早于发现日期 2026-09-21（早 2 天；不允许补录更早的日期）" == errors["applied_on"]
    _complete(clock, case.id, applied_on="2026-09-21")  # entered a day after it was made: fine
    assert _ready(case.id).name == "入户核实"


def test_a_county_approval_in_the_future_is_refused_and_nothing_is_computed_from_it(clock):
    case = _case(clock)
    drive_case(case.id, clock, until="乡镇审核（入户抽查）")
    today = to_local_date(clock.now())
    assert _ready(case.id).name == "县级审定"
    future = (today + timedelta(days=21)).isoformat()
    errors = _refused(clock, case.id, decided_on=future)
    assert errors["decided_on"].startswith(f"审定日期（即识别日期） {future} 晚于今天")
    assert not any("帮扶计划" in d.label for d in deadlines_of_case(case.id))


def test_a_posting_dated_before_its_posting_step_is_refused(clock):
    case = _case(clock)
    drive_case(case.id, clock, until="信息比对")  # the appraisal, and the comparison beside it
    row = _ready(case.id)
    assert row.name == "张贴村级公示"
    began = to_local_date(row.created_at)
    clock.set(clock.now() + timedelta(days=11))
    early = (began - timedelta(days=1)).isoformat()
    errors = _refused(clock, case.id, posted_on=early)
    assert errors["posted_on"] == f"张贴日期 {early} 早于上一步办结、本步骤开始的日期 {began}（早 1 天；不允许补录更早的日期）"


def test_a_posting_recorded_late_runs_its_full_period_from_the_day_it_was_recorded(clock):
    case = _case(clock)
    drive_case(case.id, clock, until="信息比对")  # the appraisal, and the comparison beside it
    posted = to_local_date(_ready(case.id).created_at)
    clock.set(clock.now() + timedelta(days=11))  # the posting task done eleven days after the posting
    _complete(clock, case.id, posted_on=posted.isoformat())
    recorded = to_local_date(clock.now())
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert _ready(case.id) is None  # waiting for the publicity, not jumping to the township review
    (timer,) = [d for d in deadlines_of_case(case.id) if d.subject == "timer" and "公示" in d.label]
    assert f"{posted}张贴" in timer.label  # the posting date as recorded …
    assert timer.due_at == datetime.fromisoformat(days_from(recorded.isoformat(), 5))  # … the period from recording
    assert timer.due_at != datetime.fromisoformat(days_from(posted.isoformat(), 5))
    assert case.next_wakeup_at == timer.due_at


def test_backdating_within_the_tolerance_needs_a_reason_and_is_audited(clock):
    _tolerate_in_jiangxi(clock, 3)
    clock.set(_at("2026-09-25"))
    case = _case(clock, lead=date(2026, 9, 24))
    errors = _refused(clock, case.id, applied_on="2026-09-22")
    assert errors == {"backdating_reason": "申请日期 2026-09-22 早于发现日期 2026-09-24：补录须写明原因"}
    errors = _refused(clock, case.id, applied_on="2026-09-20")
    assert "早 4 天；政策允许补录最多早 3 天" in errors["applied_on"]
    _complete(clock, case.id, applied_on="2026-09-22", backdating_reason="纸质申请 9 月 22 日交村委会，系统故障未及时录入")
    entry = db.session.scalar(select(AuditEvent).filter_by(case_id=case.id, action="date_backdated"))
    assert entry.detail == {"step": "受理申请并签署承诺授权书", "field": "applied_on", "date": "2026-09-22",
                            "earliest": "2026-09-24", "reason": "纸质申请 9 月 22 日交村委会，系统故障未及时录入"}


def _tolerate_in_jiangxi(clock, days: int) -> None:
    editor = db.session.scalar(select(User).filter_by(username="jiangxi_zhengce"))
    set_parameter(editor, "dates.backdating_tolerance_days", days, "36", to_local_date(clock.now()), clock,
                  source=f"测试：允许补录 {days} 天")
