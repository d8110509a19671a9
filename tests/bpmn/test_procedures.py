"""Which procedure a diagram carries out (engine.bpmn.procedures): every shipped process bound somewhere declares
the procedure it is bound as, in the diagram (spiffworkflow:property procedure on the process); an unknown or
misplaced declaration refuses the file naming the element; a process that declares none is read by its id
(identification_longkou) or cannot be told (Process_1); a new version may not declare another procedure than the
process's versions before it, and an older version that declares none takes the declaration of a later one."""
from __future__ import annotations

import json

import pytest
from lxml import etree

from engine.bpmn.deployment import latest_version
from engine.bpmn.procedures import BY_ID, DECLARED, UNKNOWN, by_convention, carried_by, declared
from engine.bpmn.source import DiagramSource, read_directory
from engine.core.config import project_dir
from engine.core.errors import DiagramInvalid
from engine.core.models import ProcessVersion
from engine.core.transaction import transaction
from engine.core.vocabulary import Procedure
from engine.library.rules import deploy
from tests.diagram_variants import undeclared, with_property
from tests.factories import count_rows

PROCESSES = project_dir("processes")


def _shipped_bindings() -> dict[str, set[str]]:
    """process id → the procedures policy/parameters.json binds it as."""
    found: dict[str, set[str]] = {}

    def walk(node) -> None:
        if isinstance(node, dict):
            if str(node.get("key", "")).endswith(".process"):
                found.setdefault(node["value"].split("@")[0], set()).add(node["key"].removesuffix(".process"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads((project_dir("policy") / "parameters.json").read_text(encoding="utf-8")))
    return found


def _shipped_trees() -> dict[str, etree._ElementTree]:
    """process id → the tree of its file in processes/."""
    trees = {}
    for source in read_directory(PROCESSES):
        if not source.is_dmn:
            trees.update({pid: source.parse_xml() for pid in source.process_ids()})
    return trees


def test_every_shipped_process_declares_the_procedure_it_is_bound_as():
    trees, bindings = _shipped_trees(), _shipped_bindings()
    assert bindings and set(bindings) <= set(trees)
    for process_id, procedures in bindings.items():
        assert procedures == {declared(trees[process_id], process_id)}, process_id
    assert set(trees) - set(bindings) == {"publicity_period"}  # called by the others, never bound itself
    assert declared(trees["publicity_period"], "publicity_period") is None


def test_the_process_id_convention_names_the_longest_code_it_begins_with():
    assert by_convention("identification_longkou") == Procedure.IDENTIFICATION
    assert by_convention("elimination_zhanggong_2021") == Procedure.ELIMINATION
    assert by_convention("warning_batch_longkou") == Procedure.WARNING_BATCH
    assert by_convention("annual_collection") == Procedure.ANNUAL_COLLECTION
    for nothing in ("monthly_followup", "Process_1", "identificationx", "publicity_period"):
        assert by_convention(nothing) is None, nothing


def _identification(value: str, element: str = "identification") -> DiagramSource:
    shipped = (PROCESSES / "identification.bpmn").read_bytes()
    return DiagramSource("identification.bpmn", with_property(shipped, element, "procedure", value))


def _bare(process_id: str) -> DiagramSource:
    return DiagramSource(f"{process_id}.bpmn", undeclared((PROCESSES / "identification.bpmn").read_bytes(), process_id))


def _deploy(*sources: DiagramSource, clock) -> list[ProcessVersion]:
    names = {s.file_name for s in sources}
    library = [s for s in read_directory(PROCESSES) if s.file_name not in names]
    with transaction():
        return deploy([*sources, *library], "jiangxi_zhengce", clock.now())


@pytest.mark.parametrize(("value", "element", "expected"), [
    ("shibie", "identification", ("process 'identification'（识别纳入（江西省2023年指南））：属性 procedure（办理程序）"
                                  "的取值“shibie”不是已知的办理程序；请改为其中之一：identification（识别纳入）")),
    ("identification", "verify", "userTask 'verify'（入户核实）：属性 procedure（办理程序）只能设在流程（process）上"),
])
def test_an_unknown_or_misplaced_declaration_refuses_the_file_and_nothing_is_deployed(app, clock, value, element,
                                                                                      expected):
    before, count = latest_version("identification"), count_rows(ProcessVersion)
    with pytest.raises(DiagramInvalid) as refused:
        _deploy(_identification(value, element), clock=clock)
    assert expected in str(refused.value)
    assert latest_version("identification").id == before.id and count_rows(ProcessVersion) == count


def test_a_new_version_declaring_another_procedure_is_refused_naming_both(app, clock):
    before, count = latest_version("identification"), count_rows(ProcessVersion)
    with pytest.raises(DiagramInvalid) as refused:
        _deploy(_identification("elimination"), clock=clock)
    message = str(refused.value)
    assert ("process 'identification'（识别纳入（江西省2023年指南））：声明的办理程序“风险消除”（elimination）与该流程已部署的"
            "版本不同（流程 identification（识别纳入（江西省2023年指南））第 1 版办理“识别纳入”（identification，流程图中声明））；") in message
    assert "请把办理程序改回“识别纳入”，或把流程另存为新的流程标识" in message
    assert latest_version("identification").id == before.id and count_rows(ProcessVersion) == count


def test_what_a_version_carries_out_and_how_it_is_known(app, clock):
    assert carried_by(latest_version("monthly_followup")).code == Procedure.FOLLOWUP  # its id names none
    assert carried_by(latest_version("identification_longkou")).how == DECLARED
    # a version without the declaration (as deployed before it existed) takes it from another version of the process
    bare = undeclared((PROCESSES / "monthly_followup.bpmn").read_bytes())
    assert b'name="procedure"' not in bare
    [older] = _deploy(DiagramSource("monthly_followup.bpmn", bare), clock=clock)
    carried = carried_by(older)
    assert (carried.code, carried.how) == (Procedure.FOLLOWUP, "未声明，取自同一流程第 1 版的声明")
    # a process named as another modeler names it tells nothing by its id; one named by the convention does
    [unknown] = _deploy(_bare("Process_0x1d2c3"), clock=clock)
    assert (carried_by(unknown).code, carried_by(unknown).how) == (None, UNKNOWN)
    [by_id] = _deploy(_bare("identification_test"), clock=clock)
    assert (carried_by(by_id).code, carried_by(by_id).how) == (Procedure.IDENTIFICATION, BY_ID)

