"""Helpers for the feature steps: officials by role and place, households, default form data."""
from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from sqlalchemy import select

from engine.db import db
from engine.models import Case, Household, Jurisdiction, User
from engine.roles import all_roles

ROLE_WORDS = {
    "村干部": "village_cadre", "乡镇干部": "township_officer", "镇干部": "township_officer",
    "县级干部": "county_officer", "区级干部": "county_officer", "市扶贫办": "county_officer",
}  # fmt: skip
VILLAGES = {"沙河村": "360702101201", "华坪村": "360702101202", "诸由观村": "370681104201", "新华村": "210321100201"}
_ids = itertools.count(1)


def official(role_word: str, case: Case) -> User:
    """The demo login holding ``role_word``'s role at the case's level."""
    role = all_roles()[ROLE_WORDS[role_word]]
    place = case.jurisdiction.ancestor_at(role.level)
    users = db.session.scalars(select(User).filter_by(jurisdiction_id=place.id))
    return next(u for u in users if role.key in u.roles)


def village(name: str) -> Jurisdiction:
    return db.session.scalar(select(Jurisdiction).filter_by(code=VILLAGES[name]))


def household_data(village_name: str, head: str, size: int, **extra: Any) -> dict[str, Any]:
    code = VILLAGES[village_name]
    members = [{"name": head, "relation_to_head": "户主", "id_number": _id_number(code)}]
    members += [{"name": f"{head}家属{i}", "relation_to_head": "其他", "id_number": _id_number(code)}
                for i in range(1, size)]
    return {"village": code, "members": members, **extra}


def _id_number(code: str) -> str:
    return f"{code[:6]}1980{next(_ids):08d}"


def household_named(head: str) -> Household:
    from engine.models import Member

    return db.session.scalar(select(Household).join(Member).where(Member.name == head, Member.relation_to_head == "户主"))


def default_form(form: str, today: date) -> dict[str, Any]:
    """Plausible, valid data for each form (a step may override fields)."""
    d = today.isoformat()
    return {
        "identification_apply.json": {"applied_on": d, "all_members_signed": True, "risk_description": "户主因病住院",
                                      "risk_types": ["illness"]},
        "household_verification.json": {
            "verified_on": d, "risk_types": ["illness"], "exclusions": [], "guarantees": {},
            "income": {"household_size": 3, "wages": 12000, "business_income": 3000, "property_income": 0,
                       "transfer_income": 600, "business_expenses": 600}},
        "democratic_appraisal.json": {"appraised_on": d, "participants": 15, "decision": "approve"},
        "post_publicity.json": {"posted_on": d, "place": "村务公开栏"},
        "verify_objection.json": {"verified_on": d, "objection_finding": "dismissed", "reason": "经核实，异议不成立"},
        "review_decision.json": {"reviewed_on": d, "visited": True, "decision": "approve"},
        "information_comparison.json": {"compared_on": d, "decision": "approve"},
        "county_approval.json": {"decided_on": d, "decision": "approve"},
        "announcement.json": {"announced_on": d},
        "assistance_plan.json": {"responsible_person": "王帮扶", "plan_publicized_on": d,
                                 "measures": [{"category": "产业帮扶", "item": "种植业"}]},
        "system_entry.json": {"entered_on": d},
    }[form]
