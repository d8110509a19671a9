"""Helpers for the feature steps: officials by role and place, households, default form data."""
from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import select

from engine.core.db import db
from engine.core.id_numbers import with_check_character
from engine.core.models import Household, Jurisdiction

ROLE_WORDS = {
    "村干部": "village_cadre", "乡镇干部": "township_officer", "镇干部": "township_officer",
    "县级干部": "county_officer", "区级干部": "county_officer", "市扶贫办": "county_officer",
    "市级干部": "city_officer", "省级干部": "province_officer",
}  # fmt: skip
VILLAGES = {"沙河村": "360702101201", "华坪村": "360702101202", "诸由观村": "370681104201", "新华村": "210321100201"}
_ids = itertools.count(1)


def village(name: str) -> Jurisdiction:
    return db.session.scalar(select(Jurisdiction).filter_by(code=VILLAGES[name]))


def household_data(village_name: str, head: str, size: int, away: int = 0, **extra: Any) -> dict[str, Any]:
    """A registration of ``size`` members, the last ``away`` of them not living with the household (实际共同生活)."""
    code = VILLAGES[village_name]
    members = [{"name": head, "relation_to_head": "户主", "id_number": _id_number(code)}]
    members += [{"name": f"{head}家属{i}", "relation_to_head": "其他", "id_number": _id_number(code)}
                for i in range(1, size)]
    for member in members[size - away:] if away else []:
        member["lives_with_household"] = False
    return {"village": code, "members": members, **extra}


def _id_number(code: str) -> str:
    return with_check_character(f"{code[:6]}1980{next(_ids):07d}")


def household_named(head: str) -> Household:
    from engine.core.models import Member

    return db.session.scalar(select(Household).join(Member).where(Member.name == head, Member.relation_to_head == "户主"))
