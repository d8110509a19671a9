"""Reading cases for the officials' pages (案件查询与案卷): the case list of a jurisdiction with its
filters, the record of one case (household, steps with their data, timeline, deadlines, publicity) in
words an official reads, and the households that may start an identification. Private fields of the
information form (policy/household_form.json: ID numbers, telephone numbers, health status) are masked
or left out here, so that no page can show them by mistake."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from engine.accounts.users import display_names
from engine.bpmn.forms import load_form
from engine.bpmn.runtime import timer_label, waiting_timers
from engine.cases.deadlines import deadlines_of_case
from engine.cases.lifecycle import PUBLICITY_PROCESS, get_case
from engine.cases.runs import viewed_workflow
from engine.cases.tasks import tasks_of_case
from engine.cases.timeline import TimelineEntry, backfill_reason, timeline
from engine.core import audit
from engine.core.clock import Clock
from engine.core.db import db
from engine.core.errors import NotFound
from engine.core.models import Case, CaseDeadline, Household, HumanTask, Jurisdiction, Member, Notice
from engine.core.vocabulary import (
    LEVELS,
    CaseOutcome,
    CaseStatus,
    HouseholdCategory,
    HouseholdStatus,
    JurisdictionLevel,
    StepState,
    option_labels,
)
from engine.households.outside import outside_identification
from engine.households.poverty_policy import household_kind
from engine.households.privacy import mask, masked

log = logging.getLogger(__name__)

STATUS_FILTERS = {CaseStatus.RUNNING.value: CaseStatus.RUNNING.label, "overdue": "超过时限未办结",
                  CaseStatus.COMPLETED.value: CaseStatus.COMPLETED.label}  # the case list's status filter
CANDIDATE_LIMIT = 300


# -- the case list --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseQuery:
    """What a case list shows: cases in ``jurisdiction`` and below, optionally narrowed."""

    jurisdiction: Jurisdiction
    text: str = ""  # case number, household number (prefix) or a member's name
    status: str = ""  # a key of STATUS_FILTERS
    procedure: str = ""


@dataclass(frozen=True)
class CaseRow:
    """A line of the case list."""

    id: int
    number: str
    procedure: str
    household_number: str
    head: str
    village: str
    status: str
    outcome: str | None
    opened_at: datetime
    due_at: datetime | None
    deadline_met_at: datetime | None
    steps: tuple[str, ...]  # the steps waiting for someone now

    @property
    def cursor(self) -> str:
        """Where the next page starts (newest first, by id)."""
        return str(self.id)


def _filtered(q: CaseQuery, now: datetime) -> Select:
    query = select(Case).where(Case.jurisdiction_path.startswith(q.jurisdiction.path))
    if q.procedure:
        query = query.where(Case.procedure == q.procedure)
    if q.status == "overdue":
        query = query.where(Case.status == "running", Case.due_at < now, Case.deadline_met_at.is_(None))
    elif q.status:
        query = query.where(Case.status == q.status)
    text = q.text.strip()
    if text:
        named = select(Member.household_id).where(Member.name.contains(text, autoescape=True))
        numbered = select(Household.id).where(Household.number.startswith(text, autoescape=True))
        query = query.where(or_(Case.number.contains(text, autoescape=True), Case.household_id.in_(numbered),
                                Case.household_id.in_(named)))
    return query


def search_cases(q: CaseQuery, now: datetime, limit: int = 25, after: str | None = None) -> list[CaseRow]:
    """One page of cases, newest first; ``after`` is the previous page's last cursor."""
    query = _filtered(q, now).order_by(Case.id.desc()).limit(limit)
    if after and after.isdigit():
        query = query.where(Case.id < int(after))
    cases = list(db.session.scalars(query.options(
        selectinload(Case.household).selectinload(Household.members), selectinload(Case.jurisdiction))))
    steps = _ready_steps([c.id for c in cases])
    return [_row(c, steps.get(c.id, ())) for c in cases]


def count_cases(q: CaseQuery, now: datetime) -> int:
    return db.session.scalar(select(func.count()).select_from(_filtered(q, now).subquery())) or 0


def _ready_steps(case_ids: list[int]) -> dict[int, tuple[str, ...]]:
    out: dict[int, tuple[str, ...]] = {}
    if not case_ids:
        return out
    rows = db.session.execute(select(HumanTask.case_id, HumanTask.name)
                              .where(HumanTask.case_id.in_(case_ids), HumanTask.state == "READY")
                              .order_by(HumanTask.id))
    for case_id, name in rows:
        out[case_id] = (*out.get(case_id, ()), name)
    return out


def _row(case: Case, steps: tuple[str, ...]) -> CaseRow:
    household = case.household
    head = household.head if household else None
    return CaseRow(id=case.id, number=case.number or str(case.id), procedure=case.procedure,
                   household_number=household.number if household else "",
                   head=head.name if head else (case.subject or ""),
                   village=case.jurisdiction.name, status=case.status, outcome=case.outcome,
                   opened_at=case.opened_at, due_at=case.due_at, deadline_met_at=case.deadline_met_at, steps=steps)


def places_below(jurisdiction: Jurisdiction, depth: int = 2) -> list[Jurisdiction]:
    """The jurisdiction and the places up to ``depth`` levels below it, in tree order (for filters)."""
    start = LEVELS.index(jurisdiction.level)
    levels = LEVELS[start:start + depth + 1]
    return list(db.session.scalars(select(Jurisdiction).where(Jurisdiction.path.startswith(jurisdiction.path),
                                                              Jurisdiction.level.in_(levels))
                                   .order_by(Jurisdiction.path)))


def villages_below(jurisdiction: Jurisdiction) -> list[Jurisdiction]:
    """Villages in ``jurisdiction`` (itself, if it is a village)."""
    return places_at(jurisdiction, JurisdictionLevel.VILLAGE)


def places_at(jurisdiction: Jurisdiction, level: str) -> list[Jurisdiction]:
    """The places of ``level`` in ``jurisdiction`` (itself, if it is one), in tree order."""
    return list(db.session.scalars(select(Jurisdiction).where(Jurisdiction.path.startswith(jurisdiction.path),
                                                              Jurisdiction.level == level)
                                   .order_by(Jurisdiction.path)))


# -- households that may start a case -------------------------------------------------------------


def open_candidates(jurisdiction: Jurisdiction, limit: int = CANDIDATE_LIMIT) -> list[Household]:
    """Households in ``jurisdiction`` that may start an identification (立案): not monitored, and
    without an unfinished identification."""
    running = select(Case.household_id).where(Case.procedure == "identification", Case.status == "running")
    query = (select(Household).join(Household.village)
             .where(Jurisdiction.path.startswith(jurisdiction.path), Household.status != HouseholdStatus.MONITORED,
                    Household.id.not_in(running))
             .order_by(Household.number).limit(limit)
             .options(selectinload(Household.members), selectinload(Household.village)))
    return list(db.session.scalars(query))


def households_with_status(jurisdiction: Jurisdiction, statuses: tuple[str, ...] | None,
                           limit: int = CANDIDATE_LIMIT) -> list[Household]:
    """Households in ``jurisdiction`` with one of ``statuses`` (every household when None), by number: the
    households offered when starting a procedure other than identification."""
    query = select(Household).join(Household.village).where(Jurisdiction.path.startswith(jurisdiction.path))
    if statuses is not None:
        query = query.where(Household.status.in_(statuses))
    query = (query.order_by(Household.number).limit(limit)
             .options(selectinload(Household.members), selectinload(Household.village)))
    return list(db.session.scalars(query))


def household_by_number(number: str) -> Household:
    household = db.session.scalar(select(Household).filter_by(number=number.strip()))
    if household is None:
        raise NotFound(f"户编号 {number} 不存在")
    return household


# -- the household, private fields masked (engine.households.privacy) ---------------------------------


@dataclass(frozen=True)
class MemberView:
    name: str
    relation: str
    sex: str
    id_number: str  # masked
    lives_with_household: bool


@dataclass(frozen=True)
class HouseholdView:
    """The household as a case page shows it: no full ID numbers, telephone numbers or health status."""

    id: int
    number: str
    head: str
    village: str
    group_name: str
    address: str
    status: str
    category: str
    identified_on: str
    formerly_poor: bool
    size: int
    phone: str  # masked
    members: tuple[MemberView, ...]
    kind: str = ""  # 一般农户 / 脱贫户（享受政策）/ 脱贫户（不再享受政策）(脱贫人口分类管理)
    identified_outside: str = ""  # 系统外识别（导入）：<file>, for a household imported as monitored


def household_view(household: Household) -> HouseholdView:
    members = tuple(MemberView(m.name, m.relation_to_head, m.sex or "", mask("id_number", m.id_number),
                               m.lives_with_household) for m in household.members)
    return HouseholdView(
        id=household.id, number=household.number, head=household.head.name if household.head else "",
        village=household.village.full_name,
        group_name=household.group_name or "", address=household.address or "",
        status=HouseholdStatus.label_of(household.status),
        category=HouseholdCategory.label_of(household.category),
        identified_on=household.identified_on.isoformat() if household.identified_on else "",
        formerly_poor=household.is_formerly_poor, size=household.size,
        phone=mask("contact_phone", household.contact_phone) or "",
        members=members, kind=household_kind(household), identified_outside=_outside(household),
    )


def _outside(household: Household) -> str:
    """系统外识别（导入） and its file, when the identification in force was not made in fangpin."""
    if household.identified_on is None:
        return ""
    outside = outside_identification(household.id)
    return outside.text if outside is not None else ""


# -- the record of one case -----------------------------------------------------------------------


@dataclass(frozen=True)
class DataGroup:
    """Part of a completed step's data under one heading: a group of the form's fields (家庭收入（近12个月）) with its
    title, or the form's own fields around it (no title)."""

    title: str
    items: list[tuple[str, str]]  # (field's title, text)


@dataclass(frozen=True)
class StepView:
    """A human task of the case, with the data it was completed with, in the form's own words."""

    task: HumanTask
    state: str
    data: list[DataGroup]


@dataclass(frozen=True)
class PublicityView:
    """A publicity (公示) the case is in now; it may be ended once its period is over."""

    label: str
    due_at: datetime
    can_close: bool


@dataclass(frozen=True)
class DeadlineView:
    """A deadline of the case (期限) and whether it no longer runs: its step done, the limit met or the
    case closed, the period over."""

    row: CaseDeadline
    settled: bool


@dataclass(frozen=True)
class CaseRecord:
    case: Case
    household: HouseholdView | None  # None: a case about a place (a warning batch)
    steps: list[StepView]
    timeline: list[TimelineEntry]
    deadlines: list[DeadlineView]
    notices: list[Notice]
    waiting: list[tuple[str, datetime]]
    publicity: list[PublicityView]
    other_cases: list[Case]
    names: dict[str, str]  # login → how it reads (the officials who did, claimed or are in the record)
    backfill_reason: str = ""  # why the lead was opened late (补录说明), if it was


def case_record(case_id: int, clock: Clock) -> CaseRecord:
    """Everything a case page shows about one case (read only)."""
    case = get_case(case_id)
    waiting, publicity = _waiting(case, clock)
    tasks = tasks_of_case(case_id)
    steps = [StepView(t, StepState.label_of(t.state), describe_groups(t.form, t.form_data)) for t in tasks]
    notices = list(db.session.scalars(select(Notice).filter_by(case_id=case_id).order_by(Notice.id)))
    others = list(db.session.scalars(select(Case).where(Case.household_id == case.household_id, Case.id != case.id)
                                     .order_by(Case.id.desc()))) if case.household_id else []
    deadlines = _deadline_views(case, deadlines_of_case(case_id), tasks, clock.now())
    events = audit.for_case(case_id)
    names = display_names({e.actor for e in events} | {t.completed_by for t in tasks} | {t.claimed_by for t in tasks})
    opened = next((e.detail or {} for e in events if e.action == "case_opened"), {})
    return CaseRecord(case, household_view(case.household) if case.household else None, steps,
                      timeline(events, names), deadlines, notices, waiting, publicity, others, names,
                      backfill_reason(opened))


def _deadline_views(case: Case, rows: list[CaseDeadline], tasks: list[HumanTask], now: datetime) -> list[DeadlineView]:
    done = {t.id for t in tasks if t.state != "READY"}
    closed = case.status != "running"
    views = []
    for row in rows:
        if row.subject == "task":
            settled = row.task_id in done or closed
        elif row.subject == "case":
            settled = case.deadline_met_at is not None or closed
        else:
            settled = row.due_at <= now or closed
        views.append(DeadlineView(row, settled))
    return views


def _waiting(case: Case, clock: Clock) -> tuple[list[tuple[str, datetime]], list[PublicityView]]:
    if case.status != "running":
        return [], []
    now = clock.now()
    with viewed_workflow(case, clock) as workflow:  # what is shown is read before the instance is given back
        timers = waiting_timers(workflow)
        publicity = [PublicityView(_publicity_label(t), due, due <= now)
                     for t, due in timers if t.workflow.spec.name == PUBLICITY_PROCESS]
        return [(timer_label(t), due) for t, due in timers], publicity


def _publicity_label(task) -> str:
    info = task.data.get("publicity") or {}
    if not info:
        return timer_label(task)
    return f"{info.get('level', '')}公示{info.get('days', '')}天（{info.get('posted_on', '')}张贴）"


def describe_data(form: str | None, data: dict[str, Any] | None) -> list[tuple[str, str]]:
    """Completed form data as (title, text) pairs, using the form's titles and option names — a field of a group
    named with its group's title first (家庭收入（近12个月） · 工资性收入（A28））; private values (a new member's ID
    number and health status, the leaving member's ID number) masked."""
    return [(f"{group.title} · {title}" if group.title else title, text)
            for group in describe_groups(form, data) for title, text in group.items]


def describe_groups(form: str | None, data: dict[str, Any] | None) -> list[DataGroup]:
    """Completed form data under one heading per group of fields, in the form's order (the form's own fields
    between groups under none), as :func:`describe_data` words and masks them."""
    if not data:
        return []
    try:
        schema = load_form(form) if form else {}
    except NotFound:
        schema = {}
    properties = schema.get("properties", {})
    groups: list[DataGroup] = []
    for key, value in masked(data).items():
        spec = properties.get(key, {})
        if isinstance(value, dict):
            groups.append(DataGroup(spec.get("title", key), _describe(spec.get("properties", {}), value)))
        elif groups and not groups[-1].title:
            groups[-1].items.append((spec.get("title", key), _text(spec, value)))
        else:
            groups.append(DataGroup("", [(spec.get("title", key), _text(spec, value))]))
    return groups


def _describe(properties: dict[str, Any], data: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, value in data.items():
        spec = properties.get(key, {})
        title = prefix + spec.get("title", key)
        if isinstance(value, dict):
            out += _describe(spec.get("properties", {}), value, prefix=f"{title} · ")
        else:
            out.append((title, _text(spec, value)))
    return out


def _text(spec: dict[str, Any], value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        items = spec.get("items", {})
        if items.get("type") == "object":  # each row's fields with their titles and option names (A48 → 综合保障)
            fields = items.get("properties", {})
            return "；".join("，".join(f"{fields.get(k, {}).get('title', k)} {_text(fields.get(k, {}), v)}"
                                     for k, v in row.items()) for row in value if isinstance(row, dict))
        names = option_labels(spec)
        return "、".join(str(names.get(v, v)) for v in value) or "无"
    if value is None:
        return ""
    return str(option_labels(spec).get(value, value))


def status_text(case: Case) -> str:
    """办理中 / 已办结（纳入监测）."""
    text = CaseStatus.label_of(case.status)
    return f"{text}（{CaseOutcome.label_of(case.outcome)}）" if case.outcome else text
