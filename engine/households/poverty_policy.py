"""脱贫人口分类管理 (004 一(三)): whether a formerly poor household still enjoys the poverty policies (脱贫享受政策)
or is marked 脱贫不再享受政策 — by the criteria and exceptions of 004 附件2, which the procedure's form lists
(forms/poverty_policy_check.json) and its decision table weighs (processes/poverty_policy_status.dmn)."""
from __future__ import annotations

from datetime import date

from engine.bpmn.forms import load_form
from engine.core.errors import RuleViolation
from engine.core.models import Household

CHECK_FORM = "poverty_policy_check.json"


def _names(field: str) -> dict[str, str]:
    spec = load_form(CHECK_FORM)["properties"][field]
    return dict(zip(spec["items"]["enum"], spec.get("enumNames", []), strict=False))


def describe_items(criteria: list[str], exceptions: list[str]) -> str:
    """The ticked criteria and exceptions by their names (for the reason and the household's notice)."""
    found = [f"认定情形：{'；'.join(_names('criteria').get(c, c) for c in criteria)}"] if criteria else []
    if exceptions:
        found.append(f"例外情形：{'；'.join(_names('exceptions').get(e, e) for e in exceptions)}")
    return "。".join(found) or "未勾选任何情形"


def check_can_start(household: Household) -> None:
    """Only a formerly poor household still enjoying the policies is classified."""
    if not household.is_formerly_poor or not household.enjoys_poverty_policy:
        raise RuleViolation(f"户 {household.number} 不是脱贫享受政策户，无需认定是否不再享受政策")


def mark_not_enjoying(household: Household, on: date) -> None:
    """The household no longer enjoys the poverty policies (脱贫不再享受政策) from ``on``."""
    household.enjoys_poverty_policy = False


def mark_enjoying(household: Household) -> None:
    """The household is managed as a 脱贫享受政策户 (003 六（二）: a 脱贫不稳定户 whose risk of falling back is
    eliminated); RuleViolation for a household that is not formerly poor."""
    if not household.is_formerly_poor:
        raise RuleViolation(f"户 {household.number} 不是脱贫户，不能作为脱贫享受政策户管理")
    household.enjoys_poverty_policy = True


def status_label(household: Household) -> str:
    """是否脱贫户 with the policy status: 否, 是（享受政策）or 是（不再享受政策）."""
    if not household.is_formerly_poor:
        return "否"
    return "是（享受政策）" if household.enjoys_poverty_policy else "是（不再享受政策）"


def household_kind(household: Household) -> str:
    """一般农户, 脱贫户（享受政策）or 脱贫户（不再享受政策）, as pages show it."""
    return "一般农户" if not household.is_formerly_poor else f"脱贫户{status_label(household)[1:]}"
