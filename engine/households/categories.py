"""Which category of monitored household (监测对象类别) a household may be given, by whether it is a 脱贫户 (A4):
a 脱贫不稳定户 is a 脱贫户 and a 边缘易致贫户 is a 一般农户 (001 Q3: “…被纳入监测帮扶的脱贫户”, “…的一般农户”;
002 收入指标说明 6–7; DOMAIN.md §1); a 突发严重困难户 may be either (001 Q10 “不论其原来是脱贫户还是一般农户”).
One rule wherever a category is given: the household import (engine.households.importing) and the county's
decision (县级审定, engine.identification.county_decision)."""
from __future__ import annotations

from engine.core.vocabulary import HouseholdCategory

NOT_FORMERLY_POOR = "脱贫不稳定户须为脱贫户"
FORMERLY_POOR = "边缘易致贫户是一般农户，脱贫户应为脱贫不稳定户（或突发严重困难户）"


def category_mismatch(category: str | None, formerly_poor: bool) -> str | None:
    """Why a household (a 脱贫户 if ``formerly_poor``) may not be ``category``, in words; None if it may (or no
    category is given)."""
    if category == HouseholdCategory.UNSTABLE and not formerly_poor:
        return NOT_FORMERLY_POOR
    if category == HouseholdCategory.MARGINAL and formerly_poor:
        return FORMERLY_POOR
    return None


def categories_for(formerly_poor: bool) -> list[HouseholdCategory]:
    """The categories a household (a 脱贫户 if ``formerly_poor``) may be given, in their order."""
    return [category for category in HouseholdCategory if category_mismatch(category.value, formerly_poor) is None]
