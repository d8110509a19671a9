"""Other modelers' conventions (其他建模工具的约定): what Camunda Modeler (Camunda 7 ``camunda:`` attributes) and
Camunda 8 / Zeebe (``zeebe:`` extension elements) write for a user task's form, group and due date, or a call
activity's called process, is either taken — mapped, in the parsed tree only, to fangpin's own properties, so that
the stored file stays byte-identical to the upload — or refused naming the attribute and what to use instead.
Nothing such a file says is ignored without a word.

Taken: a form key naming a form of ``forms/`` (``camunda:formKey``, ``zeebe:formDefinition formKey|formId``); a
due date that is an ISO date or date-time, or a duration of days, weeks or months from the task's start
(``camunda:dueDate``, ``zeebe:taskSchedule dueDate``); a candidate group that names the role of the task's lane
(``camunda:candidateGroups``, ``zeebe:assignmentDefinition candidateGroups``: fangpin gives a task to the role
of its lane); a Zeebe call activity's ``processId``. Refused: expressions in JUEL (``${…}``) or FEEL (``=…``),
individual assignment (assignee, candidate users: tasks go to a role in a place), a group that is not the lane's
role, a form that does not exist, and a value that contradicts fangpin's own property on the same element.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
ZEEBE = "http://camunda.org/schema/zeebe/1.0"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"

FORM, DUE = "formJsonSchemaFilename", "dueDate"
PANEL_HINT = "或在建模器的属性面板中设置"
_DURATION = re.compile(r"P(?:(\d+)D|(\d+)W|(\d+)M)", re.IGNORECASE)
_MOMENT = re.compile(r"\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?)?")


@dataclass(frozen=True)
class Found:
    """One attribute of another modeler on an element: where it is written and its value."""

    element: etree._Element
    attribute: str  # as the editor sees it: camunda:formKey, zeebe:taskSchedule dueDate
    value: str


def _user_task_attributes(task: etree._Element) -> dict[str, list[Found]]:
    """The task's form, group, individual assignment and due date attributes, by what they mean."""
    found: dict[str, list[Found]] = {"form": [], "group": [], "person": [], "due": []}
    for name, kind in (("formKey", "form"), ("formRef", "form"), ("candidateGroups", "group"),
                       ("assignee", "person"), ("candidateUsers", "person"), ("dueDate", "due")):
        value = task.get(f"{{{CAMUNDA}}}{name}")
        if value is not None:
            found[kind].append(Found(task, f"camunda:{name}", value.strip()))
    zeebe = {("formDefinition", "formKey"): "form", ("formDefinition", "formId"): "form",
             ("assignmentDefinition", "candidateGroups"): "group", ("assignmentDefinition", "assignee"): "person",
             ("assignmentDefinition", "candidateUsers"): "person", ("taskSchedule", "dueDate"): "due"}
    for (tag, name), kind in zeebe.items():
        for node in task.iterfind(f"{{{BPMN}}}extensionElements/{{{ZEEBE}}}{tag}"):
            value = node.get(name)
            if value is not None and value.strip():
                found[kind].append(Found(task, f"zeebe:{tag} {name}", value.strip()))
    return found


def form_name(value: str) -> str:
    """The fangpin form a form key names: ``camunda-forms:deployment:household_verification.form``,
    ``embedded:app:forms/household_verification.html`` and ``household_verification`` all name
    ``household_verification.json``."""
    name = re.split(r"[:/\\]", value)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{stem}.json"


def due_expression(value: str) -> str | None:
    """fangpin's due-date expression for an ISO date, date-time or duration of days, weeks or months (counted
    in calendar days from the day the task starts); None for anything else (an expression)."""
    if _MOMENT.fullmatch(value):
        return repr(value)
    match = _DURATION.fullmatch(value)
    if match is None:
        return None
    days, weeks, months = match.groups()
    if months:
        return f"months_from(today(), {int(months)})"
    return f"days_from(today(), {int(days) if days else int(weeks) * 7})"


def _property(task: etree._Element, name: str) -> etree._Element | None:
    return task.find(f"{{{BPMN}}}extensionElements/{{{SPIFF}}}properties/{{{SPIFF}}}property[@name='{name}']")


def _add_property(task: etree._Element, name: str, value: str) -> None:
    extensions = task.find(f"{{{BPMN}}}extensionElements")
    if extensions is None:
        extensions = etree.Element(f"{{{BPMN}}}extensionElements")
        task.insert(0, extensions)  # extensionElements come first in a BPMN element
    properties = extensions.find(f"{{{SPIFF}}}properties")
    if properties is None:
        properties = etree.SubElement(extensions, f"{{{SPIFF}}}properties")
    etree.SubElement(properties, f"{{{SPIFF}}}property", name=name, value=value)


def form_taken(task: etree._Element) -> str | None:
    """The attribute the task's form property was (or could have been) taken from; None if it has none."""
    own = _property(task, FORM)
    found = _user_task_attributes(task)["form"]
    return next((f.attribute for f in found if own is not None and own.get("value") == form_name(f.value)), None)


def adopt(tree: etree._ElementTree) -> None:
    """Map, in ``tree``, what other modelers wrote to fangpin's properties where fangpin's own is absent (the
    form, the due date, a Zeebe call activity's process). What cannot be mapped is left for :func:`problems`."""
    root = tree.getroot()
    for task in root.iter(f"{{{BPMN}}}userTask"):
        found = _user_task_attributes(task)
        if found["form"] and _property(task, FORM) is None:
            _add_property(task, FORM, form_name(found["form"][0].value))
        if found["due"] and _property(task, DUE) is None and (expression := due_expression(found["due"][0].value)):
            _add_property(task, DUE, expression)
    for call in root.iter(f"{{{BPMN}}}callActivity"):
        node = call.find(f"{{{BPMN}}}extensionElements/{{{ZEEBE}}}calledElement")
        if node is not None and node.get("processId") and not call.get("calledElement"):
            call.set("calledElement", node.get("processId").strip())


def _lane_of(tree: etree._ElementTree) -> dict[str, str]:
    """element id → the name of the lane it lies in."""
    return {(ref.text or "").strip(): lane.get("name") or ""
            for lane in tree.getroot().iter(f"{{{BPMN}}}lane") for ref in lane.iter(f"{{{BPMN}}}flowNodeRef")}


def problems(tree: etree._ElementTree, describe: Callable[[etree._Element], str], forms: list[str],
             role_of: Callable[[str], str | None], role_lanes: Callable[[str], list[str]]) -> list[str]:
    """Every other modeler's attribute of ``tree`` that is not taken, naming the element, the attribute and what
    to use instead. ``forms``: the form files there are; ``role_of``: the role a lane name or group names
    (None: none); ``role_lanes``: the lane names of a role."""
    found_problems = []
    lanes = _lane_of(tree)
    for task in tree.getroot().iter(f"{{{BPMN}}}userTask"):
        where = describe(task)
        found = _user_task_attributes(task)
        found_problems += _form_problems(task, where, found["form"], forms)
        found_problems += _due_problems(task, where, found["due"])
        found_problems += [f"{where}：{f.attribute}=“{f.value}” 指定办理人，fangpin 不按个人分配任务：任务交给其泳道的角色、"
                           f"案件所在辖区的人员办理；请删除该属性，把任务放入相应角色的泳道" for f in found["person"]]
        lane = lanes.get(task.get("id") or "", "")
        for f in found["group"]:
            found_problems += _group_problem(where, f, lane, role_of, role_lanes)
    return found_problems


def _form_problems(task: etree._Element, where: str, found: list[Found], forms: list[str]) -> list[str]:
    own = _property(task, FORM)
    result = []
    for f in found:
        name = form_name(f.value)
        if own is not None and own.get("value") != name:
            result.append(f"{where}：{f.attribute}=“{f.value}” 与本任务的表单属性 {FORM}=“{own.get('value')}” 不一致；"
                          f"请删除 {f.attribute}，或改为同一表单")
        elif name not in forms:
            result.append(f"{where}：{f.attribute}=“{f.value}” 对应的表单 {name} 不存在；请改为已有表单之一："
                          f"{'、'.join(forms) or '（没有）'}，{PANEL_HINT}")
    return result


def _due_problems(task: etree._Element, where: str, found: list[Found]) -> list[str]:
    own = _property(task, DUE)
    result = []
    for f in found:
        expression = due_expression(f.value)
        if expression is None:
            kind = "JUEL/EL 表达式" if f.value.startswith(("${", "#{")) else (
                "FEEL 表达式" if f.value.startswith("=") else "不是 ISO 日期或天数、周数、月数")
            result.append(f"{where}：{f.attribute}=“{f.value}” 是{kind}，fangpin 不能执行；请删除该属性，改用期限属性 "
                          f"{DUE}（例如 working_days_from(today(), 20) 表示 20 个工作日），{PANEL_HINT}")
        elif own is not None and own.get("value") != expression:
            result.append(f"{where}：{f.attribute}=“{f.value}” 与本任务的期限属性 {DUE}=“{own.get('value')}” 不一致；"
                          f"请删除 {f.attribute}")
    return result


def _group_problem(where: str, found: Found, lane: str, role_of: Callable[[str], str | None],
                   role_lanes: Callable[[str], list[str]]) -> list[str]:
    groups = [g.strip() for g in found.value.split(",") if g.strip()]
    if found.value.startswith(("${", "#{", "=")):
        return [f"{where}：{found.attribute}=“{found.value}” 是表达式；fangpin 以泳道表示角色，请删除该属性，把任务放入相应角色的泳道"]
    roles = {g: role_of(g) for g in groups}
    unknown = [g for g, role in roles.items() if role is None]
    if unknown:
        return [(f"{where}：{found.attribute} 中的“{'、'.join(unknown)}”不是已知角色；fangpin 以泳道表示角色，"
                f"请删除该属性，把任务放入相应角色的泳道")]
    lane_role = role_of(lane) if lane else None
    wanted = sorted(set(roles.values()))
    if len(wanted) > 1:
        return [(f"{where}：{found.attribute}=“{found.value}” 指定了多个角色；一个任务只交给其泳道的一个角色，请删除该属性，"
                f"把任务放入其中一个角色的泳道")]
    if lane_role != wanted[0]:
        names = "、".join(role_lanes(wanted[0])) or wanted[0]
        place = f"在泳道“{lane}”中" if lane else "不在任何泳道中"
        return [(f"{where}：{found.attribute}=“{found.value}” 指定的角色与任务所在泳道不符（任务{place}）；fangpin 以泳道"
                f"表示角色，请把任务放入泳道（{names}）之一，或删除该属性")]
    return []
