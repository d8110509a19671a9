"""Key attention (重点关注, engine.households.attention): a household found within the monitoring range but stable
and without risk (001 Q12, 000 名词解释 5) is not monitored but kept as key attention with the date and the reason;
it is listed for the monthly visits (page and ledger); one above the range without risk goes back to ordinary;
becoming monitored ends it."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.cases.lifecycle import open_identification
from engine.core.db import db
from engine.core.models import Household, User
from engine.demo import drive_case
from engine.households.attention import key_attention_households
from engine.households.ledger import ledger_rows
from engine.households.register import register_household
from tests.bdd.officials import household_data
from tests.webclient import login
from timers.calendar import to_local_date


def _verification(wages: int, exclusions: list[str]) -> dict:
    income = {"household_size": 2, "wages": wages, "business_income": 0, "property_income": 0,
              "transfer_income": 0, "business_expenses": 0}
    return {"household_verification.json": {"income": income, "risk_types": [], "exclusions": exclusions,
                                            "guarantees": {}}}


def _identified(clock, head: str, wages: int, exclusions: list[str]) -> Household:
    household = register_household(household_data("沙河村", head, 2), "shahe_cun", clock)
    case = open_identification(household.id, "cadre_screening", date(2026, 9, 20), "shahe_cun", clock)
    drive_case(case.id, clock, data=_verification(wages, exclusions))
    db.session.expire_all()
    return db.session.get(Household, household.id)


@pytest.mark.usefixtures("app")
def test_within_the_range_but_stable_without_risk_is_kept_as_key_attention(clock):
    stable = _identified(clock, "稳定户", 6000, ["stable_no_risk"])  # 3 000 a head, the range 7 800
    assert stable.status == "key_attention" and stable.attention_since == to_local_date(clock.now())
    assert "收入在监测范围内但收入稳定" in stable.attention_reason
    (entry,) = [e for e in key_attention_households(stable.village) if e.household.id == stable.id]
    assert entry.since == stable.attention_since and entry.reason == stable.attention_reason
    (row,) = [r for r in ledger_rows(stable.village) if r.household_id == stable.id]
    assert row.status.startswith(f"重点关注（{stable.attention_since}起：") and row.category == ""


@pytest.mark.usefixtures("app")
def test_above_the_range_without_risk_goes_back_to_ordinary(clock):
    well_off = _identified(clock, "宽裕户", 80000, ["high_income_self_solvable"])
    assert well_off.status == "ordinary" and well_off.attention_since is None
    assert not [e for e in key_attention_households(well_off.village) if e.household.id == well_off.id]


@pytest.mark.usefixtures("app")
def test_becoming_monitored_ends_key_attention(clock):
    household = _identified(clock, "后来纳入户", 6000, ["stable_no_risk"])
    case = open_identification(household.id, "cadre_screening", to_local_date(clock.now()), "shahe_cun", clock)
    drive_case(case.id, clock)  # the sample data: within the range, with a risk
    db.session.expire_all()
    household = db.session.get(Household, household.id)
    assert household.status == "monitored" and household.attention_since is None and household.attention_reason is None


def test_the_village_sees_its_key_attention_households_and_no_private_data(web_app, client, clock):
    with web_app.app_context():
        stable = _identified(clock, "走访户", 6000, ["stable_no_risk"])
        number, id_number = stable.number, stable.head.id_number
    page = login(client, "shahe_cun").get("/households/attention").get_data(as_text=True)
    assert number in page and "走访户" in page and "收入在监测范围内但收入稳定" in page and id_number not in page
    other = web_app.test_client()
    assert "走访户" not in login(other, "zhuyouguan_cun").get("/households/attention").get_data(as_text=True)
    assert login(web_app.test_client(), "zhanggong_yibao").get("/households/attention").status_code == 403
    with web_app.app_context():
        assert db.session.scalar(select(User).filter_by(username="zhanggong_yibao")).roles == ["department_officer"]
