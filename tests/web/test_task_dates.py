"""Dates on the task page: a date in the future is refused next to its field, with nothing saved; a backdated date
within the policy's tolerance asks for a reason on the same page, and is accepted with it."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from engine.cases.lifecycle import open_identification
from engine.core.db import db
from engine.core.models import AuditEvent, User
from engine.households.register import register_household
from engine.policy.editing import set_parameter
from tests.bdd.officials import household_data
from tests.webclient import login, post_form, ready_task
from timers.calendar import to_local_date

STEP = "受理申请并签署承诺授权书"


def _case(web_app, clock, lead: date) -> int:
    with web_app.app_context():
        household = register_household(household_data("沙河村", "页面日期户", 2), "shahe_cun", clock)
        return open_identification(household.id, "cadre_screening", lead, "shahe_cun", clock).id


def _apply(client, task_id: int, applied_on: str, **extra: str):
    return post_form(client, f"/tasks/{task_id}", {"applied_on": applied_on, "all_members_signed": "on",
                                                   "risk_description": "因病", **extra})


def test_a_future_application_date_is_refused_next_to_its_field(web_app, client, clock):
    case_id = _case(web_app, clock, to_local_date(clock.now()))
    task = ready_task(web_app, case_id, STEP)
    login(client, "shahe_cun")
    answer = _apply(client, task.id, "2027-03-01")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'id="err-applied_on">申请日期 2027-03-01 晚于今天（2026-09-20）' in page
    assert ready_task(web_app, case_id, STEP).id == task.id  # still to do: nothing saved


def test_a_backdated_date_asks_for_a_reason_and_is_accepted_with_it(web_app, client, clock):
    with web_app.app_context():
        editor = db.session.scalar(select(User).filter_by(username="jiangxi_zhengce"))
        set_parameter(editor, "dates.backdating_tolerance_days", 2, "36", to_local_date(clock.now()), clock,
                      source="测试")
    case_id = _case(web_app, clock, date(2026, 9, 20))
    task = ready_task(web_app, case_id, STEP)
    login(client, "shahe_cun")
    answer = _apply(client, task.id, "2026-09-19")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and 'name="backdating_reason"' in page
    assert "申请日期 2026-09-19 早于发现日期 2026-09-20：补录须写明原因" in page
    answer = _apply(client, task.id, "2026-09-19", backdating_reason="9 月 19 日村委会收到纸质申请")
    assert answer.status_code == 302
    with web_app.app_context():
        entry = db.session.scalar(select(AuditEvent).filter_by(case_id=case_id, action="date_backdated"))
        assert entry.detail["reason"] == "9 月 19 日村委会收到纸质申请" and entry.actor == "shahe_cun"
