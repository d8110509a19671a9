"""Rules a task's data must meet beyond its JSON Schema (领域校验), checked before the task is completed;
each problem names the field, as a schema error would."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.core.errors import FormInvalid
from engine.core.models import Case
from engine.households.measures import check_plan

RULES: dict[str, Callable[[dict[str, Any], Case], list[tuple[str, str]]]] = {
    "assistance_plan.json": lambda data, case: check_plan(data, case.household.risk_types or []),
    "green_channel_entry.json": lambda data, case: check_plan(data, case.household.risk_types or []),
}


def install_rules(rules: dict[str, Callable[[dict[str, Any], Case], list[tuple[str, str]]]]) -> None:
    """Rules of the packages above this one (department warnings), installed by the composition roots."""
    RULES.update(rules)


def check_form_rules(form: str, data: dict[str, Any], case: Case) -> None:
    rule = RULES.get(form)
    problems = rule(data, case) if rule else []
    if problems:
        raise FormInvalid(form, problems)
