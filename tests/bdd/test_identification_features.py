"""features/identification.feature (识别纳入) against the real engine and diagrams."""
from datetime import date

from pytest_bdd import parsers, scenarios, then
from sqlalchemy import select

from engine.cases.lifecycle import case_history
from engine.cases.views import timeline
from engine.core.db import db
from engine.core.models import IncomeRecord
from tests.bdd.officials import household_named
from tests.bdd.steps import *
from tests.bdd.steps import _case

scenarios("identification.feature")


@then(parsers.parse("本案入户核实的收入计算区间为 {start} 至 {end}"))
def income_window_is(world, start: str, end: str) -> None:
    (record,) = db.session.scalars(select(IncomeRecord).filter_by(case_id=_case(world).id))
    db.session.refresh(record)
    assert (record.window_start, record.window_end) == (date.fromisoformat(start), date.fromisoformat(end))


@then(parsers.parse('"{head}" 户的识别日期为 {day}'))
def identified_on(head: str, day: str) -> None:
    assert household_named(head).identified_on == date.fromisoformat(day)


@then(parsers.parse('办理记录中有 "{title}"：{text}'))
def timeline_says(world, title: str, text: str) -> None:
    entries = [(e.title, e.text) for e in timeline(case_history(_case(world).id).events)]
    assert (title, text) in entries, entries
