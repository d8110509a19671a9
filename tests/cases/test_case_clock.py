"""A case's timers are due by the case's clock, never the system's: a message caught while a case waits at an
event-based gateway (the follow-up's "下月开始" or "风险消除或清退") must not fire the timer branch because the
system's time is past it. Found by tests/web/test_fresh_county_procedures.py: with a demo or file clock behind the
system's (a rehearsal, the demo, the tests), ending a household's follow-up (风险消除, 清退) between two visits gave it
next month's visit instead of ending it."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

import engine.core.clock
from engine.cases.lifecycle import open_correction, open_identification
from engine.core.db import db
from engine.core.models import Case, HumanTask
from engine.demo import drive_case
from engine.households.register import register_household
from tests.bdd.officials import household_data
from timers.calendar import to_local_date

pytestmark = pytest.mark.usefixtures("app")
SYSTEM_NOW = datetime(2030, 1, 1, tzinfo=UTC)  # years after every timer of the test


class _SystemAhead(datetime):
    """The system's time, far ahead of the case's clock."""

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        return SYSTEM_NOW.astimezone(tz) if tz is not None else SYSTEM_NOW.replace(tzinfo=None)


@pytest.fixture
def system_ahead(monkeypatch) -> None:
    monkeypatch.setattr(engine.core.clock, "datetime", _SystemAhead)


def test_a_removal_ends_a_follow_up_waiting_for_next_month_by_the_case_clock(clock, system_ahead):
    household = register_household(household_data("沙河村", "时钟户", 3), "shahe_cun", clock)
    identification = open_identification(household.id, "cadre_screening", to_local_date(clock.now()), "shahe_cun",
                                         clock)
    drive_case(identification.id, clock)
    followup = db.session.scalar(select(Case).filter_by(household_id=household.id, procedure="followup"))
    assert drive_case(followup.id, clock, until="每月回访") == [("每月回访", "village_cadre")]  # this month's visit
    db.session.refresh(followup)
    assert clock.now() < followup.next_wakeup_at < SYSTEM_NOW  # it waits for next month, or for its end

    correction = open_correction(household.id, "removal", "zhanggong_xian", clock)
    drive_case(correction.id, clock)  # the county asks, the city reviews, the province approves: removed

    db.session.expire_all()
    followup = db.session.get(Case, followup.id)
    assert followup.status == "completed" and followup.next_wakeup_at is None
    assert db.session.scalar(select(HumanTask).filter_by(case_id=followup.id, state="READY")) is None
