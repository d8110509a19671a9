"""A township's yearly campaign (年度信息采集和集中排查): opening it, the per-household cases it opens, its report (汇总上报)
and its progress by village — collected and screened, entered, overdue — with the days left to the entry deadline
and the system's closing; and a county's view over its townships' campaigns of a year, by township and village.
Every count is one grouped statement, whatever the number of households."""
from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import aliased

from engine.campaigns.households import open_household_cases
from engine.campaigns.priority import priority_groups
from engine.cases.lifecycle import open_case
from engine.core.clock import Clock
from engine.core.db import db
from engine.core.errors import RuleViolation
from engine.core.models import Case, Household, HumanTask, Jurisdiction, Member
from engine.core.vocabulary import CaseOutcome, JurisdictionLevel, LedgerStep, Procedure, StepState
from engine.policy.parameters import resolve
from timers.calendar import to_local_date

log = logging.getLogger(__name__)

IDENTIFY, RISK_GONE = CaseOutcome.IDENTIFY.value, CaseOutcome.RISK_GONE.value  # the collection outcomes of a screening that opened a procedure
TO_VISIT_LIMIT = 200  # households listed as still to visit (the counts are complete)


def campaign_reference(township: Jurisdiction, year: int) -> str:
    return f"annual_campaign:{township.code}:{year}"


def campaign_year(campaign: Case) -> int:
    return int(campaign.reference.rsplit(":", 1)[1])


def collection_reference(campaign: Case) -> str:
    """What the references of a campaign's collection cases start with (``<it>:<household id>``)."""
    return f"annual_collection:{campaign.id}"


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
    if township.level != JurisdictionLevel.TOWNSHIP:
        raise RuleViolation(f"年度信息采集和集中排查由乡镇（街道）开展，{township.full_name} 不是乡镇")
    reference = campaign_reference(township, year)
    if db.session.scalar(select(Case.id).filter_by(reference=reference)) is not None:
        raise RuleViolation(f"{township.name} {year} 年度信息采集和集中排查已开启")
    return open_case(Procedure.ANNUAL_CAMPAIGN, township, actor, clock, lead_date=to_local_date(clock.now()),
                     subject=f"{township.name} {year} 年度信息采集和集中排查", reference=reference,
                     data={"campaign": campaign_dates(township, year)})


def open_collections(campaign: Case, actor: str, clock: Clock) -> int:
    """One collection-and-screening case per household of the township's villages. Returns how many."""
    dates = campaign_dates(campaign.jurisdiction, campaign_year(campaign))
    return open_household_cases(Procedure.ANNUAL_COLLECTION, Jurisdiction.path.startswith(campaign.jurisdiction_path),
                                collection_reference(campaign), {"campaign": dates}, actor, clock)


# -- progress -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """Households of a campaign in a place, by where their collection stands."""

    households: int = 0
    to_visit: int = 0  # not visited yet (入户采集和排查 open)
    to_enter: int = 0  # collected and screened, not entered in the national system yet
    overdue: int = 0  # their open step is past its deadline
    identified: int = 0  # the screening opened an identification (排查启动识别)
    risk_gone: int = 0  # the screening found the risk gone and opened the elimination (提请风险消除)

    @property
    def collected(self) -> int:
        """Visited, collected and screened (已采集排查)."""
        return self.households - self.to_visit

    @property
    def done(self) -> int:
        """Collected and entered (已录入)."""
        return self.households - self.to_visit - self.to_enter

    @property
    def percent_done(self) -> int:
        return self.done * 100 // self.households if self.households else 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(Tally)))


@dataclass(frozen=True)
class VillageProgress(Tally):
    village: str = ""
    code: str = ""
    township_id: int | None = None


@dataclass(frozen=True)
class Deadlines:
    """The entry deadline and the national system's closing (policy data ``annual_campaign.*``), days left."""

    entry_by: date
    closes: date
    days_to_entry: int
    days_to_close: int

    @classmethod
    def of(cls, place: Jurisdiction, year: int, today: date) -> Deadlines:
        dates = campaign_dates(place, year)
        entry_by, closes = date.fromisoformat(dates["entry_by"]), date.fromisoformat(dates["closes"])
        return cls(entry_by, closes, (entry_by - today).days, (closes - today).days)


@dataclass(frozen=True)
class ToVisit:
    """A household still to visit: its task, where it is, the task's deadline and its priority groups."""

    task_id: int
    number: str
    head: str
    village: str
    township: str
    due_at: datetime | None
    groups: list[str]


@dataclass(frozen=True)
class CampaignProgress:
    campaign: Case
    villages: list[VillageProgress]
    deadlines: Deadlines
    to_visit: list[ToVisit]  # the priority groups first (004 一(二)), at most TO_VISIT_LIMIT
    waiting_on: tuple[str, ...] = ()  # the campaign's own steps to do now (its township's 待办), by name

    @property
    def total(self) -> Tally:
        return sum(self.villages, Tally())


def _collections_of(campaign_ids: list[int]) -> ColumnElement[bool]:
    """The collection cases of these campaigns."""
    return and_(Case.procedure == Procedure.ANNUAL_COLLECTION,
                or_(*(Case.reference.startswith(f"annual_collection:{i}:") for i in campaign_ids)))


def village_progress(campaign_ids: list[int], now: datetime) -> list[VillageProgress]:
    """Each village's tally for these campaigns, in one grouped statement (a collection case has at most one
    open step at a time)."""
    if not campaign_ids:
        return []
    ready = aliased(HumanTask)

    def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.count(case((condition, 1)))

    rows = db.session.execute(
        select(Jurisdiction.id, Jurisdiction.code, Jurisdiction.name, Jurisdiction.parent_id,
               func.count(func.distinct(Case.id)), count(ready.ledger_step == LedgerStep.HOUSEHOLD_VISIT),
               count(ready.ledger_step == LedgerStep.SYSTEM_ENTRY),
               count(ready.due_at < now), count(Case.outcome == IDENTIFY), count(Case.outcome == RISK_GONE))
        .select_from(Case).join(Jurisdiction, Jurisdiction.id == Case.jurisdiction_id)
        .outerjoin(ready, and_(ready.case_id == Case.id, ready.state == "READY"))
        .where(_collections_of(campaign_ids))
        .group_by(Jurisdiction.id, Jurisdiction.code, Jurisdiction.name, Jurisdiction.parent_id)
        .order_by(Jurisdiction.code)).all()
    return [VillageProgress(households, to_visit, to_enter, overdue, identified, risk_gone, village=name, code=code,
                            township_id=parent)
            for _, code, name, parent, households, to_visit, to_enter, overdue, identified, risk_gone in rows]


def households_to_visit(campaign_ids: list[int], place: Jurisdiction, today: date,
                        limit: int = TO_VISIT_LIMIT) -> list[ToVisit]:
    """The households whose visit is still open (household-number order, the priority groups first)."""
    if not campaign_ids:
        return []
    village, township = aliased(Jurisdiction), aliased(Jurisdiction)
    head = (select(Member.name).where(Member.household_id == Household.id, Member.relation_to_head == "户主")
            .limit(1).scalar_subquery())
    found = db.session.execute(
        select(HumanTask.id, Household.number, head, village.name, township.name, HumanTask.due_at, Household.id)
        .join(Case, Case.id == HumanTask.case_id).join(Household, Household.id == Case.household_id)
        .join(village, village.id == Household.village_id).outerjoin(township, township.id == village.parent_id)
        .where(_collections_of(campaign_ids), HumanTask.state == "READY", HumanTask.ledger_step == LedgerStep.HOUSEHOLD_VISIT)
        .order_by(Household.number).limit(limit)).all()
    groups = priority_groups([r[-1] for r in found], place, today)
    listed = [ToVisit(task, number, name or "", v, t or "", due, groups.get(hid, []))
              for task, number, name, v, t, due, hid in found]
    return sorted(listed, key=lambda r: (not r.groups, r.number))


def progress(campaign: Case, now: datetime, limit: int = TO_VISIT_LIMIT) -> CampaignProgress:
    """The campaign's progress by village, its deadlines and the households still to visit."""
    today = to_local_date(now)
    waiting_on = tuple(db.session.scalars(select(HumanTask.name).filter_by(case_id=campaign.id, state=StepState.READY)
                                          .order_by(HumanTask.id)))
    return CampaignProgress(campaign, village_progress([campaign.id], now),
                            Deadlines.of(campaign.jurisdiction, campaign_year(campaign), today),
                            households_to_visit([campaign.id], campaign.jurisdiction, today, limit), waiting_on)


def report_summary(campaign: Case, now: datetime) -> str:
    """What the township reports (汇总上报, 12-08): refused while a household's collection is not entered."""
    villages = village_progress([campaign.id], now)
    open_ = [v for v in villages if v.to_visit or v.to_enter]
    if open_:
        left = "；".join(f"{v.village} 待入户 {v.to_visit} 户、待录入 {v.to_enter} 户" for v in open_)
        raise RuleViolation(f"尚有 {sum(v.to_visit + v.to_enter for v in open_)} 户未完成采集录入（{left}），"
                            "全部采集排查并录入全国系统后方可汇总上报")
    total = sum(villages, Tally())
    return (f"{campaign.jurisdiction.name} {total.households} 户完成采集排查并录入全国系统，排查启动识别 {total.identified} 户，"
            f"启动风险消除 {total.risk_gone} 户")


# -- a county's view over its townships ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TownshipProgress:
    township: Jurisdiction
    campaign: Case | None
    tally: Tally
    villages: list[VillageProgress]

    @property
    def state(self) -> str:
        if self.campaign is None:
            return "未开启"
        if self.campaign.status == "completed":
            return "已汇总上报"
        return "采集排查中" if self.villages else "待确认开启"


@dataclass(frozen=True)
class CountyProgress:
    county: Jurisdiction
    year: int
    townships: list[TownshipProgress]
    deadlines: Deadlines
    to_visit: list[ToVisit]

    @property
    def total(self) -> Tally:
        return sum((t.tally for t in self.townships), Tally())

    @property
    def opened(self) -> int:
        return sum(t.campaign is not None for t in self.townships)

    @property
    def reported(self) -> int:
        return sum(t.state == "已汇总上报" for t in self.townships)


def county_progress(county: Jurisdiction, year: int, now: datetime, limit: int = TO_VISIT_LIMIT) -> CountyProgress:
    """The county's townships and their ``year`` campaign (or none yet), by township and village, with the county's
    deadlines and the households still to visit (a fixed number of statements, whatever the county's size)."""
    if county.level != JurisdictionLevel.COUNTY:
        raise RuleViolation(f"全县采集排查进度按县（市、区）查看，{county.full_name} 不是县级")
    townships = list(db.session.scalars(select(Jurisdiction).where(
        Jurisdiction.level == JurisdictionLevel.TOWNSHIP, Jurisdiction.path.startswith(county.path))
        .order_by(Jurisdiction.code)))
    by_reference = {c.reference: c for c in db.session.scalars(select(Case).where(
        Case.procedure == Procedure.ANNUAL_CAMPAIGN, Case.reference.in_([campaign_reference(t, year) for t in townships])))}
    campaigns = {t.id: by_reference.get(campaign_reference(t, year)) for t in townships}
    ids = [c.id for c in campaigns.values() if c is not None]
    villages: dict[int | None, list[VillageProgress]] = {}
    for line in village_progress(ids, now):
        villages.setdefault(line.township_id, []).append(line)
    rows = [TownshipProgress(t, campaigns[t.id], sum(villages.get(t.id, []), Tally()), villages.get(t.id, []))
            for t in townships]
    today = to_local_date(now)
    return CountyProgress(county, year, rows, Deadlines.of(county, year, today),
                          households_to_visit(ids, county, today, limit))


def campaign_years(place: Jurisdiction) -> list[int]:
    """The years with a campaign at or below ``place``, newest first."""
    references = db.session.scalars(select(Case.reference).where(
        Case.procedure == Procedure.ANNUAL_CAMPAIGN, Case.jurisdiction_path.startswith(place.path)))
    return sorted({int(r.rsplit(":", 1)[1]) for r in references}, reverse=True)


def campaigns(place: Jurisdiction) -> list[Case]:
    """The campaigns of ``place`` and below, newest first."""
    return list(db.session.scalars(select(Case).where(Case.procedure == Procedure.ANNUAL_CAMPAIGN,
                                                      Case.jurisdiction_path.startswith(place.path))
                                   .order_by(Case.id.desc())))
