"""Starting a procedure for a household (发起): who may start what comes from policy/roles.json (``opens``), the
hint an official reads carries the parameters in force in their jurisdiction, and a bad start names each field and
changes nothing."""
from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from sqlalchemy import func, select

from engine.cases.starting import NOT_CONFIGURED, start_for_household, start_hint, startable
from engine.core.db import db
from engine.core.errors import FormInvalid, NotFound, PermissionDenied
from engine.core.models import Case, Jurisdiction, User
from engine.demo import drive_case
from engine.households.register import register_household
from engine.policy import permissions, roles
from tests.bdd.officials import household_data
from tests.factories import open_case
from timers.calendar import to_local_date


def _user(username: str) -> User:
    return db.session.scalar(select(User).filter_by(username=username))


def _place(code: str) -> Jurisdiction:
    return db.session.scalar(select(Jurisdiction).filter_by(code=code))


def _cases() -> int:
    return db.session.scalar(select(func.count()).select_from(Case))


def test_who_may_start_what_is_the_roles_data(app, monkeypatch):
    assert set(startable(_user("shahe_cun"))) == {"green_channel", "member_change", "poverty_policy"}
    assert set(startable(_user("shahe_zhen"))) == {"green_channel", "member_change", "elimination"}
    assert set(startable(_user("zhanggong_xian"))) == {"green_channel", "member_change", "correction"}
    assert startable(_user("zhanggong_dudao")) == {} and not permissions.may_register(_user("zhanggong_dudao"))
    assert not permissions.may_open(_user("ganzhou_shi"), "identification")  # a city officer opens no case
    village = roles.all_roles()["village_cadre"]
    changed = {**roles.all_roles(), "village_cadre": dataclasses.replace(village, opens=(*village.opens, "elimination"))}
    monkeypatch.setattr(permissions, "all_roles", lambda: changed)
    assert "elimination" in startable(_user("shahe_cun"))


def test_the_hint_says_the_limits_in_force_where_the_official_works(app, clock):
    today = to_local_date(clock.now())
    assert "1个月内核实" in start_hint("green_channel", _place("360702"), today)
    assert "3个月内" in start_hint("member_change", _place("370681"), today)
    assert "收入持续稳定6个月以上" in start_hint("elimination", _place("360702"), today)
    policy = start_hint("poverty_policy", _place("360702"), today)
    assert "村级公示（5天）" in policy and "12月8日前" in policy
    assert NOT_CONFIGURED in start_hint("green_channel", _place("36"), date(2020, 1, 1))  # before Jiangxi's values


def test_a_role_that_may_not_start_it_is_refused_and_nothing_is_opened(app, clock):
    case = open_case(clock)
    drive_case(case.id, clock)  # identified: monitored
    household = db.session.get(Case, case.id).household
    before = _cases()
    with pytest.raises(PermissionDenied) as refused:
        start_for_household(_user("shahe_cun"), "elimination", {"household": household.number, "mode": "assisted"},
                            clock)
    assert "不能发起风险消除" in str(refused.value) and "乡镇工作人员" in str(refused.value)
    other = register_household(household_data("诸由观村", "外地户", 2), "zhuyouguan_cun", clock)
    with pytest.raises(PermissionDenied) as outside:
        start_for_household(_user("shahe_cun"), "green_channel", {"household": other.number}, clock)
    assert "不在" in str(outside.value) and "辖区内" in str(outside.value)
    assert _cases() == before


def test_bad_fields_are_named_and_nothing_is_opened(app, clock):
    before = _cases()
    with pytest.raises(FormInvalid) as bad:
        start_for_household(_user("shahe_zhen"), "elimination", {"household": "", "mode": "quickly"}, clock)
    assert dict(bad.value.errors) == {"household": "请填写户编号", "mode": "请选择消除方式"}
    with pytest.raises(FormInvalid) as unknown:
        start_for_household(_user("shahe_cun"), "member_change", {"household": "NO-SUCH", "changed_on": "昨天"},
                            clock)
    assert dict(unknown.value.errors) == {"household": "户编号 NO-SUCH 不存在",
                                          "changed_on": "请填写变更发生日期（年-月-日）"}
    with pytest.raises(NotFound):
        start_for_household(_user("shahe_cun"), "followup", {"household": "x"}, clock)
    assert _cases() == before


def test_a_start_opens_the_procedure(app, clock):
    household = register_household(household_data("沙河村", "急难户", 3), "shahe_cun", clock)
    case = start_for_household(_user("shahe_cun"), "green_channel", {"household": household.number,
                                                                      "hardship": "房屋遭洪水冲毁"}, clock)
    assert case.procedure == "green_channel" and case.household_id == household.id
