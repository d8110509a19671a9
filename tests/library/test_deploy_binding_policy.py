"""A deploy that binds a jurisdiction checks that jurisdiction's policy first (as ``fangpin policy check`` and opening
a case do): a binding on which no case could start is refused naming what is missing, the place and the date, and
nothing is deployed or bound."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from engine.bpmn.deployment import latest_version
from engine.bpmn.source import DiagramSource
from engine.core.db import db
from engine.core.errors import PolicyMissing
from engine.core.models import AuditEvent, PolicyParameter, ProcessVersion, User
from engine.library.deploying import BindingRequest, deploy_diagram
from engine.policy.check import start_policy
from engine.policy.editing import set_parameter
from engine.policy.permissions import jurisdiction_by_code
from tests.diagram_variants import ZHANGGONG_2021, renamed_step, zhanggong_2021

TODAY = date(2026, 9, 20)  # the clock fixture's day in Beijing


def _editor() -> User:
    return db.session.scalar(select(User).filter_by(username="jiangxi_zhengce"))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _changed() -> DiagramSource:
    return DiagramSource(ZHANGGONG_2021, renamed_step(zhanggong_2021(), "verify", "入户核实（改）"))


def _bind(on: date = TODAY) -> BindingRequest:
    return BindingRequest(procedure="identification", jurisdiction_code="360702", effective_from=on)


def test_a_binding_whose_parameters_ended_is_refused_and_nothing_is_deployed(app, clock):
    versions, parameters, audits = _count(ProcessVersion), _count(PolicyParameter), _count(AuditEvent)
    newest = latest_version("identification_zhanggong_2021").version
    with pytest.raises(PolicyMissing) as refused:
        deploy_diagram(_editor(), _changed(), clock, _bind())
    message = str(refused.value)
    assert message.startswith("未部署、未绑定：江西省赣州市章贡区 在 2026-09-20 不能开始识别纳入：")
    for name in ("township_publicity_days", "announcement_days", "measures_publicity_days"):
        assert f"没有配置政策参数 identification.{name}（流程 identification_zhanggong_2021 第 {newest + 1} 版使用）" \
            in message
    assert "政策参数" in message
    # one transaction: no version, no binding, no audit entry; cases of the county still start as before
    assert _count(ProcessVersion) == versions and _count(PolicyParameter) == parameters
    assert _count(AuditEvent) == audits
    assert latest_version("identification_zhanggong_2021").version == newest
    assert start_policy("identification", jurisdiction_by_code("360702"), TODAY).version.process_key == "identification"


def test_the_binding_goes_through_once_the_parameters_are_configured(app, clock):
    editor = _editor()
    for name in ("verification_days", "township_publicity_days", "announcement_days", "measures_publicity_days"):
        set_parameter(editor, f"identification.{name}", 5, "360702", TODAY, clock, None, "章贡区确认")
    deployed = deploy_diagram(editor, _changed(), clock, _bind())
    started = start_policy("identification", jurisdiction_by_code("360702"), TODAY)
    assert started.version.id == deployed[0].id  # a case opened today starts on the version just bound


def test_a_binding_from_a_later_date_is_checked_on_that_date(app, clock):
    with pytest.raises(PolicyMissing, match="江西省赣州市章贡区 在 2026-11-01 不能开始识别纳入"):
        deploy_diagram(_editor(), _changed(), clock, _bind(date(2026, 11, 1)))


def test_rolling_a_place_back_to_a_version_it_cannot_start_on_is_refused_and_nothing_changes(app, clock):
    from engine.policy.editing import roll_back

    version = latest_version("identification_zhanggong_2021")
    parameters, audits = _count(PolicyParameter), _count(AuditEvent)
    with pytest.raises(PolicyMissing) as refused:
        roll_back(_editor(), version.id, "identification", "360702", TODAY, clock)
    assert str(refused.value).startswith("未回退：江西省赣州市章贡区 在 2026-09-20 不能开始识别纳入：")
    assert _count(PolicyParameter) == parameters and _count(AuditEvent) == audits
    assert start_policy("identification", jurisdiction_by_code("360702"), TODAY).version.process_key == "identification"
