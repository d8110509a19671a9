"""A step's instructions may name the step's data (engine.bpmn.instructions): ``{{ campaign.window_start }}`` shows
the value, a name the data does not hold shows 未设定, and a deploy refuses braces that hold anything but a name."""
from __future__ import annotations

import pytest

from engine.bpmn.instructions import MISSING, filled, problems
from engine.bpmn.source import DiagramSource
from engine.core.errors import DiagramInvalid
from engine.library.rules import parse_bundle
from tests.bpmn.test_refusals import process

DATA = {"campaign": {"window_start": "2025-10-01", "window_end": "2026-09-30", "days": 5, "flag": True}}


@pytest.mark.parametrize(("text", "shown"), [
    ("按统计时段 {{ campaign.window_start }} 至 {{campaign.window_end}} 采集", "按统计时段 2025-10-01 至 2026-09-30 采集"),
    ("公示 {{ campaign.days }} 天", "公示 5 天"),
    ("{{ campaign.missing }} 前", f"{MISSING} 前"),
    ("{{ campaign }}", MISSING),  # a whole object is not shown
    ("{{ campaign.flag }}", MISSING),
    ("没有数据名称的说明", "没有数据名称的说明"),
])
def test_the_names_are_filled_from_the_steps_data(text, shown):
    assert filled(text, DATA) == shown


def test_braces_holding_anything_but_a_name_are_a_problem():
    assert problems("{{ campaign.window_start }}、{{ a_b.c1 }}") == []
    (problem,) = problems("截止 {{ campaign['entry_by'] }}")
    assert problem.startswith("说明文字中的 {{ campaign['entry_by'] }} 不是数据名称") and "{{ campaign.window_start }}" in problem


@pytest.mark.usefixtures("app")
def test_a_deploy_refuses_instructions_whose_braces_hold_an_expression():
    task = ('<bpmn:userTask id="x" name="采集">{io}<bpmn:extensionElements><spiffworkflow:properties>'
            '<spiffworkflow:property name="formJsonSchemaFilename" value="campaign_open.json" />'
            "</spiffworkflow:properties><spiffworkflow:instructionsForEndUser>截止 {{ today() }}"
            "</spiffworkflow:instructionsForEndUser></bpmn:extensionElements></bpmn:userTask>")
    content = process(task.replace("{io}", "").replace("</bpmn:extensionElements>", "</bpmn:extensionElements>{io}"))
    source = DiagramSource("t.bpmn", content)
    with pytest.raises(DiagramInvalid) as refused:
        parse_bundle([source], source.process_ids()[0])
    assert refused.value.problems == [("userTask 'x'（采集）：说明文字中的 {{ today() }} 不是数据名称：花括号中只能写数据的名称"
                                      "（如 {{ campaign.window_start }}）")]
