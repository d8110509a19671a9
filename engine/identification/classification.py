"""Classification (监测对象类别认定) into the three categories, with the reason explained.

unstable 脱贫不稳定户 · marginal 边缘易致贫户 · sudden 突发严重困难户 (DOMAIN.md §1).

The rule itself is a decision table — ``household_category`` (``processes/household_category.dmn``), and
Longkou's own ``household_category_longkou`` — edited and deployed by policy staff like a diagram. This module computes the facts the table reads
(income against the monitoring line, exclusions, 三保障/water problems, risk) and turns the table's
answer into the assessment shown to officials.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine.bpmn.decision_tables import decide, decision_with_output
from engine.bpmn.source import DiagramSource
from engine.core.errors import DecisionInvalid
from engine.core.vocabulary import GuaranteeProblem, HouseholdCategory
from engine.households.income import IncomeFigures
from engine.policy.exclusions import exclusion_labels

OUTPUTS = ("include", "category", "category_reason")
SHARPLY_REDUCED = "sharply_reduced"  # the verification's income: 因病因残因学因灾因意外事故等导致收入大幅缩减 (001 Q10, 003)


@dataclass(frozen=True)
class Assessment:
    """The outcome of assessing a household: a category, or why it is not included."""

    include: bool
    category: str | None
    reasons: list[str] = field(default_factory=list)

    @property
    def category_name(self) -> str:
        return HouseholdCategory(self.category).label if self.category else "不纳入"

    @property
    def explanation(self) -> str:
        return "；".join(self.reasons)


def household_facts(
    figures: IncomeFigures,
    line: Decimal,
    *,
    formerly_poor: bool,
    risk_types: Sequence[str],
    guarantee_problems: Sequence[str],
    exclusions: Sequence[str],
    income_sharply_reduced: bool = False,
) -> dict[str, Any]:
    """What the decision table reads (``facts[...]``): plain JSON values, kept in the case's data. Whether the
    income is "within" the line (≤ or <) is the table's rule, not decided here; so is what a sharp fall of income
    (收入大幅缩减, found at the verification) makes of a household above the line."""
    a34, a38 = figures.net_income_per_capita, figures.income_reference_per_capita
    return {
        "net_income_per_capita": float(a34),
        "income_reference_per_capita": float(a38),
        "monitoring_line": float(line),
        # in words a household reads too: the reason of a refusal is told to it (识别结果告知), without field codes
        "income_text": f"家庭人均纯收入 {a34} 元，人均收入参考范围 {a38} 元，监测范围 {line} 元",
        "excluded": bool(exclusions),
        "exclusions_text": "、".join(exclusions),
        "guarantee_problem": bool(guarantee_problems),
        "guarantee_text": "、".join(guarantee_problems),
        "has_risk": bool(risk_types),
        "formerly_poor": bool(formerly_poor),
        "income_sharply_reduced": bool(income_sharply_reduced),
    }


def measure_household(income: Mapping[str, Any], risk_types: Sequence[str], exclusions: Sequence[str] | None,
                      guarantees: Mapping[str, Any] | None, *, line: Decimal, formerly_poor: bool,
                      default_size: int) -> tuple[IncomeFigures, dict[str, Any]]:
    """测算收入: the income figures (A28–A38) from the verified inputs of a household (``income``: the form's, with
    :data:`SHARPLY_REDUCED`) and the facts the decision table classifies by — in a case (engine.cases.functions)
    and in a trial run alike."""
    figures = IncomeFigures.from_mapping(income, int(income.get("household_size") or default_size))
    problems = [problem.label for problem in GuaranteeProblem if (guarantees or {}).get(problem.value)]
    facts = household_facts(figures, line, formerly_poor=formerly_poor, risk_types=list(risk_types),
                            guarantee_problems=problems, exclusions=exclusion_labels(list(exclusions or [])),
                            income_sharply_reduced=bool(income.get(SHARPLY_REDUCED)))
    return figures, facts


def assessment_from(include: Any, category: Any, category_reason: Any, facts: dict[str, Any]) -> Assessment:
    """The table's answer as an Assessment; DecisionInvalid (naming the table) if the answer is not usable."""
    if not isinstance(include, bool):
        raise DecisionInvalid(f"类别认定决策表的输出 include 应为 True 或 False，实际为 {include!r}")
    if include and category not in HouseholdCategory.labels():
        raise DecisionInvalid(f"类别认定决策表给出的类别 {category!r} 不是已知类别（{'、'.join(HouseholdCategory.labels())}）")
    reasons = [facts.get("income_text", ""), str(category_reason or "")]
    if include:
        reasons.append(f"认定为{HouseholdCategory(category).label}")
    return Assessment(include, category if include else None, [r for r in reasons if r])


def conclude_assessment(facts: dict[str, Any], include: Any, category: Any, category_reason: Any) -> dict[str, Any]:
    """形成认定意见: the facts plus the table's answer, as the ``assessment`` a diagram keeps."""
    assessment = assessment_from(include, category, category_reason, facts)
    return {**facts, "include": assessment.include, "category": assessment.category,
            "category_name": assessment.category_name, "explanation": assessment.explanation}


def classify(facts: dict[str, Any], tables: list[DiagramSource]) -> Assessment:
    """Apply the classification table among ``tables`` (the decision with a ``category`` output) to ``facts``,
    outside a case — e.g. for a publicity list drawn up before the county's decision."""
    decision_id = decision_with_output(tables, "category")
    result = decide(decision_id, {"facts": facts}, tables)
    missing = [name for name in OUTPUTS if name not in result]
    if missing:
        raise DecisionInvalid(f"决策表 {decision_id} 没有符合的规则（缺少输出 {'、'.join(missing)}）")
    return assessment_from(result["include"], result["category"], result["category_reason"], facts)
