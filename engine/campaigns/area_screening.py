"""Area screening after a disaster (区域性、规模性返贫风险排查, 000 二(三), 003 二(三)): after a flood, an epidemic, a
price collapse, mass unemployment or a failed village industry, a county officer starts a screening of the villages
hit; every household there gets a visit with its own short limit (policy data ``area_visit.visit_days``), and the
county assesses the scale-level risk (``area_screening.assessment_days``)."""
from __future__ import annotations

from sqlalchemy import select

from engine.campaigns.households import open_household_cases
from engine.cases.lifecycle import open_case
from engine.core.clock import Clock
from engine.core.db import db
from engine.core.errors import RuleViolation
from engine.core.models import Case, Jurisdiction
from engine.core.vocabulary import JurisdictionLevel, Procedure
from timers.calendar import to_local_date

CAUSE_LIMIT = 200


def area_screenings(county: Jurisdiction) -> list[Case]:
    """The area screenings (区域性返贫风险排查) of ``county``, newest first."""
    return list(db.session.scalars(select(Case).where(Case.procedure == Procedure.AREA_SCREENING,
                                                      Case.jurisdiction_path.startswith(county.path))
                                   .order_by(Case.id.desc())))


def start_area_screening(county: Jurisdiction, village_codes: list[str], cause: str, actor: str,
                         clock: Clock) -> Case:
    """The county's screening of ``village_codes`` (in the county) after ``cause`` (inside the caller's
    transaction)."""
    cause = cause.strip()[:CAUSE_LIMIT]
    if county.level != JurisdictionLevel.COUNTY:
        raise RuleViolation(f"区域性返贫风险排查由县级启动，{county.full_name} 不是县级")
    if not cause:
        raise RuleViolation("cause: 请写明启动排查的原因（灾害、疫情、价格下跌等）")
    villages = list(db.session.scalars(select(Jurisdiction).where(Jurisdiction.code.in_(village_codes),
                                                                  Jurisdiction.level == JurisdictionLevel.VILLAGE)))
    if not villages or len(villages) != len(set(village_codes)):
        raise RuleViolation("villages: 请选择本县的受灾（受影响）村")
    outside = [v.full_name for v in villages if not county.contains(v)]
    if outside:
        raise RuleViolation(f"villages: {'、'.join(outside)} 不在 {county.full_name}")
    today = to_local_date(clock.now())
    names = "、".join(v.name for v in sorted(villages, key=lambda v: v.code))
    screening = {"cause": cause, "villages": sorted(v.code for v in villages), "started_on": today.isoformat()}
    return open_case(Procedure.AREA_SCREENING, county, actor, clock, lead_date=today,
                     subject=f"{cause}：{names} 区域性返贫风险排查", reference=f"area_screening:{county.code}:{today}",
                     application={"screening": screening}, data={"screening": screening})


def open_area_visits(screening: Case, village_codes: list[str], data: dict, actor: str, clock: Clock) -> int:
    """One visit per household of the chosen villages."""
    return open_household_cases(Procedure.AREA_VISIT, Jurisdiction.code.in_(village_codes), f"area_visit:{screening.id}",
                                {"screening": data}, actor, clock)
