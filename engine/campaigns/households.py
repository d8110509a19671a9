"""One case per household of chosen villages (每户一案): the yearly campaign's collection-and-screening cases and the
area screening's visits are opened the same way — every household of the villages, in household-number order, each
on the diagram and policy in force for its village today (resolved once per village)."""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import contains_eager

from engine.cases.lifecycle import open_case
from engine.core.clock import Clock
from engine.core.db import db
from engine.core.models import Household, Jurisdiction
from engine.core.vocabulary import JurisdictionLevel
from engine.policy.check import StartPolicy, start_policy
from timers.calendar import to_local_date

log = logging.getLogger(__name__)


def open_household_cases(procedure: str, villages: ColumnElement[bool], reference: str, data: dict[str, Any],
                         actor: str, clock: Clock, channel: str = "monitoring") -> int:
    """Open ``procedure`` for every household of the villages ``villages`` selects (a condition on
    :class:`Jurisdiction`), inside the caller's transaction; each case's reference is ``<reference>:<household id>``
    and ``data`` is added to its start data. Returns how many were opened."""
    households = list(db.session.scalars(
        select(Household).join(Household.village).options(contains_eager(Household.village))
        .where(villages, Jurisdiction.level == JurisdictionLevel.VILLAGE).order_by(Household.number)))
    today = to_local_date(clock.now())
    policies: dict[int, StartPolicy] = {}
    for household in households:
        village = household.village
        if village.id not in policies:
            policies[village.id] = start_policy(procedure, village, today)
        open_case(procedure, village, actor, clock, household=household, channel=channel, lead_date=today,
                  reference=f"{reference}:{household.id}", data=data, needs=policies[village.id])
    log.info("%s: opened %s %s cases", reference, len(households), procedure)
    return len(households)
