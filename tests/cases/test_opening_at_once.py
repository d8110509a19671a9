"""One case at a time for a household (一户一办) however many officials submit at the same moment: a double click,
two cadres, the household applying on line while the village opens its case. The first opens the case; every
other is refused with the engine's words, as if it had come a moment later."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.cases.lifecycle import open_green_channel, open_identification
from engine.core.db import db
from engine.core.models import Case
from engine.households.register import register_household
from tests.bdd.officials import household_data
from tests.concurrency import open_at_once


def _household(clock, head: str) -> int:
    household_id = register_household(household_data("沙河村", head, 2), "shahe_cun", clock).id
    db.session.commit()  # the test's own session holds no transaction while the officials work
    return household_id


def _running(household_id: int) -> list[tuple[str, str]]:
    db.session.expire_all()
    return [(c.procedure, c.status) for c in db.session.scalars(select(Case).filter_by(household_id=household_id))]


def _check(results: list[str], household_id: int, procedure: str, refusal: str) -> None:
    assert sorted(r.split(":")[0] for r in results) == ["ok", "refused", "refused"], results
    assert all(refusal in r for r in results if r.startswith("refused")), results
    assert _running(household_id) == [(procedure, "running")]


@pytest.fixture(params=["sqlite", "postgresql"])
def any_app(request):
    return request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")


def test_three_identifications_of_one_household_at_once_open_one_case(any_app, clock, monkeypatch):
    household_id = _household(clock, "同时甲")
    results = open_at_once(any_app, monkeypatch, lambda: open_identification(
        household_id, "cadre_screening", date(2026, 9, 19), "shahe_cun", clock))
    _check(results, household_id, "identification", "已有未办结的识别申请")


def test_three_green_channels_of_one_household_at_once_open_one_case(any_app, clock, monkeypatch):
    household_id = _household(clock, "同时乙")
    results = open_at_once(any_app, monkeypatch, lambda: open_green_channel(household_id, "shahe_cun", clock))
    _check(results, household_id, "green_channel", "绿色通道")
