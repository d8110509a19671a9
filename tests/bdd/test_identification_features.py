"""features/identification.feature (识别纳入) against the real engine and diagrams."""
from datetime import date

from pytest_bdd import parsers, scenarios, then, when

from engine.core.errors import FangpinError
from engine.core.vocabulary import HouseholdCategory
from tests.bdd.officials import household_named
from tests.bdd.steps import *
from tests.bdd.steps import _case, _complete, _task

scenarios("identification.feature")


@then(parsers.parse('"{head}" 户的识别日期为 {day}'))
def identified_on(head: str, day: str) -> None:
    assert household_named(head).identified_on == date.fromisoformat(day)


def _county_decides(world, clock, category: str, reason: str) -> None:
    """县级审定 approved with the county's category (by its name) and 理由; a refusal is kept for the next step."""
    code = {label: code for code, label in HouseholdCategory.labels().items()}[category]
    world.pop("refused", None)
    try:
        _complete(world, clock, _task(_case(world), "县级审定"),
                  {"decision": "approve", "county_category": code, "reason": reason}, "县级干部")
    except FangpinError as exc:
        world["refused"] = str(exc)


@when(parsers.parse('县级干部审定通过，改定类别为 "{category}"，理由 "{reason}"'))
def county_changes_category(world, clock, category: str, reason: str) -> None:
    _county_decides(world, clock, category, reason)


@when(parsers.parse('县级干部审定通过，改定类别为 "{category}"，不写理由'))
def county_changes_category_without_reason(world, clock, category: str) -> None:
    _county_decides(world, clock, category, "")
