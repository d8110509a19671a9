"""Camunda Modeler's and Zeebe's conventions (issue #17): a form key naming a known form, an ISO due date or
duration, a candidate group naming the lane's role and a Zeebe called process are taken (mapped to fangpin's
own properties, the stored file byte-identical); anything else they say is refused naming the attribute and what
to use instead — never ignored."""
from __future__ import annotations

import pytest

from engine.bpmn.conventions import due_expression, form_name
from engine.bpmn.source import DiagramSource
from engine.core.db import db
from engine.core.errors import DiagramInvalid
from engine.core.models import DiagramFile
from engine.core.transaction import transaction
from engine.library.rules import deploy, parse_bundle

CAMUNDA = 'xmlns:camunda="http://camunda.org/schema/1.0/bpmn"'
ZEEBE = 'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"'


def diagram(task: str, lane: str = "村级", pid: str = "camunda_export") -> bytes:
    """A Camunda-style export: start → user task ``x`` (in ``lane``) → end; no fangpin property at all."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" {CAMUNDA} {ZEEBE}
    id="defs" targetNamespace="http://bpmn.io/schema/bpmn" exporter="Camunda Modeler" exporterVersion="5.30.0">
  <bpmn:process id="{pid}" name="建模器导出" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="lane_1" name="{lane}"><bpmn:flowNodeRef>start</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>x</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    {task}
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="x" />
    <bpmn:sequenceFlow id="f2" sourceRef="x" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
""".encode()


def user_task(attributes: str = "", extensions: str = "") -> str:
    inner = f"<bpmn:extensionElements>{extensions}</bpmn:extensionElements>" if extensions else ""
    return (f'<bpmn:userTask id="x" name="登记家庭成员变更" {attributes}>{inner}'
            "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>")


def _spec_properties(content: bytes, pid: str = "camunda_export") -> dict:
    spec, _ = parse_bundle([DiagramSource("export.bpmn", content)], pid)
    return spec.task_specs["x"].extensions.get("properties", {})


def _refusal(content: bytes, pid: str = "camunda_export") -> list[str]:
    with pytest.raises(DiagramInvalid) as refused:
        parse_bundle([DiagramSource("export.bpmn", content)], pid)
    return refused.value.problems


def test_form_keys_and_durations_are_read_as_fangpin_names_them():
    assert form_name("camunda-forms:deployment:member_change.form") == "member_change.json"
    assert form_name("embedded:app:forms/member_change.html") == "member_change.json"
    assert form_name("member_change") == "member_change.json"
    assert due_expression("P15D") == "days_from(today(), 15)"
    assert due_expression("P2W") == "days_from(today(), 14)"
    assert due_expression("P1M") == "months_from(today(), 1)"
    assert due_expression("2026-12-31T23:59:59+08:00") == "'2026-12-31T23:59:59+08:00'"
    assert due_expression("${now()}") is None and due_expression("=today() + duration(\"P3D\")") is None


@pytest.mark.usefixtures("app")
def test_camunda_7_form_group_and_due_date_are_taken_and_the_file_kept_byte_identical(clock):
    content = diagram(user_task('camunda:formKey="camunda-forms:deployment:member_change.form" '
                                'camunda:candidateGroups="village_cadre" camunda:dueDate="P15D"'))
    properties = _spec_properties(content)
    assert properties["formJsonSchemaFilename"] == "member_change.json"
    assert properties["dueDate"] == "days_from(today(), 15)"
    with transaction():
        versions = deploy([DiagramSource("export.bpmn", content)], "editor", clock.now())
    stored = db.session.get(DiagramFile, versions[0].files[0]["sha256"])
    assert stored.content == content  # the mapping lives in the parsed tree only


@pytest.mark.usefixtures("app")
def test_zeebe_form_assignment_schedule_and_called_process_are_taken():
    content = diagram(user_task(extensions='<zeebe:userTask /><zeebe:formDefinition formId="member_change" />'
                                           '<zeebe:assignmentDefinition candidateGroups="村级" />'
                                           '<zeebe:taskSchedule dueDate="2026-12-31" />'))
    properties = _spec_properties(content)
    assert properties["formJsonSchemaFilename"] == "member_change.json"
    assert properties["dueDate"] == "'2026-12-31'"


@pytest.mark.usefixtures("app")
def test_a_group_that_is_not_the_lanes_role_is_refused_naming_the_attribute_and_the_lanes():
    problems = _refusal(diagram(user_task('camunda:formKey="member_change" camunda:candidateGroups="county_officer"')))
    assert len(problems) == 1
    assert "userTask 'x'（登记家庭成员变更）" in problems[0] and "camunda:candidateGroups" in problems[0]
    assert "泳道“村级”" in problems[0] and "县级" in problems[0]


@pytest.mark.usefixtures("app")
def test_every_untaken_attribute_of_a_file_is_refused_at_once():
    problems = _refusal(diagram(user_task(
        'camunda:formKey="no_such_form" camunda:assignee="demo" camunda:dueDate="${dateTime().plusDays(3)}"',
        '<zeebe:assignmentDefinition candidateGroups="财务科" />')))
    text = "\n".join(problems)
    assert len(problems) == 4, problems
    assert "camunda:formKey=“no_such_form” 对应的表单 no_such_form.json 不存在" in text and "member_change.json" in text
    assert "camunda:assignee=“demo” 指定办理人" in text
    assert "camunda:dueDate=“${dateTime().plusDays(3)}” 是JUEL/EL 表达式" in text and "working_days_from" in text
    assert "zeebe:assignmentDefinition candidateGroups 中的“财务科”不是已知角色" in text
    assert all(p.startswith("userTask 'x'（登记家庭成员变更）：") for p in problems)


@pytest.mark.usefixtures("app")
def test_a_camunda_value_contradicting_fangpins_own_property_is_refused():
    own = ('<spiffworkflow:properties xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core">'
           '<spiffworkflow:property name="formJsonSchemaFilename" value="member_change.json" />'
           "</spiffworkflow:properties>")
    problems = _refusal(diagram(user_task('camunda:formKey="household_verification"', own)))
    assert problems == [("userTask 'x'（登记家庭成员变更）：camunda:formKey=“household_verification” 与本任务的表单属性 "
                        "formJsonSchemaFilename=“member_change.json” 不一致；请删除 camunda:formKey，或改为同一表单")]


@pytest.mark.usefixtures("app")
def test_without_any_camunda_attribute_nothing_changes():
    own = ('<spiffworkflow:properties xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core">'
           '<spiffworkflow:property name="formJsonSchemaFilename" value="member_change.json" />'
           "</spiffworkflow:properties>")
    assert _spec_properties(diagram(user_task("", own))) == {"formJsonSchemaFilename": "member_change.json"}
