"""Separation of duties (职责分离): whether the official who opened a case may also approve it at county level
is policy data (``identification.opener_may_not_complete``), allowed where it is empty, refused — naming the
official, the case and the rule, changing nothing — where a policy editor set it."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.cases.lifecycle import complete_task, open_identification
from engine.core.db import db
from engine.core.errors import PermissionDenied
from engine.core.models import Case, HumanTask, User
from engine.demo import drive_case, sample_form_data
from engine.households.register import register_household
from engine.policy.editing import set_parameter
from tests.bdd.officials import household_data
from timers.calendar import to_local_date

COUNTY_OFFICER = "zhanggong_xian"  # 章贡区 county officer: opens the case and holds the approving role


def _at_county_approval(clock) -> tuple[Case, HumanTask]:
    household = register_household(household_data("沙河村", "分离户", 2), "shahe_cun", clock)
    case = open_identification(household.id, "cadre_screening", date(2026, 9, 19), COUNTY_OFFICER, clock)
    drive_case(case.id, clock, until="乡镇审核（入户抽查）")
    row = db.session.scalar(select(HumanTask).filter_by(case_id=case.id, state="READY"))
    assert row.form == "county_approval.json"
    return case, row


def _approve(row: HumanTask, clock) -> Case:
    return complete_task(row.id, sample_form_data(row.form, to_local_date(clock.now()), row.case), COUNTY_OFFICER, clock)


def test_by_default_the_opener_may_approve_at_county_level(app, clock):
    _, row = _at_county_approval(clock)
    _approve(row, clock)
    assert db.session.get(HumanTask, row.id).state == "COMPLETED"


def test_where_the_policy_forbids_it_the_opener_may_not_approve_and_nothing_changes(app, clock):
    case, row = _at_county_approval(clock)
    editor = db.session.scalar(select(User).filter_by(username="jiangxi_zhengce"))
    set_parameter(editor, "identification.opener_may_not_complete", ["county_approval.json"], "360702",
                  to_local_date(clock.now()), clock, source="章贡区：立案人不得审定")
    version = case.lock_version
    with pytest.raises(PermissionDenied, match="立案人.*职责分离.*县级审定"):
        _approve(row, clock)
    db.session.expire_all()
    assert db.session.get(HumanTask, row.id).state == "READY"
    assert db.session.get(Case, case.id).lock_version == version


def test_the_rule_takes_only_form_names(app, clock):
    editor = db.session.scalar(select(User).filter_by(username="jiangxi_zhengce"))
    with pytest.raises(Exception, match="“识别纳入 · 立案人不得办理的环节”的值应为列表"):
        set_parameter(editor, "identification.opener_may_not_complete", "county_approval", "36",
                      to_local_date(clock.now()), clock)
