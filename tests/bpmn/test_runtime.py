"""Running an instance: a diagram whose automatic steps never stop (a loop without an exit, each script within
its own time limit) is stopped after a step budget, naming the last step, so one case cannot hold a request or
the scheduler."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine.bpmn import runtime
from engine.bpmn.runtime import DiagramLoop, advance
from engine.bpmn.scripting import DiagramScriptEngine
from engine.core.clock import FixedClock

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
