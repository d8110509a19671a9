"""Classification (监测对象类别认定) into the three categories, with the reason explained.

unstable 脱贫不稳定户 · marginal 边缘易致贫户 · sudden 突发严重困难户 (DOMAIN.md §1).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .income import IncomeFigures

CATEGORY_NAMES = {"unstable": "脱贫不稳定户", "marginal": "边缘易致贫户", "sudden": "突发严重困难户"}


@dataclass(frozen=True)
class Assessment:
    """The outcome of assessing a household: a category, or why it is not included."""

    include: bool
    category: str | None
    reasons: list[str] = field(default_factory=list)

    @property
    def category_name(self) -> str:
        return CATEGORY_NAMES.get(self.category or "", "不纳入")

    @property
    def explanation(self) -> str:
        return "；".join(self.reasons)


def classify(
    figures: IncomeFigures,
    line: Decimal,
    *,
    formerly_poor: bool,
    risk_types: list[str],
    guarantee_problems: list[str],
    exclusions: list[str],
) -> Assessment:
    """Apply the inclusion rules: exclusions first, then 三保障/water, then income against the line."""
    a34, a38 = figures.net_income_per_capita, figures.income_reference_per_capita
    income = f"人均纯收入（A34）{a34} 元，人均收入参考范围（A38）{a38} 元，监测范围 {line} 元"
    if exclusions:
        return Assessment(False, None, ["属于原则上不纳入情形：" + "、".join(exclusions)])
    within = a34 <= line
    ordinary_category = "unstable" if formerly_poor else "marginal"
    if guarantee_problems:
        category = ordinary_category if within else "sudden"
        reason = f"存在{'、'.join(guarantee_problems)}问题，自身无法解决"
        return Assessment(True, category, [income, reason, f"认定为{CATEGORY_NAMES[category]}"])
    if not risk_types:
        return Assessment(False, None, [income, "收入稳定、无返贫致贫风险，不纳入，持续跟踪关注"])
    if within:
        kind = "脱贫户" if formerly_poor else "一般农户"
        return Assessment(
            True, ordinary_category, [income, f"{kind}人均纯收入不高于监测范围且存在风险",
                                      f"认定为{CATEGORY_NAMES[ordinary_category]}"]
        )
    if a38 <= line:
        return Assessment(
            True, "sudden", [income, "收入高于监测范围，但刚性支出较大或收入大幅缩减，基本生活出现严重困难",
                             "认定为突发严重困难户"]
        )
    return Assessment(False, None, [income, "人均纯收入和收入参考范围均高于监测范围，不纳入"])
