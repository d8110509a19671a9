"""When departments push and counties report (推送期限、月报): each department's periodic push to a city or county
is a case per period (``warning_push``: its task opens when the period starts and is due on the department's push
deadline, policy data in ``policy/warning_thresholds.json``), and each county's monthly report of last month's
dispatched warnings to the city is a case per month (``warning_report``: due before the 25th, in the diagram), the
first one of a county being last month's, due now (:func:`first_report_month`).
Each case opens the next period's when it ends; :func:`open_schedules` opens the first ones (on install, after
policy changes, and every day from the scheduler), never a second one for the same period."""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from engine.cases.lifecycle import complete_by_record, open_case
from engine.core.clock import Clock
from engine.core.db import db
from engine.core.errors import FangpinError, RuleViolation
from engine.core.models import Case, HumanTask, Jurisdiction, WarningBatch
from engine.core.vocabulary import JurisdictionLevel, Procedure
from engine.warnings.ledger import REPORT_PREFIX, previous_month, report_opens_on
from engine.warnings.thresholds import QUARTER, RECEIVING_LEVELS, Department, departments, next_period, period_start
from timers.calendar import to_local_date

log = logging.getLogger(__name__)

PUSH_PREFIX = "warning_push"


def push_reference(place: Jurisdiction, department: str, period: str) -> str:
    return f"{PUSH_PREFIX}:{place.code}:{department}:{period}"


def report_reference(county: Jurisdiction, month: str) -> str:
    return f"{REPORT_PREFIX}:{county.code}:{month}"


def _month_start(period: str) -> date:
    return date.fromisoformat(period + "-01")


def period_months(department: Department, period: str) -> tuple[date, date]:
    """(the first day of the period, the first day of the month holding its push deadline)."""
    first = period_start(department.push, period)
    if (q := QUARTER.match(period)) is not None:
        return first, date(int(q.group(1)), department.push.months[int(q.group(2)) - 1], 1)
    return first, first


def following_period(department: Department, period: str) -> str:
    """The period after ``period`` in the department's rule (2026-09 → 2026-10, 2026-Q4 → 2027-Q1)."""
    if (q := QUARTER.match(period)) is not None:
        year, index = int(q.group(1)), int(q.group(2))
        return f"{year + 1}-Q1" if index == len(department.push.months) else f"{year}-Q{index + 1}"
    return following_month(period)


def following_month(month: str) -> str:
    """2026-09 → 2026-10."""
    following = (_month_start(month) + timedelta(days=32)).replace(day=1)
    return f"{following.year}-{following.month:02d}"


def open_push(place: Jurisdiction, department: Department, period: str, actor: str, clock: Clock) -> Case:
    """The department's push of ``period`` to ``place``: its task opens when the period starts."""
    opens_on, due_month = period_months(department, period)
    return open_case(
        Procedure.WARNING_PUSH, place, actor, clock, lead_date=min(opens_on, _today(clock)),
        subject=f"{department.name} {period} 预警数据推送", reference=push_reference(place, department.key, period),
        department=department.key,
        data={"push": {"department": department.key, "department_name": department.name, "period": period,
                       "opens_on": opens_on.isoformat(), "due_month": due_month.isoformat(),
                       "day": department.push.day or 31, "rule": department.push.text}})


def open_event_push(place: Jurisdiction, department: Department, event_on: date, actor: str, clock: Clock) -> Case:
    """A push due a number of working days after an event (秋季学期开学、灾害发生…, 000 六（一）): recorded by the
    department (or the county), its task opens at once and is due ``working_days`` after ``event_on``."""
    rule = department.push
    if rule.kind != "after_event" or not rule.working_days:
        raise RuleViolation(f"{department.name}按“{rule.text}”推送，不是随事件推送，无需登记事件")
    if event_on > _today(clock):
        raise RuleViolation(f"event_on: {rule.event or '事件'}日期 {event_on} 晚于今天")
    reference = push_reference(place, department.key, event_on.isoformat())
    if db.session.scalar(select(Case.id).filter_by(reference=reference)) is not None:
        raise RuleViolation(f"{department.name} {event_on} 的{rule.event or '事件'}已登记")
    return open_case(
        Procedure.WARNING_PUSH, place, actor, clock, lead_date=event_on,
        subject=f"{department.name} {event_on}（{rule.event or '事件'}）预警数据推送", reference=reference,
        department=department.key,
        data={"push": {"department": department.key, "department_name": department.name,
                       "period": event_on.isoformat(), "opens_on": event_on.isoformat(),
                       "event_on": event_on.isoformat(), "event": rule.event, "working_days": rule.working_days,
                       "rule": rule.text}})


def first_report_month(latest: str | None, today: date) -> str:
    """The month whose report a county without a running report case opens: the month after its latest report
    (``latest``), but never before last month — whose report is due this month; a county that never had one starts
    with last month's (its report is what is due now)."""
    last_month = previous_month(today)
    return max(following_month(latest), last_month) if latest else last_month


def open_report(county: Jurisdiction, month: str, actor: str, clock: Clock) -> Case:
    """The county's report of ``month``'s dispatched warnings: its task opens when the month has ended."""
    first = _month_start(month)
    opens_on = report_opens_on(month)
    return open_case(
        Procedure.WARNING_REPORT, county, actor, clock, lead_date=min(first, _today(clock)),
        subject=f"{county.name} {month} 预警交办事项核查结果月报", reference=report_reference(county, month),
        data={"report": {"month": month, "opens_on": opens_on.isoformat()}})


def _today(clock: Clock) -> date:
    return to_local_date(clock.now())


def pushed_batches(place: Jurisdiction, department: str, period: str) -> int:
    """How many batches the department has pushed to ``place`` for ``period``."""
    return len(db.session.scalars(select(WarningBatch.id).filter_by(
        jurisdiction_id=place.id, department=department, period=period)).all())


def complete_push(place: Jurisdiction, department: str, period: str, batch: WarningBatch, actor: str,
                  clock: Clock) -> bool:
    """The uploaded batch does the department's push task of ``period``, if it is open (True then)."""
    row = db.session.scalar(select(HumanTask).join(Case, Case.id == HumanTask.case_id).where(
        Case.reference == push_reference(place, department, period), Case.status == "running",
        HumanTask.state == "READY"))
    if row is None:
        return False
    complete_by_record(row, {"batch_id": batch.id, "rows": batch.rows_count, "no_warnings": False}, actor, clock)
    return True


def open_schedules(clock: Clock, actor: str = "system") -> dict[str, int]:
    """Open the push case of every periodic department of every city and county, and every county's monthly
    report case, where none is running (one statement finds the running ones). Returns how many were opened."""
    running = {ref.rsplit(":", 1)[0] for ref in db.session.scalars(select(Case.reference).where(
        Case.procedure.in_((Procedure.WARNING_PUSH, Procedure.WARNING_REPORT)), Case.status == "running"))}
    latest_reports = dict(db.session.execute(  # each county's latest report month (references sort by month)
        select(Case.jurisdiction_id, func.max(Case.reference)).where(Case.procedure == Procedure.WARNING_REPORT)
        .group_by(Case.jurisdiction_id)).all())
    today, now = _today(clock), clock.now()
    opened = {"push": 0, "report": 0}
    places = db.session.scalars(select(Jurisdiction).where(Jurisdiction.level.in_(RECEIVING_LEVELS))
                                .order_by(Jurisdiction.path))
    for place in places:
        try:
            found = departments(place, today)
        except FangpinError:
            found = {}
        for key, department in found.items():
            upcoming = next_period(department.push, now)
            if upcoming is None or f"{PUSH_PREFIX}:{place.code}:{key}" in running:
                continue
            opened["push"] += _opened(open_push, place, department, upcoming[0], actor, clock)
        if place.level == JurisdictionLevel.COUNTY and found and f"{REPORT_PREFIX}:{place.code}" not in running:
            latest = latest_reports.get(place.id)
            month = first_report_month(latest.rsplit(":", 1)[1] if latest else None, today)
            opened["report"] += _opened(open_report, place, month, actor, clock)
    log.info("opened %s department push and %s monthly report cases", opened["push"], opened["report"])
    return opened


def _opened(open_one: Callable[..., Case], *args: Any) -> int:
    """1 if the case opened; a place whose procedure is not configured is skipped (``fangpin policy check``
    names it): that is found before anything is added to the session."""
    try:
        open_one(*args)
    except FangpinError as exc:
        log.warning("%s", exc)
        return 0
    return 1
