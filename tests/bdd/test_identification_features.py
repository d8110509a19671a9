"""features/identification.feature (识别纳入) against the real engine and diagrams."""
from datetime import date

from pytest_bdd import parsers, scenarios, then

from tests.bdd.officials import household_named
from tests.bdd.steps import *

scenarios("identification.feature")


@then(parsers.parse('"{head}" 户的识别日期为 {day}'))
def identified_on(head: str, day: str) -> None:
    assert household_named(head).identified_on == date.fromisoformat(day)
