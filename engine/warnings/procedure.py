"""Department warnings (行业预警, 000 §6): a department pushes a batch of warnings; the city splits and pushes
them to the counties; the county compares each with the monitored list and dispatches (交办) the others to the
township; the township verifies at home and either starts the identification (lead date = the dispatch date)
or records the household as a key-attention household (重点关注). Every step has its working-day limit,
computed with the official calendar and kept with its explanation; the county keeps the ledger (台账) and
reports last month's dispatched items to the city before the 25th. This module holds the steps after a batch
is taken in (engine.warnings.intake) and before the monthly report (engine.warnings.report).

Every service call is one transaction."""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from engine.cases.lifecycle import begin_identification
from engine.core import audit
from engine.core.clock import Clock
from engine.core.db import db, fetch
from engine.core.errors import FormInvalid, NotFound, PermissionDenied, RuleViolation
from engine.core.models import Case, DepartmentWarning, Household, Jurisdiction, Member, User, WarningBatch
from engine.core.transaction import transaction
from engine.core.vocabulary import Channel
from engine.households.attention import mark_key_attention
from engine.warnings.ledger import COVERED_STATUSES, STATUS_NAMES, STEP_NAMES, Comparison, compare
from engine.warnings.thresholds import step_working_days
from timers.calendar import Deadline, default_calendar, to_local_date

log = logging.getLogger(__name__)

CHANNEL = Channel.DEPARTMENT_WARNING
VERIFICATION_FORM = "warning_verification"
REASON_LIMIT = 500


# -- who may act ----------------------------------------------------------------------------------


def acting_user(actor: str) -> User:
    user = db.session.scalar(select(User).filter_by(username=actor))
    if user is None:
        raise NotFound(f"用户 {actor} 不存在")
    return user


def require_role(user: User, role: str, path: str, what: str) -> None:
    if role not in user.roles:
        raise PermissionDenied(f"{user.display_name} 没有办理{what}所需的角色")
    if not user.jurisdiction.contains(path):
        raise PermissionDenied(f"{what}不在 {user.jurisdiction.full_name} 辖区内")


def today_in_china(clock: Clock) -> date:
    return to_local_date(clock.now())


def get_warning(warning_id: int) -> DepartmentWarning:
    return fetch(DepartmentWarning, warning_id, "预警")


def get_batch(batch_id: int) -> WarningBatch:
    return fetch(WarningBatch, batch_id, "预警批次")


# -- steps and their limits -----------------------------------------------------------------------


def working_days_limit(start: date, n: int) -> Deadline:
    return default_calendar().add_working_days(start, n)


def open_step(warning: DepartmentWarning, step: str, started: datetime, deadline: Deadline) -> None:
    """Start a step of the warning with its due date (kept with the explanation of how it was computed)."""
    steps = [*warning.detail.get("steps", []), {
        "step": step, "name": STEP_NAMES[step], "started_at": started.isoformat(),
        "due_at": deadline.due_at.isoformat(), "explanation": deadline.explanation,
        "data_version": deadline.data_version, "provisional": deadline.provisional}]
    warning.detail = {**warning.detail, "steps": steps}
    warning.due_at = deadline.due_at


def _close_step(warning: DepartmentWarning, at: datetime, actor: str, **result: Any) -> None:
    steps = [dict(s) for s in warning.detail.get("steps", [])]
    if steps and "done_at" not in steps[-1]:
        steps[-1].update(done_at=at.isoformat(), done_by=actor, **result)
    warning.detail = {**warning.detail, "steps": steps}


def set_detail(warning: DepartmentWarning, **values: Any) -> None:
    warning.detail = {**warning.detail, **{k: _plain(v) for k, v in values.items()}}


def _plain(value: Any) -> Any:
    """JSON-safe: dates and datetimes as ISO text, amounts as text."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


# -- the city splits and pushes to the counties ---------------------------------------------------


def push_to_counties(batch_id: int, actor: str, clock: Clock) -> dict[str, int]:
    """The city splits a batch by county and pushes it (分解推送); each county then has its own 5 working days.
    Returns the number of warnings per county."""
    with transaction():
        user = acting_user(actor)
        batch = get_batch(batch_id)
        require_role(user, "city_officer", batch.jurisdiction.path, f"预警批次 {batch.id} ")
        pending = list(db.session.scalars(select(DepartmentWarning).filter_by(batch_id=batch.id, status="received")
                                          .order_by(DepartmentWarning.row_number)))
        if not pending:
            raise RuleViolation(f"预警批次 {batch.id} 没有待分解推送的预警")
        now, today = clock.now(), today_in_china(clock)
        counts: Counter[str] = Counter()
        deadlines: dict[int, Deadline] = {}
        for warning in pending:
            county = db.session.get(Jurisdiction, warning.village_id).ancestor_at("county")
            if county.id not in deadlines:
                deadlines[county.id] = working_days_limit(today, step_working_days(county, today)[0])
            _close_step(warning, now, actor, county=county.code)
            open_step(warning, "county_dispatch", now, deadlines[county.id])
            warning.status = "at_county"
            counts[county.name] += 1
        audit.record(now, actor, "warnings_pushed", batch_id=batch.id, counties=dict(counts))
    return dict(counts)


# -- the county compares and dispatches -----------------------------------------------------------


@dataclass(frozen=True)
class DispatchResult:
    noted: list[DepartmentWarning]
    dispatched: list[DepartmentWarning]


def dispatch_warnings(warning_ids: list[int], actor: str, clock: Clock) -> DispatchResult:
    """The county compares the selected warnings with the monitored list (比对交办): a person whose household is
    already monitored (or in a procedure) is noted on that household and its running case; the others are
    dispatched to their township, to be verified and approved within 20 working days."""
    if not warning_ids:
        raise RuleViolation("请选择要比对交办的预警")
    with transaction():
        user = acting_user(actor)
        warnings = [get_warning(i) for i in dict.fromkeys(warning_ids)]
        for warning in warnings:
            require_role(user, "county_officer", warning.jurisdiction_path, f"预警 {warning.id} ")
            if warning.status != "at_county":
                raise RuleViolation(f"预警 {warning.id}（{warning.person_name}）当前为“{STATUS_NAMES[warning.status]}”，"
                                    "不能比对交办")
        noted, dispatched = [], []
        for warning in warnings:
            comparison = compare(warning)
            if comparison.household is not None:
                warning.household_id = comparison.household.id
            if comparison.covered:
                _note(warning, comparison, actor, clock)
                noted.append(warning)
            else:
                _dispatch(warning, actor, clock)
                dispatched.append(warning)
    return DispatchResult(noted, dispatched)


def _note(warning: DepartmentWarning, comparison: Comparison, actor: str, clock: Clock) -> None:
    now = clock.now()
    case = comparison.running_case
    warning.status, warning.due_at = "already_monitored", None
    _close_step(warning, now, actor, result=comparison.text)
    set_detail(warning, noted_case=case.number if case else None, compared=comparison.text)
    audit.record(now, actor, "warning_noted", case_id=case.id if case else None,
                 household_id=comparison.household.id, warning_id=warning.id, batch_id=warning.batch_id,
                 department=warning.department, department_name=warning.detail.get("department_name"),
                 indicator=warning.indicator, indicator_name=warning.detail.get("indicator_name"),
                 amount=warning.amount, date=warning.detail.get("date"), comparison=comparison.text)


def _dispatch(warning: DepartmentWarning, actor: str, clock: Clock) -> None:
    now, today = clock.now(), today_in_china(clock)
    village = db.session.get(Jurisdiction, warning.village_id)
    township = village.ancestor_at("township")
    deadline = working_days_limit(today, step_working_days(village, today)[1])
    _close_step(warning, now, actor, result="交办")
    open_step(warning, "township_verification", now, deadline)
    warning.status, warning.dispatched_at = "dispatched", now
    set_detail(warning, township=township.code if township else None, due_explanation=deadline.explanation)
    audit.record(now, actor, "warning_dispatched", household_id=warning.household_id, warning_id=warning.id,
                 township=township.full_name if township else None, due_at=deadline.due_at,
                 explanation=deadline.explanation)


# -- the township verifies at home ----------------------------------------------------------------


def record_verification(warning_id: int, meets: bool, reason: str, actor: str, clock: Clock) -> DepartmentWarning:
    """Record the township's home verification (入户核查) of a dispatched warning. Meets the criteria → an
    identification case is opened (channel 部门筛查预警, lead date = the dispatch date); does not → the
    household becomes a key-attention household (重点关注) and the reason is kept."""
    reason = (reason or "").strip()[:REASON_LIMIT]
    with transaction():
        user = acting_user(actor)
        warning = get_warning(warning_id)
        require_role(user, "township_officer", warning.jurisdiction_path, f"预警 {warning.id} ")
        if warning.status != "dispatched":
            raise RuleViolation(f"预警 {warning.id} 当前为“{STATUS_NAMES[warning.status]}”，不能录入核查结果")
        if not meets and not reason:
            raise FormInvalid(VERIFICATION_FORM, [("reason", "不符合纳入条件时须写明理由")])
        household = _household_to_verify(warning, user)
        warning.household_id = household.id
        if meets:
            case = _open_identification(warning, household, reason, actor, clock)
            warning.status, warning.case_id = "included", case.id
        else:
            _key_attention(household, to_local_date(clock.now()), f"部门预警经入户核查不符合纳入条件：{reason}")
            warning.status = "not_included"
        warning.outcome_reason = reason or None
        now = clock.now()
        if not meets:  # an included warning's step runs on until the county approval
            _close_step(warning, now, actor, result=STATUS_NAMES[warning.status])
        set_detail(warning, verified_at=now, verified_by=actor)
        audit.record(now, actor, "warning_verified", case_id=warning.case_id, household_id=household.id,
                     warning_id=warning.id, outcome=warning.status, reason=reason,
                     household_status=household.status)
    return warning


def _household_to_verify(warning: DepartmentWarning, user: User) -> Household:
    member = db.session.scalar(select(Member).filter_by(id_number=warning.id_number))
    if member is None:
        raise RuleViolation(f"{warning.person_name}（身份证号 {warning.id_number}）尚未登记为农户成员："
                            "请先登记该农户，再录入核查结果")
    household = member.household
    if not user.jurisdiction.contains(household.village):
        raise PermissionDenied(f"{warning.person_name} 登记在 {household.village.full_name}，"
                               f"不在 {user.jurisdiction.full_name} 辖区内")
    return household


def _open_identification(warning: DepartmentWarning, household: Household, reason: str, actor: str,
                         clock: Clock) -> Case:
    """Open the identification in this transaction; its lead date is the warning's dispatch date."""
    lead = to_local_date(warning.dispatched_at)
    detail = warning.detail
    amount = f" {warning.amount:,.2f} 元" if warning.amount is not None else ""
    application = {"channel_detail": f"{detail.get('department_name', warning.department)}预警："
                                     f"{detail.get('indicator_name', warning.indicator)}{amount}",
                   "warning_id": warning.id, "verification": reason}
    return begin_identification(household, CHANNEL, lead, actor, clock, application)


def _key_attention(household: Household, on: date, reason: str) -> None:
    if household.status in COVERED_STATUSES:
        raise RuleViolation(f"户 {household.number} 已是监测对象或正在办理识别，不能列为重点关注户")
    mark_key_attention(household, on, reason)
