"""A binding (<procedure>.process) names a diagram that carries out that procedure: binding a place's identification
to the elimination diagram — by binding, pinning a version, rolling back, deploying bound or typing the value on
the parameters page — is refused naming the process (id and name), the procedure it declares and the one asked
for, and what to change; nothing changes. A diagram that declares none and whose id names none is refused until
it declares one; a binding written around the check (a policy file) is listed by the policy check and no case
starts on it."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from engine.bpmn.deployment import latest_version
from engine.bpmn.source import DiagramSource
from engine.core.config import project_dir
from engine.core.db import db
from engine.core.errors import PolicyMissing, RuleViolation
from engine.core.models import AuditEvent, PolicyParameter, ProcessVersion, User
from engine.core.transaction import transaction
from engine.library.deploying import BindingRequest, deploy_diagram
from engine.policy.check import check, gaps, start_policy
from engine.policy.editing import bind_process, roll_back, set_parameter
from engine.policy.permissions import jurisdiction_by_code
from tests.diagram_variants import ZHANGGONG_2021, renamed_step, undeclared, with_property, zhanggong_2021

TODAY = date(2026, 9, 20)  # the clock fixture's day in Beijing
ZHANGGONG = "360702"
ELIMINATION = "流程 elimination（风险消除（鞍山市方案、江西省2023年指南））第 1 版办理“风险消除”（elimination，流程图中声明）"
AS_IDENTIFICATION = "不能作为“识别纳入”（identification）的流程"


def _editor() -> User:
    return db.session.scalar(select(User).filter_by(username="jiangxi_zhengce"))


def _state() -> tuple[int, int, int, str]:
    """What a refusal must leave as it was: versions, parameter rows, audit entries, and what 章贡区 starts on."""
    count = [db.session.scalar(select(func.count()).select_from(m)) for m in (ProcessVersion, PolicyParameter,
                                                                                AuditEvent)]
    started = start_policy("identification", jurisdiction_by_code(ZHANGGONG), TODAY).version
    return (*count, f"{started.process_key}@{started.version}")


@pytest.mark.parametrize("value", ["elimination", "elimination@1"])
def test_binding_the_elimination_diagram_as_identification_is_refused_and_nothing_changes(app, clock, value):
    before = _state()
    with pytest.raises(RuleViolation) as refused:
        bind_process(_editor(), "identification", value, ZHANGGONG, TODAY, clock)
    message = str(refused.value)
    assert message.startswith(f"不能绑定：{ELIMINATION}，{AS_IDENTIFICATION}：新立案的识别纳入案件会按风险消除的步骤办理")
    assert "请改选办理识别纳入的流程" in message and "在属性面板“办理程序”中选择“识别纳入”" in message
    assert _state() == before


def test_rolling_back_to_a_version_of_another_procedure_is_refused(app, clock):
    before = _state()
    with pytest.raises(RuleViolation, match=f"{ELIMINATION}，{AS_IDENTIFICATION}"):
        roll_back(_editor(), latest_version("elimination").id, "identification", ZHANGGONG, TODAY, clock)
    assert _state() == before


def test_the_parameters_page_cannot_bind_around_it(app, clock):
    before = _state()
    with pytest.raises(RuleViolation, match=f"{ELIMINATION}，{AS_IDENTIFICATION}"):
        set_parameter(_editor(), "identification.process", "elimination", ZHANGGONG, TODAY, clock)
    assert _state() == before


def test_deploying_a_diagram_bound_as_another_procedure_deploys_nothing(app, clock):
    before = _state()
    changed = DiagramSource(ZHANGGONG_2021, renamed_step(zhanggong_2021(), "verify", "入户核实（改）"))
    request = BindingRequest(procedure="elimination", jurisdiction_code=ZHANGGONG, effective_from=TODAY)
    with pytest.raises(RuleViolation) as refused:
        deploy_diagram(_editor(), changed, clock, request)
    newest = latest_version("identification_zhanggong_2021").version
    assert (f"流程 identification_zhanggong_2021（识别纳入（章贡区2021年七步工作法））第 {newest + 1} 版办理“识别纳入”"
            "（identification，流程图中声明），不能作为“风险消除”（elimination）的流程") in str(refused.value)
    assert _state() == before and latest_version("identification_zhanggong_2021").version == newest


def test_each_procedure_binds_the_shipped_diagram_declaring_it(app, clock):
    """The other way round, for two procedures whose process ids differ from their codes or names another code."""
    bind_process(_editor(), "followup", "monthly_followup", ZHANGGONG, TODAY, clock)
    bind_process(_editor(), "identification", "identification_longkou", ZHANGGONG, TODAY, clock)
    assert start_policy("identification", jurisdiction_by_code(ZHANGGONG), TODAY).version.process_key == \
        "identification_longkou"
    with pytest.raises(RuleViolation, match="流程 warning_batch_longkou.*办理“预警分解推送和比对交办”"):
        bind_process(_editor(), "warning_verification", "warning_batch_longkou", ZHANGGONG, TODAY, clock)


def test_a_diagram_that_declares_no_procedure_binds_once_it_declares_one(app, clock):
    shipped = (project_dir("processes") / "identification.bpmn").read_bytes()
    drawn = undeclared(shipped, "Process_0x1d2c3", "识别纳入（章贡区试点）")
    editor = _editor()
    deploy_diagram(editor, DiagramSource("pilot.bpmn", drawn), clock)
    before = _state()
    with pytest.raises(RuleViolation) as refused:
        bind_process(editor, "identification", "Process_0x1d2c3", ZHANGGONG, TODAY, clock)
    assert str(refused.value).startswith(
        "不能绑定：流程 Process_0x1d2c3（识别纳入（章贡区试点））第 1 版未声明，流程标识也不以办理程序代码开头，不能确定它办理"
        "哪一项程序，不能作为“识别纳入”（identification）的流程；如该流程图确实办理识别纳入，请在建模器中选中流程（泳池），"
        "在属性面板“办理程序”中选择“识别纳入”")
    assert _state() == before
    declared = with_property(drawn, "Process_0x1d2c3", "procedure", "identification")
    deploy_diagram(editor, DiagramSource("pilot.bpmn", declared), clock)
    bind_process(editor, "identification", "Process_0x1d2c3", ZHANGGONG, TODAY, clock)
    assert start_policy("identification", jurisdiction_by_code(ZHANGGONG), TODAY).version.process_key == \
        "Process_0x1d2c3"


def test_a_binding_written_around_the_check_is_listed_and_starts_no_case(app, clock):
    with transaction():
        db.session.add(PolicyParameter(jurisdiction=jurisdiction_by_code(ZHANGGONG), key="identification.process",
                                       value="elimination", effective_from=TODAY, source="测试：绕过校验写入"))
    missing = {r.place.code: r.missing for r in gaps(check(TODAY)) if r.procedure == "identification"}
    assert missing[ZHANGGONG][0] == f"流程绑定 identification.process = elimination：{ELIMINATION}，{AS_IDENTIFICATION}" \
        "：新立案的识别纳入案件会按风险消除的步骤办理。请改选办理识别纳入的流程；如该流程图确实办理识别纳入，请在建模器中选中" \
        "流程（泳池），在属性面板“办理程序”中选择“识别纳入”，另存为新的流程标识部署后再绑定"
    with pytest.raises(PolicyMissing, match="不能开始识别纳入：流程绑定 identification.process = elimination"):
        start_policy("identification", jurisdiction_by_code(ZHANGGONG), TODAY)
