"""The 2 % alert (风险未消除监测对象占比预警, Jiangxi 001 Q40): in a township or village, unresolved monitored
persons — members living with households that are monitored and whose risk is not eliminated, EXCLUDING
whole-household social-guarantee households (兜底保障户) — above 2 % of the rural registered population
(农村户籍人口) need a ledger and close follow-up. A place without population data is reported as missing,
never estimated."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select

from engine.core.db import db
from engine.core.errors import PolicyMissing
from engine.core.models import Household, Jurisdiction, Member
from engine.core.vocabulary import HouseholdStatus, JurisdictionLevel
from engine.policy.parameters import resolve, resolve_each

ALERT_KEY = "monitoring.alert_percent"  # policy data: 2 for Jiangxi (001 Q40 "超过2%"); exactly 2 % does not alert
RATIO_LEVELS = (JurisdictionLevel.TOWNSHIP, JurisdictionLevel.VILLAGE)
MISSING = "人口数据缺失"


@dataclass(frozen=True)
class RatioRow:
    """One township or village: unresolved monitored persons (numerator) over the rural population."""

    code: str
    name: str
    level: str
    path: str
    numerator: int
    population: int | None
    alert_percent: Decimal | None = None  # None: no alert threshold configured for this place

    @property
    def population_missing(self) -> bool:
        return not self.population  # None, or 0 (which cannot be a real registered population)

    @property
    def ratio(self) -> Decimal | None:
        """numerator / population, 6 decimals; None when the population is missing."""
        if self.population_missing:
            return None
        return (Decimal(self.numerator) / Decimal(self.population)).quantize(Decimal("0.000001"), ROUND_HALF_UP)

    @property
    def alert(self) -> bool:
        """Strictly above the threshold (2 %), computed exactly (no rounding at the bound)."""
        if self.population_missing or self.alert_percent is None:
            return False
        return self.numerator * 100 > self.alert_percent * self.population

    @property
    def percent_text(self) -> str:
        return MISSING if self.ratio is None else f"{self.ratio * 100:.2f}%"


def unresolved_persons_by_village(jurisdiction: Jurisdiction) -> dict[str, int]:
    """Village path → members living with monitored, non-兜底 households, at or below ``jurisdiction``."""
    query = (
        select(Jurisdiction.path, func.count(Member.id))
        .select_from(Member).join(Household, Member.household_id == Household.id)
        .join(Jurisdiction, Household.village_id == Jurisdiction.id)
        .where(Household.status == HouseholdStatus.MONITORED, Household.social_guarantee.is_(False),
               Member.lives_with_household.is_(True), Jurisdiction.path.startswith(jurisdiction.path))
        .group_by(Jurisdiction.path)
    )
    return {path: count for path, count in db.session.execute(query)}


def alert_percent(place: Jurisdiction, on: date) -> Decimal | None:
    """The alert threshold in force for ``place`` (policy data), or None where none is configured."""
    try:
        return _percent(resolve(ALERT_KEY, place, on))
    except PolicyMissing:
        return None


def _percent(value) -> Decimal:
    return Decimal(str(value))


def monitoring_ratios(jurisdiction: Jurisdiction, on: date) -> list[RatioRow]:
    """Every township and village at or below ``jurisdiction`` (tree order) with its ratio and the alert
    threshold in force on ``on``."""
    places = list(db.session.scalars(
        select(Jurisdiction).where(Jurisdiction.path.startswith(jurisdiction.path),
                                   Jurisdiction.level.in_(RATIO_LEVELS)).order_by(Jurisdiction.path)
    ))
    thresholds = {place_id: _percent(value) for place_id, value in resolve_each(ALERT_KEY, places, on).items()}
    totals: Counter[str] = Counter()
    for path, count in unresolved_persons_by_village(jurisdiction).items():
        parts = path.strip("/").split("/")
        for depth in range(1, len(parts) + 1):  # the village and every place above it
            totals["/" + "/".join(parts[:depth]) + "/"] += count
    return [RatioRow(p.code, p.name, p.level, p.path, totals[p.path], p.rural_population, thresholds.get(p.id))
            for p in places]
