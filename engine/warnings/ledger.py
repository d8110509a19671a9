"""Department warning ledger and queries (预警台账): what waits at each level and for how long, the county's
ledger of every warning with its dates and outcome, overdue steps, the county's monthly report to the city and
the departments' missing pushes. Read-only."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Integer, and_, cast, func, or_, select

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
from engine.core.vocabulary import (
    COVERED_HOUSEHOLD_STATUSES,
    COVERING_PROCEDURES,
    NOTED_WARNING_STATUSES,
    AuditAction,
    CaseOutcome,
    CaseStatus,
    HouseholdStatus,
    LedgerStep,
    Procedure,
    StepState,
    WarningStatus,
)
from engine.policy.departments import department_names
from engine.supervision.overdue import days_overdue
from engine.warnings.thresholds import PushRule, departments, push_deadline
from timers.calendar import CHINA_TZ as CST
from timers.calendar import Deadline, to_local_date

REPORT_ACTION = AuditAction.WARNING_REPORT_SUBMITTED.value
REPORT_PREFIX = "warning_report"
VERIFICATION_PREFIX = Procedure.WARNING_VERIFICATION.value  # a verification case's reference: <prefix>:<warning id>
_WARNING_OF_VERIFICATION = cast(func.substr(Case.reference, len(VERIFICATION_PREFIX) + 2), Integer)  # that id, in SQL


@dataclass(frozen=True)
class Comparison:
    """What the monitored list says about the person of a warning (比对结果)."""

    household: Household | None
    covered: bool
    running_case: Case | None
    text: str
    noted_as: str | None = None  # covered: the warning's status once noted on the household (WarningStatus)


def compare(warning: DepartmentWarning) -> Comparison:
    """Compare a warning with the current monitored list, by the member's ID number."""
    return compare_all([warning])[warning.id]


def compare_all(warnings: list[DepartmentWarning]) -> dict[int, Comparison]:
    """Compare warnings with the current monitored list by their ID numbers (a few statements, however many):
    the registered household, whether it is monitored or in a procedure (识别、绿色通道), and its running case,
    named by its own procedure."""
    ids = sorted({w.id_number for w in warnings})
    households: dict[str, Household] = {}
    for start in range(0, len(ids), 500):
        rows = db.session.execute(select(Member.id_number, Household).join(Household, Member.household_id == Household.id)
                                  .where(Member.id_number.in_(ids[start:start + 500])))
        households.update({id_number: household for id_number, household in rows})
    running: dict[int, Case] = {}
    household_ids = sorted({h.id for h in households.values()})
    for start in range(0, len(household_ids), 500):
        for case in db.session.scalars(select(Case).where(Case.household_id.in_(household_ids[start:start + 500]),
                                                          Case.status == CaseStatus.RUNNING).order_by(Case.id)):
            if case.household_id not in running or case.procedure in COVERING_PROCEDURES:
                running[case.household_id] = case
    return {w.id: _comparison(households.get(w.id_number), running) for w in warnings}


def _comparison(household: Household | None, running: dict[int, Case]) -> Comparison:
    if household is None:
        return Comparison(None, False, None, "未在系统中登记")
    case = running.get(household.id)
    covered = household.status in COVERED_HOUSEHOLD_STATUSES or (case is not None
                                                                 and case.procedure in COVERING_PROCEDURES)
    if household.status == HouseholdStatus.MONITORED:
        text = f"已是监测对象（{household.identified_on} 纳入）" if household.identified_on else "已是监测对象"
        return Comparison(household, covered, case, text, WarningStatus.ALREADY_MONITORED.value)
    if covered:
        text = (f"正在办理{Procedure.label_of(case.procedure)}（{case.number}）" if case is not None
                else f"正在办理（{HouseholdStatus.label_of(household.status)}）")
    else:
        text = {HouseholdStatus.KEY_ATTENTION: "重点关注户，未纳入监测",
                HouseholdStatus.ELIMINATED: HouseholdStatus.ELIMINATED.label}.get(household.status, "未纳入监测")
        if case is not None:
            text += f"；正在办理{Procedure.label_of(case.procedure)}（{case.number}）"
    return Comparison(household, covered, case, text, _noted_as(household, case) if covered else None)


def _noted_as(household: Household, case: Case | None) -> str:
    """A warning about a household not monitored but in a procedure towards it is noted as that procedure: the
    department and the county's report must not count the person as monitored (已在监测)."""
    in_green_channel = household.status == HouseholdStatus.GREEN_CHANNEL or (
        case is not None and case.procedure == Procedure.GREEN_CHANNEL)
    return (WarningStatus.NOTED_IN_GREEN_CHANNEL if in_green_channel else WarningStatus.NOTED_IN_IDENTIFICATION).value


def _in(place: Jurisdiction, *statuses: str):
    query = select(DepartmentWarning).where(DepartmentWarning.jurisdiction_path.startswith(place.path))
    return query.where(DepartmentWarning.status.in_(statuses)) if statuses else query


def village_names(village_ids: set[int]) -> dict[int, str]:
    """乡镇 + 村 of each village, e.g. 沙河镇沙河村 (two statements)."""
    villages = list(db.session.scalars(select(Jurisdiction).where(Jurisdiction.id.in_(village_ids))))
    parents = {j.id: j for j in db.session.scalars(select(Jurisdiction).where(
        Jurisdiction.id.in_({v.parent_id for v in villages if v.parent_id})))}
    return {v.id: f"{parents[v.parent_id].name if v.parent_id in parents else ''}{v.name}" for v in villages}


def decided_at(case: Case | None) -> datetime | None:
    """When the identification was decided: its step the diagram marks as the county's decision (ledgerStep
    county_decision, 县级审定), else — a diagram without one — its recorded outcome; None while undecided."""
    if case is None:
        return None
    return _decisions([case]).get(case.id)


def _decisions(cases: list[Case]) -> dict[int, datetime]:
    ids = [c.id for c in cases]
    found: dict[int, datetime] = {}
    for case_id, at in db.session.execute(select(HumanTask.case_id, HumanTask.completed_at).where(
            HumanTask.case_id.in_(ids), HumanTask.ledger_step == LedgerStep.COUNTY_DECISION,
            HumanTask.state == StepState.COMPLETED)
            .order_by(HumanTask.id.desc())):
        found[case_id] = at
    decided = [c.id for c in cases if c.id not in found and c.outcome is not None]
    for case_id, at in db.session.execute(select(AuditEvent.case_id, AuditEvent.at).where(
            AuditEvent.case_id.in_(decided), AuditEvent.action == "outcome").order_by(AuditEvent.id.desc())):
        found[case_id] = at
    return found


@dataclass(frozen=True)
class LedgerRow:
    """One line of the county's warning ledger (预警核查办理台账)."""

    warning: DepartmentWarning
    status_name: str
    department_name: str
    indicator_name: str
    village: str
    received_at: datetime
    dispatched_at: datetime | None
    # of the step it waits in; included: its own limit, from the dispatch to the county's decision on the
    # identification (000 六（二）3), while that runs — or, a warning verified before that was kept, its
    # identification's limit
    open_due: datetime | None
    step_name: str
    step_task_id: int | None
    verified_at: datetime | None
    case: Case | None
    decided_at: datetime | None
    outcome: str
    days_overdue: int


def ledger_row(warning: DepartmentWarning, now: datetime) -> LedgerRow:
    return ledger_rows([warning], now)[0]


def ledger_rows(warnings: list[DepartmentWarning], now: datetime) -> list[LedgerRow]:
    """Ledger lines of ``warnings`` (a few statements, however many): each with the ready step of the case it
    waits in and its due date, or the identification it started and when that was decided."""
    steps = {case_id: (task_id, name, due) for case_id, task_id, name, due in db.session.execute(
        select(HumanTask.case_id, HumanTask.id, HumanTask.name, HumanTask.due_at).where(
            HumanTask.case_id.in_({w.step_case_id for w in warnings if w.step_case_id}), HumanTask.state == StepState.READY))}
    cases = {c.id: c for c in db.session.scalars(select(Case).where(Case.id.in_({w.case_id for w in warnings
                                                                                   if w.case_id})))}
    decided = _decisions(list(cases.values()))
    limits = _running_limits([w.id for w in warnings if w.status == WarningStatus.INCLUDED])
    villages = village_names({w.village_id for w in warnings if w.village_id})
    batches = {b.id: b for b in db.session.scalars(select(WarningBatch).where(
        WarningBatch.id.in_({w.batch_id for w in warnings})))}
    rows = []
    for warning in warnings:
        detail, case = warning.detail, cases.get(warning.case_id)
        task_id, step, due = steps.get(warning.step_case_id, (None, "", None))
        if case is not None and warning.case_id not in decided and case.status == CaseStatus.RUNNING:
            due, step = limits.get(warning.id, case.due_at), "识别办理中"
        rows.append(LedgerRow(
            warning=warning, status_name=WarningStatus.label_of(warning.status),
            department_name=detail.get("department_name", warning.department),
            indicator_name=detail.get("indicator_name", warning.indicator),
            village=villages.get(warning.village_id, ""), received_at=batches[warning.batch_id].submitted_at,
            dispatched_at=warning.dispatched_at, open_due=due, step_name=step, step_task_id=task_id,
            verified_at=datetime.fromisoformat(detail["verified_at"]) if detail.get("verified_at") else None,
            case=case, decided_at=decided.get(warning.case_id), outcome=_outcome(warning, case, decided),
            days_overdue=days_overdue(due, now) if due else 0))
    return rows


def verification_reference(warning_id: int) -> str:
    """The reference of a warning's own case (入户核查), which holds its limit from the dispatch."""
    return f"{VERIFICATION_PREFIX}:{warning_id}"


def _running_limits(warning_ids: list[int]) -> dict[int, datetime]:
    """The limits still running of these warnings' own cases (waiting for the county's decision on the
    identification), by warning id (one statement)."""
    rows = db.session.execute(select(_WARNING_OF_VERIFICATION, Case.due_at).where(
        Case.reference.in_([verification_reference(i) for i in warning_ids]), Case.status == CaseStatus.RUNNING,
        Case.due_at.is_not(None), Case.deadline_met_at.is_(None)))
    return {warning_id: due for warning_id, due in rows}


def _outcome(warning: DepartmentWarning, case: Case | None, decided: dict[int, datetime]) -> str:
    if warning.status in NOTED_WARNING_STATUSES:
        noted = warning.detail.get("noted_case")
        return f"{warning.detail.get('compared', '')}：预警已记入{'案件 ' + noted if noted else '该户'}"
    if warning.status == WarningStatus.NOT_INCLUDED:
        return f"不符合纳入条件，列为重点关注户：{warning.outcome_reason or ''}"
    if warning.status == WarningStatus.INCLUDED and case is not None:
        result = {CaseOutcome.IDENTIFIED: "已认定为监测对象", CaseOutcome.REJECTED: "经审定不纳入"}.get(case.outcome or "",
                                                                                              "识别办理中")
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
    return ledger_rows(list(db.session.scalars(query)), now)


def ledger_departments(place: Jurisdiction, on: date) -> dict[str, str]:
    """key → name of the departments the ledger of ``place`` may be filtered by (部门): those configured for it on
    ``on``, then any other whose warnings it holds (the city's, or one since taken out of the policy), named as its
    warnings were."""
    names = department_names(place, on)
    held = set(db.session.scalars(select(DepartmentWarning.department).distinct()
                                  .where(DepartmentWarning.jurisdiction_path.startswith(place.path))))
    for key in sorted(held - set(names)):
        warning = db.session.scalar(select(DepartmentWarning).filter_by(department=key).limit(1))
        names[key] = str((warning.detail or {}).get("department_name") or key)
    return names


def overdue_warnings(place: Jurisdiction, now: datetime) -> list[LedgerRow]:
    """Warnings whose step is past its due date (the city's and county's 5 working days, the township's 20), or
    whose own limit is past while the identification they opened waits for the county's decision (20 working
    days from the dispatch, 000 六（二）3); one statement, then their ledger lines."""
    late_cases = select(HumanTask.case_id).where(HumanTask.state == StepState.READY, HumanTask.due_at < now)
    late_limits = select(_WARNING_OF_VERIFICATION).where(
        Case.procedure == Procedure.WARNING_VERIFICATION, Case.status == CaseStatus.RUNNING, Case.due_at < now,
        Case.deadline_met_at.is_(None), Case.jurisdiction_path.startswith(place.path))
    query = _in(place).where(or_(DepartmentWarning.step_case_id.in_(late_cases),
                                 and_(DepartmentWarning.status == WarningStatus.INCLUDED,
                                      DepartmentWarning.id.in_(late_limits))))
    rows = ledger_rows(list(db.session.scalars(query)), now)
    return sorted((r for r in rows if r.days_overdue), key=lambda r: (r.open_due, r.warning.id))


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """[start, end) of a month in China Standard Time."""
    try:
        first = date.fromisoformat(month + "-01")
    except ValueError as exc:
        raise RuleViolation(f"month: 月份 {month} 无效，应为 年-月，如 2026-09") from exc
    following = (first + timedelta(days=32)).replace(day=1)
    return (datetime.combine(first, datetime.min.time(), CST), datetime.combine(following, datetime.min.time(), CST))


def previous_month(today: date) -> str:
    last = today.replace(day=1) - timedelta(days=1)
    return f"{last.year}-{last.month:02d}"


def report_opens_on(month: str) -> date:
    """The day the report of ``month`` opens: the first of the next month (000 六（二）4: 上报上个月的结果)."""
    return month_bounds(month)[1].date()


@dataclass(frozen=True)
class DueReport:
    """A county's report whose task is open now: its month, task and due moment."""

    month: str
    task_id: int
    due_at: datetime | None


@dataclass(frozen=True)
class MonthlyReport:
    """The county's report to the city of last month's dispatched warnings and their results (月报)."""

    county: Jurisdiction
    month: str
    rows: list[LedgerRow]
    counts: dict[str, int]
    case: Case | None  # the month's report case (engine.warnings.schedules)
    task_id: int | None  # its ready task, while the report is due
    due_at: datetime | None
    submitted: AuditEvent | None
    due_now: DueReport | None = None  # the county's report to make now (of this month or another)

    @property
    def opens_on(self) -> date:
        """When the month's report task opens (its case waits until then)."""
        return report_opens_on(self.month)


def monthly_report(county: Jurisdiction, month: str, now: datetime) -> MonthlyReport:
    """Warnings of ``county`` dispatched in ``month`` with their results, and the report's case, due date and
    submission."""
    start, end = month_bounds(month)
    query = (_in(county).where(DepartmentWarning.dispatched_at >= start, DepartmentWarning.dispatched_at < end)
             .order_by(DepartmentWarning.dispatched_at, DepartmentWarning.id))
    rows = ledger_rows(list(db.session.scalars(query)), now)
    counts = dict(Counter(r.status_name for r in rows))
    case = db.session.scalar(select(Case).filter_by(reference=f"{REPORT_PREFIX}:{county.code}:{month}")
                             .order_by(Case.id.desc()))
    task = db.session.execute(select(HumanTask.id, HumanTask.due_at).filter_by(
        case_id=case.id, ledger_step=LedgerStep.MONTHLY_REPORT).order_by(HumanTask.id.desc())).first() if case else None
    submitted = db.session.scalar(select(AuditEvent).filter_by(case_id=case.id, action=REPORT_ACTION)) if case else None
    return MonthlyReport(county, month, rows, counts, case, task[0] if task and submitted is None else None,
                         task[1] if task else None, submitted, _due_report(county))


def _due_report(county: Jurisdiction) -> DueReport | None:
    """The county's report whose task is open (the earliest month, should several be)."""
    found = db.session.execute(
        select(Case.reference, HumanTask.id, HumanTask.due_at).join(HumanTask, HumanTask.case_id == Case.id)
        .where(Case.procedure == Procedure.WARNING_REPORT, Case.jurisdiction_id == county.id,
               Case.status == CaseStatus.RUNNING, HumanTask.state == StepState.READY,
               HumanTask.ledger_step == LedgerStep.MONTHLY_REPORT)
        .order_by(Case.reference).limit(1)).first()
    return DueReport(found[0].rsplit(":", 1)[1], found[1], found[2]) if found else None


@dataclass(frozen=True)
class PushCase:
    """A department's push of one period (推送期限): its case, due date and whether it is late or done."""

    case: Case
    department_name: str
    period: str
    due_at: datetime | None
    done: bool
    days_overdue: int


def push_cases(place: Jurisdiction, now: datetime, limit: int = 200) -> list[PushCase]:
    """The departments' push cases at ``place`` (市/县), the running ones first, then the latest done."""
    query = (select(Case, HumanTask.due_at).outerjoin(HumanTask, (HumanTask.case_id == Case.id)
                                                      & (HumanTask.ledger_step == LedgerStep.DEPARTMENT_PUSH))
             .where(Case.procedure == Procedure.WARNING_PUSH, Case.jurisdiction_id == place.id)
             .order_by((Case.status != CaseStatus.RUNNING), Case.reference.desc()).limit(limit))
    rows = []
    for case, due in db.session.execute(query):
        late = case.status == CaseStatus.RUNNING and due is not None and due < now
        rows.append(PushCase(case, (case.subject or "").split(" ")[0], case.reference.rsplit(":", 1)[1], due,
                             case.status != CaseStatus.RUNNING, days_overdue(due, now) if late else 0))
    return rows


def missing_pushes(place: Jurisdiction, now: datetime) -> list[PushCase]:
    """Pushes to ``place`` and below past their deadline (推送逾期): running push cases whose task is overdue."""
    query = (select(Case, HumanTask.due_at).join(HumanTask, HumanTask.case_id == Case.id)
             .where(Case.procedure == Procedure.WARNING_PUSH, Case.status == CaseStatus.RUNNING,
                    HumanTask.state == StepState.READY,
                    HumanTask.due_at < now, Case.jurisdiction_path.startswith(place.path))
             .order_by(HumanTask.due_at, Case.reference))
    return [PushCase(case, (case.subject or "").split(" ")[0], case.reference.rsplit(":", 1)[1], due, False,
                     days_overdue(due, now)) for case, due in db.session.execute(query)]


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


@dataclass(frozen=True)
class CasePanel:
    """What a warning procedure's task page shows beside its form: the warnings of the step (with the comparison
    with the monitored list for the county), the push rule of a department's period, or the month's report."""

    kind: str  # batch | verification | push | report
    rows: list[LedgerRow]
    comparisons: dict[int, Comparison]
    report: MonthlyReport | None = None
    push_rule: str = ""


def case_panel(case: Case, now: datetime) -> CasePanel | None:
    """The panel of a department warning case (None for any other procedure)."""
    if case.procedure in (Procedure.WARNING_BATCH, Procedure.WARNING_VERIFICATION):
        warnings = list(db.session.scalars(select(DepartmentWarning).where(
            (DepartmentWarning.step_case_id == case.id) | (DepartmentWarning.id.in_(_verified_in(case))))
            .order_by(DepartmentWarning.row_number)))
        kind = "batch" if case.procedure == Procedure.WARNING_BATCH else "verification"
        return CasePanel(kind, ledger_rows(warnings, now), compare_all(warnings))
    if case.procedure == Procedure.WARNING_REPORT:
        return CasePanel("report", [], {}, report=monthly_report(case.jurisdiction, case.reference.rsplit(":", 1)[1],
                                                                   now))
    if case.procedure == Procedure.WARNING_PUSH:
        return CasePanel("push", [], {}, push_rule=case.subject or "")
    return None


def _verified_in(case: Case) -> list[int]:
    """The warning a verification case was about, once verified (it no longer waits in it)."""
    prefix, _, warning_id = (case.reference or "").partition(":")
    return [int(warning_id)] if prefix == VERIFICATION_PREFIX and warning_id.isdigit() else []
