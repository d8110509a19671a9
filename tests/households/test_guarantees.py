"""三保障 findings carried (engine.households.guarantees): unsafe housing (A23) or a member without basic medical
insurance (A26) found at household verification is kept on the household — its information form says 是, the ledger
names it, the elimination evaluation refuses — until a later verification clears it; each change is audited. A26 is
also what the members' own A17 says."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.cases.lifecycle import open_identification
from engine.core.db import db
from engine.core.models import AuditEvent, Household
from engine.demo import drive_case
from engine.elimination.eligibility import assess
from engine.households.guarantees import record_verified_guarantees
from engine.households.information_form import information_form
from engine.households.ledger import ledger_rows
from engine.households.register import register_household
from tests.bdd.officials import household_data
from timers.calendar import to_local_date

pytestmark = pytest.mark.usefixtures("app")
UNSAFE_HOUSING = {"household_verification.json": {"guarantees": {"housing_unsafe": True}}}


def _a23(household: Household) -> str:
    fields = [f for section in information_form(household) for f in section.fields]
    return next(f.value for f in fields if f.code == "A23")


def _verified(clock, data: dict, until: str | None = "入户核实") -> Household:
    household = register_household(household_data("沙河村", "危房户", 2), "shahe_cun", clock)
    case = open_identification(household.id, "cadre_screening", date(2026, 9, 20), "shahe_cun", clock)
    drive_case(case.id, clock, until=until, data=data)
    db.session.expire_all()
    return db.session.get(Household, household.id)


def test_unsafe_housing_found_at_verification_is_on_the_form_the_ledger_and_blocks_elimination(clock):
    household = _verified(clock, UNSAFE_HOUSING, until=None)  # identified, monitored
    assert household.status == "monitored" and household.housing_unsafe and _a23(household) == "是"
    (row,) = [r for r in ledger_rows(household.village) if r.household_id == household.id]
    assert row.guarantee_problems == "住房安全"
    check = next(c for c in assess(household, to_local_date(clock.now())).checks if "三保障" in c.name)
    assert not check.passed and check.detail == "住房安全未保障"
    entry = db.session.scalar(select(AuditEvent).filter_by(household_id=household.id, action="guarantees_verified"))
    assert entry.detail == {"changed": {"housing_unsafe": True}, "problems": ["住房安全"]}


def test_a_later_verification_that_finds_the_house_safe_clears_it(clock):
    household = _verified(clock, {})
    assert not household.housing_unsafe and _a23(household) == "否"
    household.housing_unsafe = True  # registered as unsafe; the verification found it safe:
    db.session.commit()
    other = register_household(household_data("沙河村", "复核户", 2), "shahe_cun", clock)
    case = open_identification(other.id, "cadre_screening", date(2026, 9, 20), "shahe_cun", clock)
    drive_case(case.id, clock, until="入户核实")
    db.session.expire_all()
    assert not db.session.get(Household, other.id).housing_unsafe
    assert db.session.get(Household, household.id).housing_unsafe  # another household's finding changes nothing here


def _a26(household: Household) -> str:
    fields = [f for section in information_form(household) for f in section.fields]
    return next(f.value for f in fields if f.code == "A26")


UNINSURED = {"household_verification.json": {"guarantees": {"no_basic_medical_insurance": True}}}


def test_a_member_found_without_basic_medical_insurance_is_carried_until_a_later_verification_clears_it(clock):
    household = _verified(clock, UNINSURED, until=None)  # every member's A17 says insured; the verification did not
    assert not household.no_basic_medical_insurance  # (A17 alone)
    assert household.status == "monitored" and _a26(household) == "是"
    (row,) = [r for r in ledger_rows(household.village) if r.household_id == household.id]
    assert row.guarantee_problems == "基本医疗保险"
    check = next(c for c in assess(household, to_local_date(clock.now())).checks if "三保障" in c.name)
    assert not check.passed and check.detail == "基本医疗保险未保障"
    entry = db.session.scalar(select(AuditEvent).filter_by(household_id=household.id, action="guarantees_verified"))
    assert entry.detail == {"changed": {"no_basic_medical_insurance": True}, "problems": ["基本医疗保险"]}

    changed = record_verified_guarantees(household, {}, at=clock.now(), by="shahe_zhen", case_id=None)  # later: insured
    db.session.commit()
    assert changed == {"no_basic_medical_insurance": False} and _a26(household) == "否"
    assert next(c for c in assess(household, to_local_date(clock.now())).checks if "三保障" in c.name).passed
    assert record_verified_guarantees(household, {}, at=clock.now(), by="shahe_zhen", case_id=None) == {}


def test_a_member_whose_own_record_says_uninsured_keeps_a26_whatever_a_verification_ticks(clock):
    household = _verified(clock, {})  # the verification ticked nothing
    household.members[1].medical_insurance = False  # A17 of one member (registration, member change)
    db.session.commit()
    assert _a26(household) == "是"
    check = next(c for c in assess(household, to_local_date(clock.now())).checks if "三保障" in c.name)
    assert not check.passed and check.detail == "基本医疗保险未保障"
