"""Every file handled (issue #17): a diagram or decision table SpiffWorkflow cannot take is refused naming the
element (id and name) and the reason in Chinese with what to change — in the engine, on the upload page and in
``fangpin process deploy`` alike; never a 500 or a traceback. DMN 1.2 and prefixed DMN files are accepted and
kept byte for byte."""
from __future__ import annotations

import io
import re

import pytest

from engine.bpmn.source import DiagramSource
from engine.core.errors import DiagramInvalid
from engine.library.deploying import MAX_DIAGRAM_BYTES, check_diagram
from engine.library.rules import parse_bundle
from tests.test_cli import fangpin  # noqa: F401 - the CLI fixture
from tests.webclient import csrf_token

DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"
DMN12 = "http://www.omg.org/spec/DMN/20180521/MODEL/"


def table(namespace: str = DMN13, cell: str = "&gt;= 60", decision_id: str = "refusal_grade", extra: str = "") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="{namespace}" xmlns:dmndi="{namespace.replace('MODEL', 'DMNDI')}"
    xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/" id="defs" name="评级" namespace="http://t">
  <decision id="{decision_id}" name="测试评级">
    <decisionTable id="grade_table" hitPolicy="FIRST">
      <input id="in_score" label="分数"><inputExpression id="in_score_e" typeRef="number"><text>score</text>
      </inputExpression></input>
      <output id="out_grade" label="等级" name="grade" typeRef="string" />
      <rule id="rule_pass"><inputEntry id="e1"><text>{cell}</text></inputEntry>
        <outputEntry id="o1"><text>"合格"</text></outputEntry></rule>
    </decisionTable>
  </decision>{extra}
</definitions>
""".encode()


DMNDI12 = """
  <dmndi:DMNDI><dmndi:DMNDiagram id="dia"><dmndi:DMNShape id="shape" dmnElementRef="refusal_grade">
    <dc:Bounds height="80" width="180" x="160" y="100" /></dmndi:DMNShape></dmndi:DMNDiagram></dmndi:DMNDI>"""

LITERAL = f"""<definitions xmlns="{DMN13}" id="defs" name="n" namespace="http://t">
  <decision id="refusal_literal" name="字面决策"><variable id="v" name="x" typeRef="number" />
    <literalExpression id="le"><text>1 + 1</text></literalExpression></decision>
</definitions>""".encode()

SERVICE = f"""<definitions xmlns="{DMN13}" id="defs" name="n" namespace="http://t">
  <decisionService id="refusal_service" name="评级服务"><outputDecision href="#elsewhere" /></decisionService>
</definitions>""".encode()

PREFIXED = f"""<semantic:definitions xmlns:semantic="{DMN13}" id="defs" name="n" namespace="http://t">
  <semantic:decision id="refusal_prefixed" name="前缀决策"><semantic:decisionTable id="pt" hitPolicy="FIRST">
    <semantic:input id="pi"><semantic:inputExpression id="pie" typeRef="number"><semantic:text>score</semantic:text>
    </semantic:inputExpression></semantic:input><semantic:output id="po" name="grade" typeRef="string" />
    <semantic:rule id="pr"><semantic:inputEntry id="pe"><semantic:text>&gt;= 60</semantic:text></semantic:inputEntry>
      <semantic:outputEntry id="peo"><semantic:text>"合格"</semantic:text></semantic:outputEntry></semantic:rule>
  </semantic:decisionTable></semantic:decision>
</semantic:definitions>""".encode()

NO_TABLE_ID = table().replace(b'<decisionTable id="grade_table"', b"<decisionTable")

IO = "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>"


def process(middle: str, defs: str = "", lanes: str = "", pid: str = "refusal_test") -> bytes:
    """start → ``middle`` (an element with id ``x`` and ``{io}`` for its flows) → end."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" targetNamespace="http://t">
  {defs}
  <bpmn:process id="{pid}" name="拒绝测试" isExecutable="true">{lanes}
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    {middle.replace("{io}", IO)}
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="x" />
    <bpmn:sequenceFlow id="f2" sourceRef="x" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
""".encode()


def chain(steps: int) -> bytes:
    nodes = ['<bpmn:startEvent id="start"><bpmn:outgoing>c0</bpmn:outgoing></bpmn:startEvent>']
    for i in range(steps):
        nodes.append(f'<bpmn:scriptTask id="s{i}" name="步骤{i}"><bpmn:incoming>c{i}</bpmn:incoming>'
                     f'<bpmn:outgoing>c{i + 1}</bpmn:outgoing><bpmn:script>x = {i}</bpmn:script></bpmn:scriptTask>')
        nodes.append(f'<bpmn:sequenceFlow id="c{i}" sourceRef="{"start" if i == 0 else f"s{i - 1}"}" targetRef="s{i}" />')
    nodes.append(f'<bpmn:endEvent id="end"><bpmn:incoming>c{steps}</bpmn:incoming></bpmn:endEvent>'
                 f'<bpmn:sequenceFlow id="c{steps}" sourceRef="s{steps - 1}" targetRef="end" />')
    return ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="http://t">'
            f'<bpmn:process id="refusal_chain" name="长链" isExecutable="true">{"".join(nodes)}</bpmn:process>'
            "</bpmn:definitions>").encode()


GATEWAY = """<bpmn:exclusiveGateway id="x" name="是否同意" default="f2">{io}<bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="end2"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f3" name="同意" sourceRef="x" targetRef="end2">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${approved}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>"""


def _refused(*sources: DiagramSource) -> str:
    with pytest.raises(DiagramInvalid) as refused:
        for source in sources:
            if source.is_dmn:
                check_diagram(source)
        bpmn = [s for s in sources if not s.is_dmn]
        if bpmn:
            parse_bundle(list(sources), bpmn[0].process_ids()[0])
    return "；".join(refused.value.problems)


# -- decision tables: the crash classes -------------------------------------------------------------


@pytest.mark.usefixtures("app")
@pytest.mark.parametrize("content", [table(DMN12), table(DMN12, extra=DMNDI12), PREFIXED, table()])
def test_dmn_1_2_and_prefixed_files_are_accepted(content):
    assert check_diagram(DiagramSource("grade.dmn", content)) == []


@pytest.mark.usefixtures("app")
def test_a_dmn_1_2_schema_violation_is_a_refusal_naming_the_version():
    problem = _refused(DiagramSource("grade.dmn", table(DMN12).replace(b"<input ", b"<bogus /><input ")))
    assert "不符合 DMN 1.2 规范" in problem and "bogus" in problem


@pytest.mark.usefixtures("app")
@pytest.mark.parametrize(("content", "expected"), [
    (LITERAL, "决策 'refusal_literal'（字面决策） 不是决策表（是文字表达式（literal expression））"),
    (SERVICE, "决策服务 'refusal_service'（评级服务） 不是决策表"),
    (NO_TABLE_ID, "决策表无法解析（KeyError"),
    (table("https://www.omg.org/spec/DMN/20211108/MODEL/"), "只接受 DMN 1.1、DMN 1.2、DMN 1.3"),
    (table(extra='<decision id="second" name="第二"><decisionTable id="t2" /></decision>'), "每个 DMN 文件只能有一个决策表"),
])
def test_a_decision_the_engine_cannot_run_is_refused_naming_it(content, expected):
    problem = _refused(DiagramSource("grade.dmn", content))
    assert expected in problem
    assert "改为决策表" in problem or "重新导出" in problem or "分成多个文件" in problem or "DMN 1.3" in problem


@pytest.mark.usefixtures("app")
def test_a_process_calling_a_literal_decision_is_refused_not_crashed():
    caller = process('<bpmn:businessRuleTask id="x" name="评级"><bpmn:extensionElements><spiffworkflow:calledDecisionId>'
                     "refusal_literal</spiffworkflow:calledDecisionId></bpmn:extensionElements>{io}"
                     "</bpmn:businessRuleTask>")
    problem = _refused(DiagramSource("caller.bpmn", caller), DiagramSource("literal.dmn", LITERAL))
    assert "决策 'refusal_literal'（字面决策） 不是决策表" in problem


@pytest.mark.usefixtures("app")
def test_a_feel_range_in_a_cell_gets_a_python_hint():
    problem = _refused(DiagramSource("grade.dmn", table(cell="[5..8]")))
    assert "决策表 'refusal_grade'（测试评级）" in problem and "“[5..8]”" in problem
    assert "FEEL 的区间写法" in problem and "5 <= ? <= 8" in problem


# -- diagrams: SpiffWorkflow's English or element-less refusals -------------------------------------


@pytest.mark.usefixtures("app")
@pytest.mark.parametrize(("content", "expected"), [
    (process('<bpmn:callActivity id="x" name="调用公示" calledElement="no_such_process">{io}</bpmn:callActivity>'),
     ["callActivity 'x'（调用公示）：调用的流程 'no_such_process' 不存在", "refusal_test", "请把 calledElement 改为"]),
    (process('<bpmn:scriptTask id="x" name="记录">{io}<bpmn:script>a = 1</bpmn:script></bpmn:scriptTask>',
             defs='<bpmn:dataStore id="ds_archive" name="档案库" />'),
     ["dataStore 'ds_archive'（档案库）：数据存储", "没有实现"]),
    (process('<bpmn:serviceTask id="x" name="调接口">{io}</bpmn:serviceTask>'),
     ["serviceTask 'x'（调接口）：服务任务（service task）没有指定操作"]),
    (process(GATEWAY),
     ["sequenceFlow 'f3'（同意）", "${approved}", "表达式是 Python", "approved == True"]),
    (process('<bpmn:intermediateCatchEvent id="x" name="等一秒">{io}<bpmn:timerEventDefinition id="td">'
             '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT1S</bpmn:timeDuration>'
             "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"),
     ["intermediateCatchEvent 'x'（等一秒）", "“PT1S” 是没有加引号的 ISO 时间", '"PT1S"', "working_days_from"]),
    (process('<bpmn:intermediateCatchEvent id="x" name="月末">{io}<bpmn:timerEventDefinition id="td">'
             '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression"></bpmn:timeDuration>'
             "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"),
     ["intermediateCatchEvent 'x'（月末）：定时器timeDuration 是空的", "days_from"]),  # (deployed; every case failed)
    (process('<bpmn:intermediateCatchEvent id="x" name="月末">{io}<bpmn:timerEventDefinition id="td" />'
             "</bpmn:intermediateCatchEvent>"),
     ["intermediateCatchEvent 'x'（月末）：定时器没有设置到期时间"]),  # (was SpiffWorkflow's English)
    (process('<bpmn:intermediateCatchEvent id="x" name="每周提醒">{io}<bpmn:timerEventDefinition id="td">'
             '<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">"R3/P7D"</bpmn:timeCycle>'
             "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"),
     ["intermediateCatchEvent 'x'（每周提醒）：中间定时事件不能用循环定时器（timeCycle “\"R3/P7D\"”）",
      "后面的步骤会重复出现", "timeDuration", "非中断边界事件"]),  # (deployed; one task became three)
    (process('<bpmn:userTask id="x" name="填表">{io}</bpmn:userTask>'.replace(
        "{io}", '<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property '
                'name="formJsonSchemaFilename" value="no_such_form.json" /></spiffworkflow:properties>'
                "</bpmn:extensionElements>{io}"), lanes=""),
     ["userTask 'x'（填表）：表单 no_such_form.json", "已有的表单：", "announcement.json"]),
    (process('<bpmn:scriptTask id="x" name="记录">{io}<bpmn:script>a = 1</bpmn:script></bpmn:scriptTask>',
             lanes='<bpmn:laneSet id="ls"><bpmn:lane id="lane_boss" name="主任"><bpmn:flowNodeRef>x</bpmn:flowNodeRef>'
                   "</bpmn:lane></bpmn:laneSet>"),
     ["lane 'lane_boss'（主任）：泳道名称“主任”不是已知角色", "可用的泳道名称：", "村级", "乡镇"]),
    (process('<bpmn:scriptTask id="x" name="记录">{io}<bpmn:outgoing>f3</bpmn:outgoing><bpmn:script>a = 1'
             '</bpmn:script></bpmn:scriptTask><bpmn:endEvent id="end2"><bpmn:incoming>f3</bpmn:incoming>'
             '</bpmn:endEvent><bpmn:sequenceFlow id="f3" sourceRef="x" targetRef="end2" />'),
     ["scriptTask 'x'（记录）：任务只能有一条流出的顺序流", "排他网关"]),
    (process('<bpmn:subProcess id="x" name="入户核实">{io}<bpmn:task id="inner" name="核实" /></bpmn:subProcess>'),
     ["subProcess 'x'（入户核实）：子流程必须恰好有一个开始事件，现在有 0 个", "请在子流程内加一个开始事件"]),
    (process('<bpmn:subProcess id="x" name="入户核实">{io}<bpmn:startEvent id="s1" /><bpmn:startEvent id="s2" />'
             '<bpmn:endEvent id="e1" /></bpmn:subProcess>'),
     ["subProcess 'x'（入户核实）：子流程必须恰好有一个开始事件，现在有 2 个", "请只保留一个开始事件"]),
    (process('<bpmn:exclusiveGateway id="x" name="是否同意">{io}<bpmn:outgoing>f3</bpmn:outgoing></bpmn:exclusiveGateway>'
             '<bpmn:endEvent id="end2"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>'
             '<bpmn:sequenceFlow id="f3" name="不同意" sourceRef="x" targetRef="end2" />'),
     ["：从排他网关 'x'（是否同意） 流出，既没有条件，也不是网关的默认流", "请给它写条件", "默认流（default"]),
    (process('<bpmn:scriptTask id="x" name="记录">{io}<bpmn:dataOutputAssociation id="doa"><bpmn:targetRef>dsr'
             '</bpmn:targetRef></bpmn:dataOutputAssociation><bpmn:script>a = 1</bpmn:script></bpmn:scriptTask>'
             '<bpmn:dataStoreReference id="dsr" name="档案库" />'),
     ["scriptTask 'x'（记录）：数据输出关联（dataOutputAssociation）指向数据存储 dataStoreReference 'dsr'（档案库）",
      "不支持数据存储", "请删除该关联，或把它连到本流程的数据对象"]),
    (process('<bpmn:scriptTask id="x" name="记录">{io}<bpmn:property id="p" name="__targetRef_placeholder" />'
             '<bpmn:dataInputAssociation id="dia"><bpmn:sourceRef>dor</bpmn:sourceRef><bpmn:targetRef>p</bpmn:targetRef>'
             '</bpmn:dataInputAssociation><bpmn:script>a = 1</bpmn:script></bpmn:scriptTask>'
             '<bpmn:dataObjectReference id="dor" name="申请材料" />'),
     ["scriptTask 'x'（记录）：数据输入关联（dataInputAssociation）指向的 dataObjectReference 'dor'（申请材料） 没有连到数据对象"]),
])
def test_a_diagram_refusal_names_the_element_in_chinese(content, expected):
    problem = _refused(DiagramSource("refusal.bpmn", content))
    for text in expected:
        assert text in problem
    assert "policy/roles.json" not in problem and "Did you mean" not in problem
    assert not re.search(r"[A-Za-z-]{2,} [A-Za-z-]{2,} [A-Za-z-]{2,}", problem), problem  # no English sentence


@pytest.mark.usefixtures("app")
def test_an_import_in_a_script_is_one_refusal_saying_to_delete_it_not_a_runtime_error_and_its_knock_ons():
    content = process('<bpmn:scriptTask id="x" name="记录">{io}<bpmn:script>import os\nresult = os.getcwd()'
                      "</bpmn:script></bpmn:scriptTask>")
    with pytest.raises(DiagramInvalid) as refused:
        parse_bundle([DiagramSource("refusal.bpmn", content)], "refusal_test")
    assert refused.value.problems == [
        ("scriptTask 'x'（记录）：脚本不能导入模块（import os）：图中的脚本只能调用 fangpin 提供的函数（期限、测算、记录等）"
        "和简单的内置函数；请删除 import 语句")]


@pytest.mark.usefixtures("app")
def test_every_stage_of_a_file_is_reported_at_once_with_knock_ons_folded():
    """An unknown lane (the lint), a script that fails in the trial run and a condition that names an unknown
    variable: all at once, the trial run's problems folded under the lint's (they may follow from it)."""
    content = f"""<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" targetNamespace="http://t">
  <bpmn:process id="refusal_test" name="拒绝测试" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="lane_boss" name="主任"><bpmn:flowNodeRef>x</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="x" name="记录">{IO}<bpmn:script>total = undefined_thing + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:exclusiveGateway id="g" name="是否同意" default="f3"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f3</bpmn:outgoing><bpmn:outgoing>f4</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="x" />
    <bpmn:sequenceFlow id="f2" sourceRef="x" targetRef="g" />
    <bpmn:sequenceFlow id="f3" sourceRef="g" targetRef="end" />
    <bpmn:sequenceFlow id="f4" name="同意" sourceRef="g" targetRef="end">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">approvd == True</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
  </bpmn:process>
</bpmn:definitions>""".encode()
    with pytest.raises(DiagramInvalid) as refused:
        parse_bundle([DiagramSource("refusal.bpmn", content)], "refusal_test")
    lane, trial = refused.value.problems
    assert lane.startswith("lane 'lane_boss'（主任）：泳道名称“主任”不是已知角色")
    assert trial.startswith("另有 2 处试运行问题，可能由上述问题引起，修正上述问题后再校验：")
    assert "scriptTask 'x'（记录）：脚本用示例数据试运行失败" in trial and "undefined_thing" in trial
    assert "sequenceFlow 'f4'（同意）：条件 “approvd == True”" in trial


@pytest.mark.usefixtures("app")
def test_a_trial_failure_of_an_element_the_lint_refused_is_folded_under_it():
    content = process('<bpmn:scriptTask id="x" name="记录">{io}<bpmn:script>import os</bpmn:script></bpmn:scriptTask>',
                      lanes='<bpmn:laneSet id="ls"><bpmn:lane id="lane_boss" name="主任"><bpmn:flowNodeRef>x'
                            "</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>")
    with pytest.raises(DiagramInvalid) as refused:
        parse_bundle([DiagramSource("refusal.bpmn", content)], "refusal_test")
    assert [p.split("：")[0] for p in refused.value.problems] == ["lane 'lane_boss'（主任）", "scriptTask 'x'（记录）"]


@pytest.mark.usefixtures("app")
@pytest.mark.parametrize("steps", [350, 1500])
def test_a_very_long_chain_is_refused_as_too_large_not_blamed_on_one_task(steps):
    problem = _refused(DiagramSource("chain.bpmn", chain(steps)))
    assert problem.startswith("process 'refusal_chain'（长链）：流程图太大或步骤链太长")
    assert "RecursionError" not in problem and "scriptTask" not in problem


# -- the upload page and the draft check: 4xx, never 500 ---------------------------------------------


def _upload(client, name: str, content: bytes, action: str = "deploy"):
    data = {"diagram": (io.BytesIO(content), name), "action": action, "note": "",
            "csrf_token": csrf_token(client.get("/diagrams").get_data(as_text=True))}
    return client.post("/diagrams/upload", data=data, content_type="multipart/form-data")


@pytest.mark.parametrize(("content", "expected"), [
    (LITERAL, "不是决策表"), (SERVICE, "不是决策表"), (NO_TABLE_ID, "决策表无法解析"),
])
def test_the_upload_refuses_a_dmn_crash_class_with_422(editor, content, expected):
    response = _upload(editor, "refusal.dmn", content)
    assert response.status_code == 422 and expected in response.get_data(as_text=True)
    saved = _upload(editor, "refusal.dmn", content, action="draft")
    assert saved.status_code == 302
    checked = editor.get(saved.headers["Location"] + "?check=1")
    assert checked.status_code == 422 and expected in checked.get_data(as_text=True)


@pytest.mark.parametrize("content", [table(DMN12, extra=DMNDI12), PREFIXED])
def test_the_upload_keeps_a_dmn_1_2_or_prefixed_table_byte_for_byte(editor, content):
    response = _upload(editor, "refusal_kept.dmn", content)
    assert response.status_code == 302
    sha = DiagramSource("refusal_kept.dmn", content).sha256
    assert editor.get(f"/diagrams/files/{sha}").data == content


def test_the_upload_refuses_a_long_chain_and_a_data_store_with_422(editor):
    response = _upload(editor, "chain.bpmn", chain(1500))
    assert response.status_code == 422 and "流程图太大或步骤链太长" in response.get_data(as_text=True)
    store = process('<bpmn:scriptTask id="x" name="记录">{io}<bpmn:script>a = 1</bpmn:script></bpmn:scriptTask>',
                    defs='<bpmn:dataStore id="ds_archive" name="档案库" />')
    response = _upload(editor, "store.bpmn", store)
    assert response.status_code == 422 and "dataStore &#39;ds_archive&#39;" in response.get_data(as_text=True)


# -- fangpin process deploy: the same checks, the same size limit, DMN stored ------------------------


def test_the_cli_validates_and_stores_dmn_like_the_web(fangpin, tmp_path):  # noqa: F811 - the CLI fixture
    fangpin("init", "--demo")
    literal = tmp_path / "literal.dmn"
    literal.write_bytes(LITERAL)
    out = fangpin("--as", "jiangxi_zhengce", "process", "deploy", str(literal), ok=False)
    assert "决策 'refusal_literal'（字面决策） 不是决策表" in out
    broken = tmp_path / "broken.dmn"
    broken.write_bytes(NO_TABLE_ID)
    assert "决策表无法解析" in fangpin("--as", "jiangxi_zhengce", "process", "deploy", str(broken), ok=False)
    kept = tmp_path / "grade12.dmn"
    kept.write_bytes(table(DMN12, extra=DMNDI12))
    assert "已保存决策表 grade12.dmn" in fangpin("--as", "jiangxi_zhengce", "process", "deploy", str(kept))
    assert "没有变化，无需部署" in fangpin("--as", "jiangxi_zhengce", "process", "deploy", str(kept))
    chain_file = tmp_path / "chain.bpmn"
    chain_file.write_bytes(chain(1500))
    assert "流程图太大或步骤链太长" in fangpin("--as", "jiangxi_zhengce", "process", "deploy", str(chain_file), ok=False)
    big = tmp_path / "big.dmn"
    big.write_bytes(LITERAL + b" " * MAX_DIAGRAM_BYTES)
    assert "超过 2 MB" in fangpin("--as", "jiangxi_zhengce", "process", "deploy", str(big), ok=False)


@pytest.mark.usefixtures("app")
def test_a_cycle_timer_on_a_non_interrupting_boundary_event_is_accepted():
    """Reminders (R3/P5D) while a step waits: the place for a cycle, one branch per repetition."""
    content = process('<bpmn:userTask id="x" name="填表"><bpmn:extensionElements><spiffworkflow:properties>'
                      '<spiffworkflow:property name="formJsonSchemaFilename" value="announcement.json" />'
                      "</spiffworkflow:properties></bpmn:extensionElements>{io}</bpmn:userTask>"
                      '<bpmn:boundaryEvent id="remind" name="催办" cancelActivity="false" attachedToRef="x">'
                      '<bpmn:outgoing>f3</bpmn:outgoing><bpmn:timerEventDefinition id="td">'
                      '<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">"R3/P5D"</bpmn:timeCycle>'
                      "</bpmn:timerEventDefinition></bpmn:boundaryEvent>"
                      '<bpmn:endEvent id="end2"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>'
                      '<bpmn:sequenceFlow id="f3" sourceRef="remind" targetRef="end2" />')
    spec, _ = parse_bundle([DiagramSource("refusal.bpmn", content)], "refusal_test")
    assert "remind" in spec.task_specs
