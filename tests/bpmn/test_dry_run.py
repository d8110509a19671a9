"""部署前试算: before a diagram is deployed every condition, timer, due date and decision table is evaluated with
sample data; one that cannot work is refused naming the element (id and name) and the reason, and nothing is
stored (engine, upload page)."""
from __future__ import annotations

import io
import time
from datetime import date

import pytest
from sqlalchemy import func, select

from engine.bpmn.deployment import latest_version
from engine.bpmn.dry_run import timer_value_problem
from engine.bpmn.forms import load_form, sample_instance, validate_form
from engine.bpmn.source import DiagramSource, bundle_for, read_directory
from engine.bpmn.validation import lint_dmn
from engine.core.config import project_dir
from engine.core.db import db
from engine.core.errors import DiagramInvalid
from engine.core.models import DiagramFile, ProcessVersion
from engine.core.transaction import transaction
from engine.library.rules import deploy, dry_run, parse_bundle, policy_samples
from tests.webclient import csrf_token, login

pytestmark = pytest.mark.usefixtures("app")  # sample policy comes from the database

PUBLICITY_TIMER = 'days_from(max(publicity["posted_on"], today()), publicity["days"])'
GREEN_DUE = 'months_from(entered_on, policy["verification_months"]) if "verification_months" in policy else None'


def _library() -> list[DiagramSource]:
    return read_directory(project_dir("processes"))


def _changed(file_name: str, old: str, new: str, library: list[DiagramSource] | None = None) -> list[DiagramSource]:
    """The library with one text replaced in one file (as a policy editor would edit it in the modeler)."""
    out = []
    for source in library or _library():
        if source.file_name == file_name:
            text = source.content.decode()
            assert old in text, old
            source = DiagramSource(file_name, text.replace(old, new).encode())
        out.append(source)
    return out


def _with_condition(file_name: str, flow_id: str, condition: str) -> list[DiagramSource]:
    """The library with the condition of one sequence flow replaced."""
    text = (project_dir("processes") / file_name).read_text(encoding="utf-8")
    start = text.index(">", text.index("<bpmn:conditionExpression", text.index(f'id="{flow_id}"'))) + 1
    end = text.index("</bpmn:conditionExpression>", start)
    return _changed(file_name, text[start - 200:end], text[start - 200:start] + condition)


def _refusal(library: list[DiagramSource], process_id: str) -> DiagramInvalid:
    main = next(s for s in library if process_id in s.process_ids())
    with pytest.raises(DiagramInvalid) as refused:
        parse_bundle(bundle_for(main, library), process_id)
    return refused.value


# -- conditions -------------------------------------------------------------------------------------


def test_a_misspelled_variable_in_a_gateway_condition_is_refused_naming_the_flow():
    library = _with_condition("correction.bpmn", "Flow_k_city_ok_k_refused", 'decison == "reject"')
    refused = _refusal(library, "correction")
    assert refused.file_name == "correction.bpmn"
    assert refused.problems == [
        ("sequenceFlow 'Flow_k_city_ok_k_refused'（不通过）：条件 “decison == \"reject\"” 用示例数据求值失败："
         "名称“decison”未定义：流程数据中没有它，也不是可调用的函数（是否应为“decision”？）")
    ]


def test_a_function_given_the_wrong_kind_of_value_is_explained_in_chinese():
    library = _with_condition("correction.bpmn", "Flow_k_city_ok_k_refused", "days_from(today(), 'abc') == ''")
    (problem,) = _refusal(library, "correction").problems
    assert "类型不符：n 应为整数，而不是 'abc'" in problem and "TypeError" not in problem


def test_a_policy_parameter_missing_in_some_jurisdictions_is_refused_saying_where():
    library = _with_condition("elimination.bpmn", "Flow_needs_consent_consent", 'policy["household_consent"]')
    (problem,) = _refusal(library, "elimination").problems
    assert problem.startswith("sequenceFlow 'Flow_needs_consent_consent'（需要）：条件")
    assert "没有键 'household_consent'" in problem and "江西省（2023-05-01 起）" in problem
    assert "辽宁省" not in problem  # Liaoning configures elimination.household_consent


# -- timers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("expression", "shown"), [('"tomorrow"', "'tomorrow'"), ("5", "5"),
                                                     ('"P5D"', "'P5D'")])
def test_a_timer_that_does_not_give_a_date_is_refused_naming_the_timer_event(expression, shown):
    refused = _refusal(_changed("publicity.bpmn", PUBLICITY_TIMER, expression), "elimination")
    assert refused.problems == [
        (f"publicity.bpmn 中 intermediateCatchEvent 'publicity_ends'（公示期满）：定时器 timeDate “{expression}” "
         f"的结果 {shown} 不是 ISO 日期时间（如 “2026-10-01T00:00:00+08:00”）")
    ]


def test_a_timer_calling_an_unknown_function_is_refused():
    refused = _refusal(_changed("publicity.bpmn", PUBLICITY_TIMER, 'working_day_from(publicity["posted_on"], 5)'),
                       "elimination")
    (problem,) = refused.problems
    assert "intermediateCatchEvent 'publicity_ends'（公示期满）：定时器 timeDate" in problem
    assert "名称“working_day_from”未定义：流程数据中没有它，也不是可调用的函数（是否应为“working_days_from”？）" in problem


def test_a_timer_may_give_iso_text_of_a_date_or_a_datetime():
    for expression in ('"2026-10-01T00:00:00+08:00"', 'publicity["posted_on"]', PUBLICITY_TIMER):
        library = _changed("publicity.bpmn", PUBLICITY_TIMER, expression)
        main = next(s for s in library if s.file_name == "elimination.bpmn")
        assert dry_run(bundle_for(main, library), "elimination") == [], expression


@pytest.mark.parametrize(("kind", "value", "ok"), [
    ("timeDate", "2026-10-01T00:00:00+08:00", True),
    ("timeDate", date(2026, 10, 1), True),
    ("timeDate", "2026-W40-3", True),
    ("timeDate", "P5D", False),
    ("timeDate", None, False),
    ("timeDuration", "P5D", True),
    ("timeDuration", "PT36H", True),
    ("timeDuration", "5 days", False),
    ("timeDuration", "P", False),
    ("timeDuration", "2026-10-01", False),
    ("timeCycle", "R3/P1D", True),
    ("timeCycle", "R/2026-10-01T00:00:00+08:00/P1M", True),
    ("timeCycle", "P1D", False),
    ("timeCycle", "R3/soon", False),
    ("timeCycle", 3, False),
])
def test_timer_values_are_read_as_spiffworkflow_reads_them(kind, value, ok):
    assert (timer_value_problem(kind, value) is None) == ok


# -- due dates and scripts --------------------------------------------------------------------------


def test_a_due_date_that_fails_is_refused_naming_the_user_task():
    library = _changed("green_channel.bpmn", GREEN_DUE, GREEN_DUE.replace("(entered_on", "(entred_on"))
    (problem,) = _refusal(library, "green_channel").problems
    assert problem.startswith("userTask 'g_verify'（")
    assert "期限表达式（dueDate）" in problem and "名称“entred_on”未定义：流程数据中没有它，也不是可调用的函数（是否应为“entered_on”？）" in problem


def test_a_due_date_that_is_not_a_date_is_refused():
    library = _changed("green_channel.bpmn", GREEN_DUE, 'policy["verification_months"]')
    (problem,) = _refusal(library, "green_channel").problems
    assert problem.startswith("userTask 'g_verify'（") and "的结果 1 不是日期" in problem


def test_a_script_that_fails_with_sample_data_is_refused_naming_the_script_task():
    library = _changed("correction.bpmn", 'record_outcome("refused", reason)', 'record_outcome("refused", reasn)')
    (problem,) = _refusal(library, "correction").problems
    assert problem == ("scriptTask 'k_refused'（申请未获同意）：脚本用示例数据试运行失败："
                       "名称“reasn”未定义：流程数据中没有它，也不是可调用的函数（是否应为“reason”？）")


def test_a_script_reading_a_variable_set_by_a_later_script_is_tried_again():
    library = _changed("green_channel.bpmn", 'notify_household("绿色通道受理告知", "村委会已确认您户的突发困难情况，报乡镇确认。")',
                       'notify_household("绿色通道受理告知", "村委会已确认：" + later_note)')
    library = _changed("green_channel.bpmn", 'record_outcome("left_green_channel", reason)',
                       'later_note = "示例"\nrecord_outcome("left_green_channel", reason)', library)
    main = next(s for s in library if s.file_name == "green_channel.bpmn")
    assert dry_run(bundle_for(main, library), "green_channel") == []


# -- decision tables ----------------------------------------------------------------------------------


DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="Definitions_t" name="试算" namespace="http://t">
  <decision id="t_level" name="困难等级">
    <decisionTable id="t_level_table" hitPolicy="FIRST">
      <input id="t_in_size" label="家庭人口">
        <inputExpression id="t_in_size_e" typeRef="integer"><text>household["size"]</text></inputExpression>
      </input>
      <output id="t_out_level" label="等级" name="level" typeRef="string" />
      <rule id="t_rule_1">
        <inputEntry id="t_r1_size"><text>&gt;= 5</text></inputEntry>
        <outputEntry id="t_r1_level"><text>None</text></outputEntry>
      </rule>
      <rule id="t_rule_2">
        <inputEntry id="t_r2_size"><text>-</text></inputEntry>
        <outputEntry id="t_r2_level"><text>"一般"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="Definitions_t" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="t_procedure" name="试算流程" isExecutable="true">
    <bpmn:startEvent id="t_start"><bpmn:outgoing>t_f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:businessRuleTask id="t_decide" name="认定等级">
      <bpmn:extensionElements><spiffworkflow:calledDecisionId>t_level</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
      <bpmn:incoming>t_f1</bpmn:incoming><bpmn:outgoing>t_f2</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:scriptTask id="t_note" name="记录等级">
      <bpmn:incoming>t_f2</bpmn:incoming><bpmn:outgoing>t_f3</bpmn:outgoing>
      <bpmn:script>note = "等级：" + level</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="t_gw" name="一般？"><bpmn:incoming>t_f3</bpmn:incoming>
      <bpmn:outgoing>t_yes</bpmn:outgoing><bpmn:outgoing>t_no</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="t_f1" sourceRef="t_start" targetRef="t_decide" />
    <bpmn:sequenceFlow id="t_f2" sourceRef="t_decide" targetRef="t_note" />
    <bpmn:sequenceFlow id="t_f3" sourceRef="t_note" targetRef="t_gw" />
    <bpmn:sequenceFlow id="t_yes" name="是" sourceRef="t_gw" targetRef="t_end">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">level == "一般"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="t_no" name="否" sourceRef="t_gw" targetRef="t_end">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">level != "一般"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:endEvent id="t_end"><bpmn:incoming>t_yes</bpmn:incoming><bpmn:incoming>t_no</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def _decision_bundle(dmn: str = DMN, bpmn: str = BPMN) -> list[DiagramSource]:
    return [DiagramSource("t_procedure.bpmn", bpmn.encode()), DiagramSource("t_level.dmn", dmn.encode())]


def test_a_correct_decision_table_and_its_outputs_pass():
    spec, _ = parse_bundle(_decision_bundle(), "t_procedure")  # the first non-empty output is the sample: "一般"
    assert spec.name == "t_procedure"


def test_a_forbidden_construct_in_a_decision_table_cell_is_refused_naming_the_decision_and_rule():
    dmn = DMN.replace('<text>"一般"</text>', "<text>__import__('os').system('id')</text>")
    with pytest.raises(DiagramInvalid) as refused:
        parse_bundle(_decision_bundle(dmn), "t_procedure")
    assert refused.value.file_name == "t_level.dmn"
    problem, knock_on = refused.value.problems  # the script reading the table's output fails too: folded under it
    assert problem.startswith("决策表 't_level'（困难等级） 规则 't_rule_2' 输出列 “level” 的取值")
    assert "__import__" in problem and "不允许或有语法错误" in problem
    assert knock_on.startswith("另有 1 处试运行问题，可能由上述问题引起") and "scriptTask 't_note'（记录等级）" in knock_on


def test_input_entries_and_expressions_of_a_decision_table_are_checked():
    dmn = DMN.replace("<text>&gt;= 5</text>", "<text>? &gt; _secret</text>").replace(
        '<text>household["size"]</text>', "<text></text>")
    problems = lint_dmn(DiagramSource("t.dmn", dmn.encode()).parse_xml())
    assert problems[0] == "决策表 't_level'（困难等级） 输入列 “家庭人口”：没有输入表达式"
    dmn = DMN.replace("<text>&gt;= 5</text>", "<text>? &gt; _secret</text>")
    (problem,) = lint_dmn(DiagramSource("t.dmn", dmn.encode()).parse_xml())
    assert problem.startswith("决策表 't_level'（困难等级） 规则 't_rule_1' 输入列 “家庭人口” 的条件 “? > _secret”")


def test_a_decision_table_input_that_fails_with_sample_data_is_refused_naming_the_task_and_column():
    dmn = DMN.replace('<text>household["size"]</text>', '<text>household["members"]</text>')
    with pytest.raises(DiagramInvalid) as refused:
        parse_bundle(_decision_bundle(dmn), "t_procedure")
    assert refused.value.problems == [
        ("businessRuleTask 't_decide'（认定等级）：决策表 't_level'（困难等级） 输入列 “家庭人口” 的表达式 "
         "“household[\"members\"]” 用示例数据求值失败：没有键 'members'")
    ]


def test_conditions_after_a_business_rule_task_see_its_outputs():
    bpmn = BPMN.replace('level == "一般"', 'levl == "一般"')
    with pytest.raises(DiagramInvalid) as refused:
        parse_bundle(_decision_bundle(bpmn=bpmn), "t_procedure")
    assert refused.value.problems == [("sequenceFlow 't_yes'（是）：条件 “levl == \"一般\"” 用示例数据求值失败："
                                       "名称“levl”未定义：流程数据中没有它，也不是可调用的函数（是否应为“level”？）")]


# -- sample data ------------------------------------------------------------------------------------


def test_sample_form_data_has_every_field_and_mostly_validates():
    for path in sorted(project_dir("forms").glob("*.json")):
        schema = load_form(path.name)
        sample = sample_instance(schema, date(2026, 9, 25))
        assert set(sample) == set(schema.get("properties", {})), path.name
    validate_form("household_verification.json", sample_instance(load_form("household_verification.json"),
                                                                 date(2026, 9, 25)))


def test_sample_policy_is_the_bound_jurisdictions_own():
    (zhanggong,) = policy_samples("identification_zhanggong_2021")
    assert zhanggong.values["township_publicity_days"] == 7 and "章贡区" in zhanggong.label
    assert all("township_publicity_days" not in s.values for s in policy_samples("identification"))
    (new,) = policy_samples("identification_ganzhou_2027")  # bound nowhere yet: every identification value
    assert {"township_publicity_days", "verification_working_days", "limit_days"} <= set(new.values)


# -- deployment -------------------------------------------------------------------------------------


def test_every_shipped_diagram_passes_and_the_check_is_cheap():
    from engine.bpmn.parser import procedures_in

    library = _library()
    started = time.perf_counter()
    for main, process_id in procedures_in(library):
        assert dry_run(bundle_for(main, library), process_id) == [], process_id
    assert time.perf_counter() - started < 5  # measured ≈ 0.05 s for the 10 procedures


def test_a_correct_diagram_deploys_and_a_refused_one_stores_nothing(app, clock):
    before = latest_version("correction")
    versions, files = (db.session.scalar(select(func.count()).select_from(m)) for m in (ProcessVersion, DiagramFile))
    broken = _changed("correction.bpmn", 'record_outcome("refused", reason)', 'record_outcome("refused", reasn)')
    with pytest.raises(DiagramInvalid, match="scriptTask 'k_refused'"), transaction():
        deploy(broken, "editor", clock.now())
    assert latest_version("correction").id == before.id
    assert db.session.scalar(select(func.count()).select_from(ProcessVersion)) == versions
    assert db.session.scalar(select(func.count()).select_from(DiagramFile)) == files
    with transaction():
        deployed = deploy(_decision_bundle(), "editor", clock.now())
    assert [(v.process_key, v.version) for v in deployed] == [("t_procedure", 1)]


def test_a_refused_upload_in_the_browser_names_the_flow_and_keeps_the_running_version(web_app):
    client = login(web_app.test_client(), "jiangxi_zhengce")
    with web_app.app_context():
        before = latest_version("correction").id
        versions = db.session.scalar(select(func.count()).select_from(ProcessVersion))
    content = (project_dir("processes") / "correction.bpmn").read_text(encoding="utf-8").replace(
        'decision == "approve"', 'decison == "approve"').encode()
    token = csrf_token(client.get("/diagrams").get_data(as_text=True))
    response = client.post("/diagrams/upload", content_type="multipart/form-data",
                           data={"diagram": (io.BytesIO(content), "correction.bpmn"), "action": "deploy",
                                 "note": "", "csrf_token": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "没有部署任何内容" in html
    assert "sequenceFlow &#39;Flow_k_city_ok_k_province&#39;（通过）：条件" in html
    assert "名称“decison”未定义" in html
    with web_app.app_context():
        assert latest_version("correction").id == before
        assert db.session.scalar(select(func.count()).select_from(ProcessVersion)) == versions


def test_sample_policy_follows_the_bindings_policy_editors_make(clock):
    from datetime import date as day

    from engine.core.models import User
    from engine.policy.editing import bind_process

    editor = db.session.scalar(select(User).filter_by(username="jiangxi_zhengce"))
    assert not any("章贡区" in s.label for s in policy_samples("identification_longkou"))
    bind_process(editor, "identification", "identification_longkou", "360702", day(2026, 10, 1), clock)
    assert any("章贡区（2026-10-01 起）" in s.label for s in policy_samples("identification_longkou"))
