"""Running an instance: a diagram whose automatic steps never stop (a loop without an exit, each script within
its own time limit) is stopped after a step budget, naming the last step, so one case cannot hold a request or
the scheduler."""
from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime

import pytest
from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine.bpmn import runtime
from engine.bpmn.runtime import DiagramLoop, NoBranchTaken, advance
from engine.bpmn.scripting import DiagramScriptEngine
from engine.core.clock import FixedClock
from engine.core.id_numbers import with_check_character

CLOCK = FixedClock(datetime(2026, 9, 20, tzinfo=UTC))

LOOP = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="looping" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="count" name="计数"><bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>back</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing><bpmn:script>n = n + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:exclusiveGateway id="again" default="out"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>back</bpmn:outgoing><bpmn:outgoing>out</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="count"/>
    <bpmn:sequenceFlow id="f2" sourceRef="count" targetRef="again"/>
    <bpmn:sequenceFlow id="back" sourceRef="again" targetRef="count">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="out" sourceRef="again" targetRef="end"/>
    <bpmn:endEvent id="end"><bpmn:incoming>out</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""


def _workflow(condition: str) -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    parser.add_bpmn_xml(etree.fromstring(LOOP.replace("{condition}", condition).encode()), filename="loop.bpmn")
    workflow = BpmnWorkflow(parser.get_spec("looping"), script_engine=DiagramScriptEngine({}))
    workflow.task_tree.data["n"] = 0
    return workflow


def test_a_loop_without_an_exit_is_stopped_naming_the_last_step(monkeypatch):
    monkeypatch.setattr(runtime, "MAX_ENGINE_STEPS", 200)
    with pytest.raises(DiagramLoop, match=r"超过 200 个步骤.*最后一步：(count（计数）|again)"):
        advance(_workflow("n &gt; 0"), CLOCK)


def test_a_loop_that_ends_runs_to_its_end(monkeypatch):
    monkeypatch.setattr(runtime, "MAX_ENGINE_STEPS", 200)
    workflow = _workflow("n &lt; 50")  # fifty rounds (100 steps), then the default flow to the end
    advance(workflow, CLOCK)
    assert workflow.is_completed()
    assert workflow.last_task.data["n"] == 50


GATEWAY = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="choosing" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:{kind} id="gw1" name="是否同意"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>yes</bpmn:outgoing><bpmn:outgoing>no</bpmn:outgoing></bpmn:{kind}>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw1"/>
    <bpmn:sequenceFlow id="yes" sourceRef="gw1" targetRef="e1">
      <bpmn:conditionExpression>decision == "approved"</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="no" sourceRef="gw1" targetRef="e2">
      <bpmn:conditionExpression>decision == "reject" and household["size"] &gt; 0</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:endEvent id="e1"><bpmn:incoming>yes</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="e2"><bpmn:incoming>no</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""


@pytest.mark.parametrize(("kind", "label"), [("exclusiveGateway", "排他网关"), ("inclusiveGateway", "包容网关")])
def test_a_gateway_none_of_whose_conditions_hold_is_refused_naming_it_in_chinese(kind, label):
    parser = SpiffBpmnParser()
    parser.add_bpmn_xml(etree.fromstring(GATEWAY.replace("{kind}", kind).encode()), filename="gw.bpmn")
    workflow = BpmnWorkflow(parser.get_spec("choosing"), script_engine=DiagramScriptEngine({}))
    workflow.task_tree.data.update(decision="approve", household={"size": 3, "id_number": with_check_character("36070219800101001")})
    with pytest.raises(NoBranchTaken) as refused:
        advance(workflow, CLOCK)
    assert str(refused.value) == (
        f"流程图中的{label} 'gw1'（是否同意）的条件都不成立（此时 decision = \"approve\"），又没有默认流，案件无法继续，"
        "本次办理未保存。请政策管理员修改流程图：把网关的一条流出顺序流设为默认流（default），"
        "或修改条件（decision == \"approved\"；decision == \"reject\" and household[\"size\"] > 0）使其覆盖这种情况")


def _document(workflow: BpmnWorkflow) -> dict:
    """The instance as SpiffWorkflow's registry converts it, outside a dump (every task map converted whole)."""
    registry = runtime.INSTANCE_SERIALIZER.registry
    registry._encoder_mode = True
    try:
        dct = runtime.INSTANCE_SERIALIZER.to_dict(workflow)
        text = json.dumps(dct, cls=runtime.INSTANCE_SERIALIZER._encoder_cls)
    finally:
        registry._encoder_mode = False
    return {**json.loads(text), runtime.INSTANCE_SERIALIZER.VERSION_KEY: runtime.INSTANCE_SERIALIZER.VERSION}


def test_the_stored_state_is_the_whole_instance_however_often_it_is_saved_and_loaded():
    workflow = _workflow("n &lt; 3")
    workflow.task_tree.data["名称"] = "沙河村"
    advance(workflow, CLOCK)
    first = runtime.dump_state(workflow)
    assert runtime.state_document(first) == _document(workflow)
    assert runtime.dump_state(workflow) == first  # the finished tasks' kept text is the text made the first time
    stored = runtime._stored_document(first, runtime._StoredTask)  # as load_workflow reads it: each task's line kept
    stored.pop(runtime.INSTANCE_SERIALIZER.VERSION_KEY)
    loaded = runtime.INSTANCE_SERIALIZER.from_dict(stored, spec=workflow.spec, subprocess_specs={})
    assert runtime.dump_state(loaded) == first
    text = zlib.decompress(first).decode("utf-8")
    assert "\\u" not in text and "沙河村" in text and text.startswith(runtime.STATE_FORMAT + "\n")
    assert len(text.split("\n")) == 2 + len(workflow.tasks)  # the format line, the document, a line per task
    assert workflow.data["n"] == 3 and workflow.is_completed()


def test_a_state_stored_as_one_json_document_before_states_were_stored_in_lines_still_loads():
    workflow = _workflow("n &lt; 1")
    advance(workflow, CLOCK)
    older = zlib.compress(json.dumps(_document(workflow), ensure_ascii=False).encode("utf-8"))
    assert runtime.state_document(older) == runtime.state_document(runtime.dump_state(workflow)) == _document(workflow)
    document = runtime.state_document(older)
    document.pop(runtime.INSTANCE_SERIALIZER.VERSION_KEY)
    loaded = runtime.INSTANCE_SERIALIZER.from_dict(document, spec=workflow.spec, subprocess_specs={})
    assert runtime.dump_state(loaded) == runtime.dump_state(workflow)
