"""The category the county decides (县级审定: the form's ``county_category``, empty to adopt the decision table's):
only one the household may be given — 脱贫不稳定户 only for a 脱贫户, 边缘易致贫户 only for a 一般农户
(engine.households.categories, the rule the household import applies) — and, when it differs from the category
the decision table computed (the diagram's ``assessment``, engine.identification.classification), with the
reason for the change written in the form's 理由: the announcement prints the county's category. The form asks for
this rule (``"x-rules": ["county_category"]``, engine.cases.form_rules)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.core.models import Household
from engine.core.vocabulary import HouseholdCategory
from engine.households.categories import categories_for, category_mismatch
from engine.households.poverty_policy import household_kind

RULE = "county_category"  # the form rule (engine.cases.form_rules)
CATEGORY, REASON = "county_category", "reason"  # the form's fields
ASSESSMENT = "assessment"  # what the diagram keeps of the decision table's answer (形成认定意见)


def computed_category(step: Mapping[str, Any]) -> str | None:
    """The category the decision table computed, as the workflow holds it at the county's step; None if none."""
    assessment = step.get(ASSESSMENT)
    return assessment.get("category") if isinstance(assessment, Mapping) else None


def county_category_problems(data: Mapping[str, Any], household: Household | None,
                             computed: str | None) -> list[tuple[str, str]]:
    """Problems of the category the county chose, as ``(field, reason)``: none if it chose none (the computed one
    is adopted)."""
    chosen = data.get(CATEGORY)
    if not chosen:
        return []
    problems = []
    if household is not None and (mismatch := category_mismatch(chosen, household.is_formerly_poor)):
        offered = "、".join(category.label for category in categories_for(household.is_formerly_poor))
        kind = household_kind(household)
        problems.append((CATEGORY, f"{mismatch}：本户是{kind}，可认定为{offered}，或留空采用测算结果"))
    if computed and chosen != computed and not str(data.get(REASON) or "").strip():
        chosen_name, computed_name = HouseholdCategory.label_of(chosen), HouseholdCategory.label_of(computed)
        problems.append((REASON, f"认定类别{chosen_name}与决策表测算结果{computed_name}不同：请在理由中写明改定类别的依据"))
    return problems
