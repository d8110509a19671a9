"""立案补录: a lead found more than ``identification.late_lead_days`` days before the case is opened (policy data, 15
days where the seeds' 15-day identification limit runs, 001 Q42) is opened only with a written reason (补录说明),
kept in the case's start data and in the audit of its opening; a later lead needs none."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from engine.cases.lifecycle import BACKFILL_REASON, LATE_LEAD_KEY, open_identification
from engine.core.db import db
from engine.core.errors import RuleViolation
from engine.core.models import AuditEvent, Case, User
from engine.households.register import register_household
from engine.policy.editing import set_parameter
from tests.bdd.officials import household_data
from timers.calendar import to_local_date

TODAY = date(2026, 9, 20)  # the clock fixture's day
REASON = "农户 3 月口头反映，村里当时未登记，本次集中排查补录"


def _household(clock, head: str, village: str = "沙河村"):
    return register_household(household_data(village, head, 2), "shahe_cun", clock)


def _cases() -> int:
    return db.session.scalar(select(func.count()).select_from(Case))


def test_a_lead_older_than_the_policy_allows_is_refused_without_a_reason_naming_the_field(app, clock):
    household = _household(clock, "补录户")
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(RuleViolation) as refused:
        open_identification(household.id, "cadre_screening", date(2020, 1, 1), "shahe_cun", clock)
    assert refused.value.field == BACKFILL_REASON
    assert str(refused.value) == ("发现日期 2020-01-01 早于今天 2454 天，超过本地政策规定的 15 天："
                                  "请在“补录说明”中写明为何现在才立案，或改正发现日期")
    with pytest.raises(RuleViolation, match="早于今天 16 天"):  # blank words are no reason
        open_identification(household.id, "cadre_screening", date(2026, 9, 4), "shahe_cun", clock,
                            {BACKFILL_REASON: "  "})
    assert _cases() == 0 and db.session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_a_lead_within_the_days_needs_no_reason(app, clock):
    case = open_identification(_household(clock, "按时户").id, "cadre_screening", date(2026, 9, 5), "shahe_cun",
                               clock)
    assert case.lead_date == date(2026, 9, 5)  # 15 days ago: the last day without a reason


def test_the_reason_is_kept_with_the_case_and_in_the_audit(app, clock):
    case = open_identification(_household(clock, "补录户").id, "cadre_screening", date(2026, 3, 10), "shahe_cun",
                               clock, {"channel_detail": "入户排查发现", BACKFILL_REASON: f" {REASON} "})
    opened = db.session.scalar(select(AuditEvent).filter_by(case_id=case.id, action="case_opened"))
    assert opened.detail["application"] == {"channel_detail": "入户排查发现", BACKFILL_REASON: REASON}
    assert opened.detail["lead_date"] == "2026-03-10"


def test_the_days_are_policy_data_of_the_place(app, clock):
    """A village whose policy allows 200 days (set by a policy editor, from today) opens the same lead without a
    reason; the village beside it still needs one."""
    editor = db.session.scalar(select(User).filter_by(username="jiangxi_zhengce"))
    set_parameter(editor, LATE_LEAD_KEY, 200, "360702101201", to_local_date(clock.now()), clock,
                  source="测试：沙河村 200 天")
    case = open_identification(_household(clock, "章贡户").id, "cadre_screening", date(2026, 3, 10), "shahe_cun",
                               clock)
    assert case.lead_date == date(2026, 3, 10)
    with pytest.raises(RuleViolation, match="超过本地政策规定的 15 天"):
        open_identification(_household(clock, "华坪户", "华坪村").id, "cadre_screening", date(2026, 3, 10),
                            "huaping_cun", clock)


def test_a_date_after_today_is_refused_as_such(app, clock):
    with pytest.raises(RuleViolation, match="发现日期 2026-09-21 晚于今天"):
        open_identification(_household(clock, "未来户").id, "cadre_screening", date(2026, 9, 21), "shahe_cun", clock)
