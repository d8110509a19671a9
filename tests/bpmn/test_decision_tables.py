"""Decision tables (DMN) outside a case: evaluated with the restricted engine, output cells checked against
their column's type and allowed values."""
from __future__ import annotations

import pytest

from engine.bpmn.decision_tables import check_outputs, decide
from engine.bpmn.scripting import ScriptTimeout
from engine.bpmn.source import DiagramSource
from engine.core.config import project_dir

SHIPPED = (project_dir("processes") / "household_category.dmn").read_bytes()
HOUSING = {"guarantee_problem": True, "guarantee_text": "住房安全"}  # rule_2, the first with "unstable"
FACTS = {"excluded": False, "guarantee_problem": False, "has_risk": True, "net_income_per_capita": 5000.0,
         "income_reference_per_capita": 5000.0, "monitoring_line": 7800.0, "formerly_poor": True,
         "exclusions_text": "", "guarantee_text": "", "income_sharply_reduced": False}


def _table(old: bytes, new: bytes) -> list[DiagramSource]:
    assert old in SHIPPED
    return [DiagramSource("household_category.dmn", SHIPPED.replace(old, new, 1))]


def test_the_shipped_table_decides_from_the_facts():
    tables = [DiagramSource("household_category.dmn", SHIPPED)]
    assert decide("household_category", {"facts": FACTS}, tables)["category"] == "unstable"
    assert decide("household_category", {"facts": {**FACTS, "excluded": True}}, tables)["include"] is False


@pytest.mark.parametrize("escape", [
    "().__class__.__mro__[1].__subclasses__()",
    "__import__('os').system('id')",
    "open('/etc/passwd').read()",
])
def test_a_cell_cannot_escape_the_restricted_engine(escape):
    tables = _table(b'<text>"unstable"</text>', f"<text>{escape}</text>".encode())
    with pytest.raises((SyntaxError, NameError)):
        decide("household_category", {"facts": {**FACTS, **HOUSING}}, tables)


def test_a_cell_that_runs_for_ever_is_stopped():
    tables = _table(b'<text>"unstable"</text>', b"<text>sum(1 for _ in range(100000000000))</text>")
    with pytest.raises(ScriptTimeout):
        decide("household_category", {"facts": {**FACTS, **HOUSING}}, tables)


def test_the_shipped_output_cells_fit_their_columns():
    assert check_outputs(DiagramSource("household_category.dmn", SHIPPED)) == []


def test_an_unknown_category_or_a_wrong_type_is_named_with_its_rule():
    (unknown,) = _table(b'<text>"marginal"</text>', b'<text>"edge"</text>')
    (problem,) = check_outputs(unknown)
    assert problem.startswith("决策表 'household_category'（监测对象类别认定） 规则 'rule_3'")
    assert "'edge' 不在允许的取值中" in problem
    (wrong,) = _table(b"<text>True</text></outputEntry>", b'<text>"yes"</text></outputEntry>')
    assert check_outputs(wrong) == [("决策表 'household_category'（监测对象类别认定） 规则 'rule_2'（脱贫户，收入不高于监测范围，"
                                    "三保障或饮水有问题）：输出 include 的值 'yes' 类型不符（应为 bool）")]
