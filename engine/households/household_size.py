"""The 家庭人口数 of a household's verification (入户核实, and the elimination's 乡镇审核（入户核实）): the members
who actually live together and share income and expenses, "不能简单以户籍人口为准，应结合共享收支、实际共同生活情况
综合考量" (001 Q16) — what the register counts (``Household.size``: the members who live with the household) and the task page prefills. The per-capita
income (A34, A38) is divided by it, so a verification that gives another number is refused at the field, naming
both numbers: the member change (家庭成员变更) is recorded first, so that the register says who lives with the
household, or the verification explains the difference in its 核实情况说明 — at an elimination too, where a size
too small would lift the income per head above the line. A form asks for this rule with
``"x-rules": ["household_size_of_the_register"]`` (engine.cases.form_rules)."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from engine.core.models import Household

log = logging.getLogger(__name__)

RULE = "household_size_of_the_register"  # the form rule (engine.cases.form_rules)
INCOME, SIZE = "income", "household_size"  # the form's group of income and its 家庭人口数
FIELD = f"{INCOME}.{SIZE}"  # the field a refusal names
EXPLANATION = "notes"  # the form's 核实情况说明


def given_size(data: Mapping[str, Any]) -> int | None:
    """The 家庭人口数 the form gives; None if it gives none (the form's schema requires it)."""
    income = data.get(INCOME)
    size = income.get(SIZE) if isinstance(income, Mapping) else None
    return size if isinstance(size, int) and not isinstance(size, bool) else None


def household_size_problems(data: Mapping[str, Any], household: Household | None) -> list[tuple[str, str]]:
    """Problems of the form's 家庭人口数, as ``(field, reason)``: none when it is the household's (its members who
    live with it), when the case has no household, or when the form's 核实情况说明 explains the difference."""
    given = given_size(data)
    if household is None or given is None or given == household.size:
        return []
    if str(data.get(EXPLANATION) or "").strip():
        log.info("household %s verified with %s members, %s registered: explained", household.id, given,
                 household.size)
        return []
    reason = (f"家庭人口数 {given} 人与农户登记中实际共同生活的成员 {household.size} 人不同：请先办理家庭成员变更，"
              "或在核实情况说明中写明原因（家庭人口数以实际共同生活、共享收支的成员为准）")
    return [(FIELD, reason)]
