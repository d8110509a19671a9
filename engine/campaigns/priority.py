"""Who to visit first in the concentrated screening (重点排查对象, 004 一(二)): priority groups are policy data
(``annual_campaign.priority_groups``), each a label, conditions on the household and, for its members, a list of
kinds each of which some member must show (one of its alternatives): e.g. [低保 or 大病 or 残疾] and [在校]."""
from __future__ import annotations

import logging
from datetime import date
from typing import Any

from sqlalchemy import select

from engine.core.db import db
from engine.core.errors import PolicyMissing
from engine.core.models import Household, Jurisdiction, Member
from engine.policy.parameters import resolve
from engine.policy.schemas import check_policy_value

KEY = "annual_campaign.priority_groups"
log = logging.getLogger(__name__)


def _member_shows(member: Member, condition: dict[str, Any]) -> bool:
    value = getattr(member, condition["field"], None)
    if "equals" in condition:
        return value == condition["equals"]
    if "contains" in condition:
        return value is not None and condition["contains"] in str(value)
    if "below" in condition:
        return value is not None and value < condition["below"]
    raise ValueError(f"优先排查条件 {condition} 应有 equals、contains 或 below")


def _in_group(household: Household, members: list[Member], group: dict[str, Any]) -> bool:
    if any(getattr(household, attr, None) != value for attr, value in group.get("household", {}).items()):
        return False
    return all(any(_member_shows(m, c) for m in members for c in kind) for kind in group.get("members", []))


def priority_groups(household_ids: list[int], place: Jurisdiction, on: date) -> dict[int, list[str]]:
    """The priority groups each household falls in (two statements for the households and their members); none
    where the value in force is not of the shape policy/schemas/priority_groups.json gives (a row saved before that
    was checked): logged, and the visits are listed without priority rather than the campaign page failing."""
    try:
        groups = resolve(KEY, place, on)
    except PolicyMissing:
        return {}
    problems = check_policy_value(KEY, groups)
    if problems:
        log.warning("%s in force for %s on %s is not usable, no priority groups: %s", KEY, place.code, on,
                    "；".join(problems))
        return {}
    households = {h.id: h for h in db.session.scalars(select(Household).where(Household.id.in_(household_ids)))}
    members: dict[int, list[Member]] = {}
    for member in db.session.scalars(select(Member).where(Member.household_id.in_(household_ids),
                                                          Member.lives_with_household.is_(True))):
        members.setdefault(member.household_id, []).append(member)
    return {hid: labels for hid, h in households.items()
            if (labels := [g["label"] for g in groups if _in_group(h, members.get(hid, []), g)])}
