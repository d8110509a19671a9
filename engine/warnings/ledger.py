"""Department warning ledger and queries (预警台账): what waits at each level and for how long, the county's
ledger of every warning with its dates and outcome, overdue steps, the county's monthly report to the city and
the departments' missing pushes. Read-only."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from engine.core.db import db
from engine.core.errors import PolicyMissing, RuleViolation
from engine.core.models import (
    AuditEvent,
    Case,
    DepartmentWarning,
    Household,
    HumanTask,
    Jurisdiction,
    Member,
    WarningBatch,
)
from engine.core.vocabulary import HouseholdStatus
from engine.supervision.overdue import days_overdue
from engine.warnings.thresholds import (
    Department,
    PushRule,
    departments,
    next_period,
    periods_due,
    push_deadline,
    report_day,
)
from timers.calendar import CHINA_TZ as CST
from timers.calendar import Deadline, default_calendar, to_local_date

STATUS_NAMES = {
    "received": "待市级分解推送",
    "at_county": "待县级比对交办",
    "already_monitored": "已在监测，已备注",
    "dispatched": "已交办乡镇核查",
    "included": "符合条件，已启动识别",
    "not_included": "不符合条件，列为重点关注",
}
OPEN_STATUSES = ("received", "at_county", "dispatched")
COVERED_STATUSES = ("monitored", "applying", "green_channel")  # already in the monitoring or a procedure
STEP_NAMES = {"city_push": "市级分解推送", "county_dispatch": "县级比对交办", "township_verification": "乡镇核查至县级审定"}
REPORT_ACTION = "warning_report_submitted"
LOOKBACK_DAYS = 183


@dataclass(frozen=True)
class Comparison:
    """What the monitored list says about the person of a warning (比对结果)."""

    household: Household | None
    covered: bool
    running_case: Case | None
    text: str


def compare(warning: DepartmentWarning) -> Comparison:
    """Compare a warning with the current monitored list, by the member's ID number."""
    member = db.session.scalar(select(Member).filter_by(id_number=warning.id_number))
    if member is None:
        return Comparison(None, False, None, "未在系统中登记")
    household = member.household
    case = db.session.scalar(select(Case).filter_by(household_id=household.id, status="running")
                             .order_by(Case.id.desc()))
    running_identification = case is not None and case.procedure == "identification"
    covered = household.status in COVERED_STATUSES or running_identification
    if household.status == HouseholdStatus.MONITORED:
        text = f"已是监测对象（{household.identified_on} 纳入）" if household.identified_on else "已是监测对象"
    elif covered:
        text = f"正在办理识别或绿色通道（{case.number if case else household.status}）"
    else:
        text = {"key_attention": "重点关注户，未纳入监测", "eliminated": "风险已消除"}.get(household.status, "未纳入监测")
    return Comparison(household, covered, case, text)


def _in(place: Jurisdiction, *statuses: str):
    query = select(DepartmentWarning).where(DepartmentWarning.jurisdiction_path.startswith(place.path))
    return query.where(DepartmentWarning.status.in_(statuses)) if statuses else query


def village_name(village_id: int | None) -> str:
    """乡镇 + 村, e.g. 沙河镇沙河村."""
    village = db.session.get(Jurisdiction, village_id) if village_id else None
    if village is None:
        return ""
    township = village.ancestor_at("township")
    return f"{township.name if township else ''}{village.name}"


def county_queue(place: Jurisdiction) -> list[tuple[DepartmentWarning, Comparison, str]]:
    """Warnings waiting for the county's comparison and dispatch, with the comparison and the village, most
    urgent first."""
    rows = db.session.scalars(_in(place, "at_county").order_by(DepartmentWarning.due_at, DepartmentWarning.id))
    return [(w, compare(w), village_name(w.village_id)) for w in rows]


def township_queue(place: Jurisdiction) -> list[DepartmentWarning]:
    """Dispatched warnings waiting for the township's home verification, most urgent first."""
    return list(db.session.scalars(_in(place, "dispatched").order_by(DepartmentWarning.due_at, DepartmentWarning.id)))


def city_queue(place: Jurisdiction) -> list[tuple[WarningBatch, dict[str, int], datetime | None]]:
    """Batches at the city (or below) with warnings still to split and push: (batch, per county, due)."""
    rows = db.session.scalars(_in(place, "received").order_by(DepartmentWarning.batch_id, DepartmentWarning.id))
    counts: dict[int, Counter[str]] = {}
    dues: dict[int, datetime] = {}
    found: dict[int, WarningBatch] = {}
    for w in rows:
        county = db.session.get(Jurisdiction, w.village_id).ancestor_at("county")
        counts.setdefault(w.batch_id, Counter())[county.name if county else "?"] += 1
        found[w.batch_id] = w.batch
        if w.due_at is not None:
            dues[w.batch_id] = min(dues.get(w.batch_id, w.due_at), w.due_at)
    return [(batch, dict(counts[i]), dues.get(i)) for i, batch in found.items()]


def decided_at(case: Case | None) -> datetime | None:
    """When the identification was decided (县级审定; else the recorded outcome), None while undecided."""
    if case is None:
        return None
    approval = db.session.scalar(select(HumanTask.completed_at).filter_by(
        case_id=case.id, form="county_approval.json", state="COMPLETED").order_by(HumanTask.id))
    if approval is not None:
        return approval
    if case.outcome is None:
        return None
    return db.session.scalar(select(AuditEvent.at).filter_by(case_id=case.id, action="outcome")
                             .order_by(AuditEvent.id))


def open_due(warning: DepartmentWarning, case: Case | None = None) -> datetime | None:
    """The due date still running: of the open step, or — for an included warning — of the county approval."""
    if warning.status in OPEN_STATUSES:
        return warning.due_at
    if warning.status == "included" and decided_at(case or _case(warning)) is None:
        return warning.due_at
    return None


def _case(warning: DepartmentWarning) -> Case | None:
    return db.session.get(Case, warning.case_id) if warning.case_id else None


@dataclass(frozen=True)
class LedgerRow:
    """One line of the county's warning ledger (预警核查办理台账)."""

    warning: DepartmentWarning
    status_name: str
    department_name: str
    indicator_name: str
    village: str
    received_at: datetime
    pushed_at: datetime | None
    dispatched_at: datetime | None
    due_at: datetime | None
    open_due: datetime | None
    step_name: str
    verified_at: datetime | None
    case: Case | None
    decided_at: datetime | None
    outcome: str
    days_overdue: int


def ledger_row(warning: DepartmentWarning, now: datetime) -> LedgerRow:
    detail, case = warning.detail, _case(warning)
    steps = detail.get("steps", [])
    pushed = next((s.get("done_at") for s in steps if s["step"] == "city_push"), None)
    due = open_due(warning, case)
    decided = decided_at(case)
    return LedgerRow(
        warning=warning, status_name=STATUS_NAMES.get(warning.status, warning.status),
        department_name=detail.get("department_name", warning.department),
        indicator_name=detail.get("indicator_name", warning.indicator),
        village=village_name(warning.village_id), received_at=warning.batch.submitted_at,
        pushed_at=datetime.fromisoformat(pushed) if pushed else None, dispatched_at=warning.dispatched_at,
        due_at=warning.due_at, open_due=due, step_name=steps[-1]["name"] if steps else "",
        verified_at=datetime.fromisoformat(detail["verified_at"]) if detail.get("verified_at") else None,
        case=case, decided_at=decided, outcome=_outcome(warning, case, decided),
        days_overdue=days_overdue(due, now) if due else 0)


def _outcome(warning: DepartmentWarning, case: Case | None, decided: datetime | None) -> str:
    if warning.status == "already_monitored":
        noted = warning.detail.get("noted_case")
        return f"{warning.detail.get('compared', '')}：预警已记入{'案件 ' + noted if noted else '该户'}"
    if warning.status == "not_included":
        return f"不符合纳入条件，列为重点关注户：{warning.outcome_reason or ''}"
    if warning.status == "included" and case is not None:
        result = {"identified": "已认定为监测对象", "rejected": "经审定不纳入"}.get(case.outcome or "", "识别办理中")
        return f"{case.number} {result}"
    return ""


def ledger(place: Jurisdiction, now: datetime, status: str | None = None, department: str | None = None,
           month: str | None = None, limit: int = 500) -> list[LedgerRow]:
    """The warnings of ``place`` and below (台账), newest batch first; ``month`` (YYYY-MM) filters by the month
    the batch was received."""
    query = _in(place, status) if status else _in(place)
    if department:
        query = query.where(DepartmentWarning.department == department)
    if month:
        start, end = month_bounds(month)
        query = query.join(DepartmentWarning.batch).where(WarningBatch.submitted_at >= start,
                                                          WarningBatch.submitted_at < end)
    query = query.order_by(DepartmentWarning.batch_id.desc(), DepartmentWarning.row_number).limit(limit)
    return [ledger_row(w, now) for w in db.session.scalars(query)]


def overdue_warnings(place: Jurisdiction, now: datetime) -> list[LedgerRow]:
    """Warnings whose running step is past its due date (each level's 5 working days, the 20 to approval)."""
    query = _in(place, *OPEN_STATUSES, "included").where(DepartmentWarning.due_at < now)
    rows = [ledger_row(w, now) for w in db.session.scalars(query.order_by(DepartmentWarning.due_at))]
    return [r for r in rows if r.days_overdue]


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """[start, end) of a month in China Standard Time."""
    try:
        first = date.fromisoformat(month + "-01")
    except ValueError as exc:
        raise RuleViolation(f"month: 月份 {month} 无效，应为 YYYY-MM") from exc
    following = (first + timedelta(days=32)).replace(day=1)
    return (datetime.combine(first, datetime.min.time(), CST), datetime.combine(following, datetime.min.time(), CST))


def previous_month(today: date) -> str:
    last = today.replace(day=1) - timedelta(days=1)
    return f"{last.year}-{last.month:02d}"


@dataclass(frozen=True)
class MonthlyReport:
    """The county's report to the city of last month's dispatched warnings and their results (月报)."""

    county: Jurisdiction
    month: str
    rows: list[LedgerRow]
    counts: dict[str, int]
    due: Deadline
    submitted: AuditEvent | None


def monthly_report(county: Jurisdiction, month: str, now: datetime) -> MonthlyReport:
    """Warnings of ``county`` dispatched in ``month`` with their results, and the report's due date
    (每月 25 日前 of the following month)."""
    start, end = month_bounds(month)
    query = (_in(county).where(DepartmentWarning.dispatched_at >= start, DepartmentWarning.dispatched_at < end)
             .order_by(DepartmentWarning.dispatched_at, DepartmentWarning.id))
    rows = [ledger_row(w, now) for w in db.session.scalars(query)]
    counts = dict(Counter(r.status_name for r in rows))
    following = end.date()
    due = default_calendar().monthly_deadline(following.year, following.month,
                                              report_day(county, following))
    return MonthlyReport(county, month, rows, counts, due, _submitted(county, month))


def _submitted(county: Jurisdiction, month: str) -> AuditEvent | None:
    events = db.session.scalars(select(AuditEvent).filter_by(action=REPORT_ACTION).order_by(AuditEvent.id))
    return next((e for e in events if e.detail.get("county") == county.code and e.detail.get("month") == month), None)


@dataclass(frozen=True)
class MissingPush:
    """A department that has not pushed a period's batch by its deadline (推送逾期)."""

    department: Department
    period: str
    deadline: Deadline
    days_overdue: int


def missing_pushes(place: Jurisdiction, now: datetime, since: date | None = None) -> list[MissingPush]:
    """Periodic pushes to ``place`` (市/县) due between ``since`` (default: half a year ago) and now that no
    batch covers."""
    today = to_local_date(now)
    since = since or today - timedelta(days=LOOKBACK_DAYS)
    pushed = {(department, period) for department, period in db.session.execute(
        select(WarningBatch.department, WarningBatch.period).filter_by(jurisdiction_id=place.id))}
    missing = []
    for key, department in departments(place, today).items():
        for period, deadline in periods_due(department.push, since, now):
            if (key, period) not in pushed:
                missing.append(MissingPush(department, period, deadline, days_overdue(deadline.due_at, now)))
    return sorted(missing, key=lambda m: (m.deadline.due_at, m.department.key))


@dataclass(frozen=True)
class PushSchedule:
    """A department's push rule with its next deadline and its latest batch (推送期限)."""

    department: Department
    next: tuple[str, Deadline] | None
    last_batch: WarningBatch | None


def push_schedules(place: Jurisdiction, now: datetime) -> list[PushSchedule]:
    """Every department pushing to ``place``: its rule, next deadline and latest batch."""
    result = []
    for key, department in departments(place, to_local_date(now)).items():
        last = db.session.scalar(select(WarningBatch).filter_by(jurisdiction_id=place.id, department=key)
                                 .order_by(WarningBatch.submitted_at.desc()))
        result.append(PushSchedule(department, next_period(department.push, now), last))
    return result


def batches(place: Jurisdiction, limit: int = 50) -> list[WarningBatch]:
    """Batches pushed to ``place`` or below, newest first."""
    return list(db.session.scalars(select(WarningBatch).join(WarningBatch.jurisdiction)
                                   .where(Jurisdiction.path.startswith(place.path))
                                   .order_by(WarningBatch.submitted_at.desc(), WarningBatch.id.desc()).limit(limit)))


def batch_deadline(batch: WarningBatch) -> Deadline | None:
    """The push deadline of the batch's period (None for pushes without a fixed date)."""
    try:
        rule: PushRule = departments(batch.jurisdiction, to_local_date(batch.submitted_at))[batch.department].push
    except (KeyError, PolicyMissing):
        return None
    return push_deadline(rule, batch.period)


def batch_warnings(batch: WarningBatch) -> list[DepartmentWarning]:
    return list(db.session.scalars(select(DepartmentWarning).filter_by(batch_id=batch.id)
                                   .order_by(DepartmentWarning.row_number)))
