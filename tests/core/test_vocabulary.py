"""The vocabularies (engine.core.vocabulary): each code an official may see has its Chinese label."""
from __future__ import annotations

import ast
import re

from lxml import etree

from engine.bpmn.forms import load_form
from engine.core.config import project_dir
from engine.core.vocabulary import CaseOutcome, CorrectionKind

_BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
_VARIABLE_OUTCOMES = {  # a diagram recording an outcome held in a variable: where the variable's values come from
    "risk_level": set(load_form("area_assessment.json")["properties"]["risk_level"]["enum"]),
    "kind": set(CorrectionKind.labels()),  # the correction's start data: rollback or removal
}


def _recorded_outcomes() -> dict[str, set[str]]:
    """Each outcome the shipped diagrams record (``record_outcome(code, reason)`` in a script), with where."""
    found: dict[str, set[str]] = {}
    for path in sorted(project_dir("processes").glob("*.bpmn")):
        for script in etree.parse(str(path)).iter(f"{_BPMN}script"):
            for call in ast.walk(ast.parse(script.text or "")):
                if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "record_outcome":
                    first = call.args[0]
                    codes = ({first.value} if isinstance(first, ast.Constant)
                             else _VARIABLE_OUTCOMES.get(getattr(first, "id", ""), {"?"}))
                    for code in codes:
                        found.setdefault(code, set()).add(path.name)
    return found


def test_every_outcome_a_shipped_diagram_records_has_its_label():
    """A case's header, its 办理记录 and the case list show how it ended by its label (已办结（暂缓消除）), never by
    the diagram's code (postponed)."""
    recorded = _recorded_outcomes()
    assert {code: sorted(where) for code, where in recorded.items() if code not in CaseOutcome.labels()} == {}
    assert {"qualified", "postponed", "included", "no_risk", "rollback", "scale_risk"} <= set(recorded)
    assert all(re.search(r"[\u4e00-\u9fff]", label) for label in CaseOutcome.labels().values())
    assert CaseOutcome.label_of("postponed") == "暂缓消除"
    assert CaseOutcome.label_of("rollback") == CorrectionKind.ROLLBACK.label  # one label for one code
