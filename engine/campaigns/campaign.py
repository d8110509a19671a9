"""A township's yearly campaign (年度信息采集和集中排查): opening it, the per-household cases it opens, and its progress
by village — collected, screened, entered, overdue — with the days left to the entry deadline and the system's
closing (set-based queries)."""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from engine.campaigns.priority import priority_groups
from engine.cases.lifecycle import open_case
from engine.core.clock import Clock
from engine.core.db import db
from engine.core.errors import RuleViolation
from engine.core.models import Case, Household, HumanTask, Jurisdiction, Member
from engine.core.vocabulary import Procedure
from engine.policy.check import start_policy
from engine.policy.parameters import resolve
from timers.calendar import to_local_date

log = logging.getLogger(__name__)

VISIT_STEP, ENTRY_STEP = "cl_visit", "cl_entry"  # the collection diagram's task ids (processes/annual_collection)


def campaign_reference(township: Jurisdiction, year: int) -> str:
    return f"annual_campaign:{township.code}:{year}"


def campaign_dates(place: Jurisdiction, year: int) -> dict[str, str]:
    """The year's income window, moment and deadlines from policy data (004: 10-01 of the year before to 09-30,
    state at 09-30 24:00, entry by 12-08, system closes 12-31)."""
    on = date(year, 12, 1)
    window = resolve("annual_campaign.window", place, on)
    return {"year": year, "window_start": f"{year - 1}-{window['start']}", "window_end": f"{year}-{window['end']}",
            "moment": f"{year}-{resolve('annual_campaign.moment', place, on)}",
            "entry_by": f"{year}-{resolve('annual_campaign.entry_by', place, on)}",
            "closes": f"{year}-{resolve('annual_campaign.system_closes', place, on)}"}


def open_campaign(township: Jurisdiction, year: int, actor: str, clock: Clock) -> Case:
    """The township's campaign of ``year`` (inside the caller's transaction); once per township and year."""
    if township.level != "township":
        raise RuleViolation(f"年度信息采集和集中排查由乡镇（街道）开展，{township.full_name} 不是乡镇")
    reference = campaign_reference(township, year)
    if db.session.scalar(select(Case.id).filter_by(reference=reference)) is not None:
        raise RuleViolation(f"{township.name} {year} 年度信息采集和集中排查已开启")
    return open_case(Procedure.ANNUAL_CAMPAIGN, township, actor, clock, lead_date=to_local_date(clock.now()),
                     subject=f"{township.name} {year} 年度信息采集和集中排查", reference=reference,
                     data={"campaign": campaign_dates(township, year)})


def open_collections(campaign: Case, actor: str, clock: Clock) -> int:
    """One collection-and-screening case per household of the township's villages (their start policy resolved
    once per village). Returns how many."""
    year = int(campaign.reference.rsplit(":", 1)[1])
    dates = campaign_dates(campaign.jurisdiction, year)
    households = list(db.session.scalars(select(Household).join(Household.village).where(
        Jurisdiction.path.startswith(campaign.jurisdiction_path)).order_by(Household.number)))
    today = to_local_date(clock.now())
    policies: dict[int, object] = {}
    for household in households:
        village = household.village
        if village.id not in policies:
            policies[village.id] = start_policy(Procedure.ANNUAL_COLLECTION, village, today)
        open_case(Procedure.ANNUAL_COLLECTION, village, actor, clock, household=household, channel="monitoring",
                  lead_date=today, reference=f"annual_collection:{campaign.id}:{household.id}",
                  data={"campaign": dates}, needs=policies[village.id])
    log.info("campaign %s opened %s household cases", campaign.number, len(households))
    return len(households)


@dataclass(frozen=True)
class VillageProgress:
    """One village's campaign progress."""

    village: str
    households: int
    to_visit: int  # collection not done yet
    to_enter: int  # collected, not entered yet
    done: int
    overdue: int
    identified: int  # screening opened an identification
    risk_gone: int


@dataclass(frozen=True)
class CampaignProgress:
    campaign: Case
    villages: list[VillageProgress]
    entry_by: date
    closes: date
    days_to_entry: int
    days_to_close: int
    to_visit: list[tuple[int, str, str, str, list[str]]]  # (task, household number, head, village, priority groups)


def progress(campaign: Case, now: datetime, limit: int = 200) -> CampaignProgress:
    """The campaign's progress by village (a few grouped statements)."""
    prefix = f"annual_collection:{campaign.id}:"
    cases = select(Case.id, Case.jurisdiction_id, Case.status, Case.outcome).where(Case.reference.startswith(prefix))
    rows = db.session.execute(cases).all()
    ready = dict(db.session.execute(select(HumanTask.case_id, HumanTask.bpmn_id).where(
        HumanTask.case_id.in_([r.id for r in rows]), HumanTask.state == "READY")).all())
    overdue = set(db.session.scalars(select(HumanTask.case_id).where(
        HumanTask.case_id.in_([r.id for r in rows]), HumanTask.state == "READY", HumanTask.due_at < now)))
    identified = set(db.session.scalars(select(func.distinct(Case.household_id)).where(
        Case.procedure == "identification", Case.channel == "cadre_screening",
        Case.opened_at >= campaign.opened_at, Case.jurisdiction_path.startswith(campaign.jurisdiction_path))))
    names = dict(db.session.execute(select(Jurisdiction.id, Jurisdiction.name).where(
        Jurisdiction.id.in_({r.jurisdiction_id for r in rows}))).all())
    households = dict(db.session.execute(select(Case.id, Case.household_id).where(Case.id.in_([r.id for r in rows])))
                      .all())
    counts: dict[int, Counter[str]] = {}
    for row in rows:
        c = counts.setdefault(row.jurisdiction_id, Counter())
        c["households"] += 1
        step = ready.get(row.id)
        c["to_visit" if step == VISIT_STEP else "to_enter" if step == ENTRY_STEP else "done"] += 1
        c["overdue"] += row.id in overdue
        c["identified"] += households[row.id] in identified
        c["risk_gone"] += row.outcome == "risk_gone"
    villages = [VillageProgress(names[j], **{k: c[k] for k in ("households", "to_visit", "to_enter", "done",
                                                               "overdue", "identified", "risk_gone")})
                for j, c in sorted(counts.items(), key=lambda item: names[item[0]])]
    dates = campaign_dates(campaign.jurisdiction, int(campaign.reference.rsplit(":", 1)[1]))
    entry_by, closes, today = date.fromisoformat(dates["entry_by"]), date.fromisoformat(dates["closes"]), \
        to_local_date(now)
    head = (select(Member.name).where(Member.household_id == Household.id, Member.relation_to_head == "户主")
            .limit(1).scalar_subquery())
    village = select(Jurisdiction.name).where(Jurisdiction.id == Household.village_id).scalar_subquery()
    found = db.session.execute(
        select(HumanTask.id, Household.number, head, village, Household.id).join(Case, Case.id == HumanTask.case_id)
        .join(Household, Household.id == Case.household_id)
        .where(Case.reference.startswith(prefix), HumanTask.state == "READY", HumanTask.bpmn_id == VISIT_STEP)
        .order_by(Household.number).limit(limit)).all()
    groups = priority_groups([r[4] for r in found], campaign.jurisdiction, today)
    to_visit = sorted(((task, number, name, place, groups.get(hid, [])) for task, number, name, place, hid in found),
                      key=lambda r: (not r[4], r[1]))  # the priority groups first (004 一(二))
    return CampaignProgress(campaign, villages, entry_by, closes, (entry_by - today).days, (closes - today).days,
                            to_visit)


def campaigns(place: Jurisdiction) -> list[Case]:
    """The campaigns of ``place`` and below, newest first."""
    return list(db.session.scalars(select(Case).where(Case.procedure == Procedure.ANNUAL_CAMPAIGN,
                                                      Case.jurisdiction_path.startswith(place.path))
                                   .order_by(Case.id.desc())))
