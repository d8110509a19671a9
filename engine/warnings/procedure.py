"""Department warnings (行业预警, 000 §6) as procedures: the steps are the diagrams' (``processes/warning_*.bpmn``),
run by the engine like every other case — a department's push (``warning_push``), a batch's split by the city and
comparison by the county (``warning_batch``), each dispatched warning's home verification by the township
(``warning_verification``) and the county's monthly report (``warning_report``). This module holds what their
diagram functions do to the records (engine.warnings.functions calls it): open those cases, split a batch by
county, compare it with the monitored list and dispatch, and the verification's outcome — an identification
(lead date = the dispatch date) or a key-attention household (重点关注).

Granularity: a batch is one case at the place it was pushed to; a city's batch is split into one case per county,
so that each county's comparison of its whole share is one task; from dispatch on every warning has its own case,
so every household still has its own step, due date and record."""
from __future__ import annotations

import logging
from collections import Counter, defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select, update

from engine.cases.lifecycle import begin_identification, open_case
from engine.core import audit
from engine.core.clock import Clock
from engine.core.db import db, fetch
from engine.core.errors import NotFound, PermissionDenied, RuleViolation
from engine.core.models import Case, DepartmentWarning, Household, Jurisdiction, Member, User, WarningBatch
from engine.core.vocabulary import COVERED_HOUSEHOLD_STATUSES, Channel, JurisdictionLevel, Procedure, WarningStatus
from engine.households.attention import mark_key_attention
from engine.households.privacy import mask_id_number
from engine.policy.check import StartPolicy, start_policy
from engine.warnings.ledger import Comparison, compare_all, verification_reference
from timers.calendar import to_local_date

log = logging.getLogger(__name__)

CHANNEL = Channel.DEPARTMENT_WARNING
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


def get_batch(batch_id: int) -> WarningBatch:
    return fetch(WarningBatch, batch_id, "预警批次")


# -- a batch at the place it was pushed to ----------------------------------------------------------


def batch_reference(batch: WarningBatch, place: Jurisdiction) -> str:
    return f"warning_batch:{batch.id}:{place.code}"


def open_batch_case(batch: WarningBatch, place: Jurisdiction, warning_ids: list[int], actor: str,
                    clock: Clock, received_on: date | None = None) -> Case:
    """The batch's case at ``place`` (the city it was pushed to, or a county: its share), holding ``warning_ids``;
    its step's limit counts from ``received_on`` (today unless the share came earlier: a migrated warning)."""
    department_name = _department_name(batch)
    received_on = received_on or today_in_china(clock)
    case = open_case(
        Procedure.WARNING_BATCH, place, actor, clock, channel=CHANNEL, lead_date=received_on,
        subject=f"{department_name} {batch.period} 预警数据（{place.name} {len(warning_ids)} 条）",
        reference=batch_reference(batch, place), department=batch.department,
        data={"batch": {"id": batch.id, "department": batch.department, "department_name": department_name,
                        "period": batch.period, "rows": len(warning_ids), "received_on": received_on.isoformat()}})
    status = WarningStatus.RECEIVED if place.level == JurisdictionLevel.CITY else WarningStatus.AT_COUNTY
    _move(warning_ids, step_case_id=case.id, status=status)
    return case


def _department_name(batch: WarningBatch) -> str:
    first = db.session.scalar(select(DepartmentWarning.detail).filter_by(batch_id=batch.id).limit(1)) or {}
    return first.get("department_name", batch.department)


def _move(warning_ids: list[int], **values: Any) -> None:
    """Set ``values`` on the warnings (one statement per 500)."""
    for start in range(0, len(warning_ids), 500):
        db.session.execute(update(DepartmentWarning).where(DepartmentWarning.id.in_(warning_ids[start:start + 500]))
                           .values(**values).execution_options(synchronize_session="fetch"))


def warnings_of(case: Case) -> list[DepartmentWarning]:
    """The warnings waiting in ``case``'s step, in row order."""
    return list(db.session.scalars(select(DepartmentWarning).filter_by(step_case_id=case.id)
                                   .order_by(DepartmentWarning.batch_id, DepartmentWarning.row_number)))


def split_to_counties(case: Case, actor: str, clock: Clock) -> dict[str, int]:
    """The city splits its batch by county and pushes each share (分解推送): one comparison case per county.
    Returns the number of warnings per county."""
    batch = get_batch(int(case.reference.split(":")[1]))
    shares: dict[Jurisdiction, list[int]] = defaultdict(list)
    villages = places_by_id({w.village_id for w in warnings_of(case)})
    for warning in warnings_of(case):
        shares[villages[warning.village_id].ancestor_at(JurisdictionLevel.COUNTY)].append(warning.id)
    if not shares:
        raise RuleViolation(f"预警批次 {batch.id} 没有待分解推送的预警")
    counts = {}
    for county, ids in sorted(shares.items(), key=lambda item: item[0].code):
        open_batch_case(batch, county, ids, actor, clock)
        counts[county.name] = len(ids)
    audit.record(clock.now(), actor, "warnings_pushed", case_id=case.id, batch_id=batch.id, counties=counts)
    return counts


def places_by_id(ids: set[int]) -> dict[int, Jurisdiction]:
    """The places of ``ids`` (one statement)."""
    return {j.id: j for j in db.session.scalars(select(Jurisdiction).where(Jurisdiction.id.in_(ids)))}


# -- the county compares and dispatches -----------------------------------------------------------


def dispatch_to_townships(case: Case, actor: str, clock: Clock) -> dict[str, int]:
    """The county compares its share with the monitored list (比对交办): a person whose household is monitored or
    in a procedure is noted on that household and its running case; every other warning is dispatched to its
    township, as its own verification case. Returns {"noted": n, "dispatched": m}."""
    warnings = warnings_of(case)
    comparisons = compare_all(warnings)
    villages = places_by_id({w.village_id for w in warnings})
    today = today_in_china(clock)
    policies = {v.id: start_policy(Procedure.WARNING_VERIFICATION, v, today) for v in villages.values()}
    counts: Counter[str] = Counter()
    for warning in warnings:
        comparison = comparisons[warning.id]
        if comparison.household is not None:
            warning.household_id = comparison.household.id
        if comparison.covered:
            _note(warning, comparison, actor, clock)
            counts["noted"] += 1
        else:
            _dispatch(warning, villages[warning.village_id], comparison.household, actor, clock,
                      policies[warning.village_id])
            counts["dispatched"] += 1
    return {"noted": counts["noted"], "dispatched": counts["dispatched"]}


def _note(warning: DepartmentWarning, comparison: Comparison, actor: str, clock: Clock) -> None:
    now, running = clock.now(), comparison.running_case
    warning.status, warning.step_case_id = comparison.noted_as, None
    warning.detail = {**warning.detail, "noted_case": running.number if running else None, "compared": comparison.text}
    audit.record(now, actor, "warning_noted", case_id=running.id if running else None,
                 household_id=comparison.household.id, warning_id=warning.id, batch_id=warning.batch_id,
                 department=warning.department, department_name=warning.detail.get("department_name"),
                 indicator=warning.indicator, indicator_name=warning.detail.get("indicator_name"),
                 amount=warning.amount, date=warning.detail.get("date"), comparison=comparison.text)


def _dispatch(warning: DepartmentWarning, village: Jurisdiction, household: Household | None, actor: str,
              clock: Clock, needs: StartPolicy) -> None:
    warning.status, warning.dispatched_at = WarningStatus.DISPATCHED, clock.now()
    verification = open_verification(warning, village, household, actor, clock, today_in_china(clock), needs)
    township = village.ancestor_at(JurisdictionLevel.TOWNSHIP)
    audit.record(clock.now(), actor, "warning_dispatched", case_id=verification.id, household_id=warning.household_id,
                 warning_id=warning.id, township=township.full_name if township else None)


def open_verification(warning: DepartmentWarning, village: Jurisdiction, household: Household | None, actor: str,
                      clock: Clock, dispatched_on: date, needs: StartPolicy | None = None) -> Case:
    """The warning's own home-verification case at its village, its limit counted from ``dispatched_on``."""
    detail = warning.detail
    amount = f"{warning.amount:,.2f} 元" if warning.amount is not None else ""
    department_name = detail.get("department_name", warning.department)
    verification = open_case(
        Procedure.WARNING_VERIFICATION, village, actor, clock, household=household, channel=CHANNEL,
        lead_date=dispatched_on, subject=f"{warning.person_name}（{department_name}预警）",
        reference=verification_reference(warning.id), department=warning.department,
        data={"warning": {"id": warning.id, "person": warning.person_name, "department_name": department_name,
                          "indicator_name": detail.get("indicator_name", warning.indicator), "amount": amount,
                          "dispatched_on": dispatched_on.isoformat()}}, needs=needs)
    warning.step_case_id = verification.id
    return verification


# -- the township verifies at home ----------------------------------------------------------------


def warning_of(case: Case) -> DepartmentWarning:
    warning = db.session.scalar(select(DepartmentWarning).filter_by(step_case_id=case.id))
    if warning is None:
        raise NotFound(f"案件 {case.number} 没有待核查的预警")
    return warning


def verified_household(warning: DepartmentWarning, user: User | None) -> Household:
    """The household of the warned person, who must be registered (the township registers them first)."""
    member = db.session.scalar(select(Member).filter_by(id_number=warning.id_number))
    if member is None:
        raise RuleViolation(f"{warning.person_name}（身份证号 {mask_id_number(warning.id_number)}）"
                            "尚未登记为农户成员：请先登记该农户，再录入核查结果")
    household = member.household
    if user is not None and not user.jurisdiction.contains(household.village):
        raise PermissionDenied(f"{warning.person_name} 登记在 {household.village.full_name}，"
                               f"不在 {user.jurisdiction.full_name} 辖区内")
    return household


def verification_problems(data: dict[str, Any], case: Case) -> list[tuple[str, str]]:
    """What keeps a home verification (入户核查) from being recorded, by field: no reason for a household that does
    not meet the criteria; a warned person not registered yet."""
    problems = []
    if data.get("outcome") == "not_meets" and not str(data.get("reason") or "").strip():
        problems.append(("reason", "不符合纳入条件时须写明理由"))
    try:
        verified_household(warning_of(case), None)
    except RuleViolation as exc:
        problems.append(("outcome", str(exc)))
    return problems


def include(case: Case, reason: str, actor: str, clock: Clock) -> Case:
    """Meets the criteria: the identification opens with the dispatch date as its lead date (发现日期). The
    verification case then waits for its decision: its limit runs from the dispatch to the county's decision
    (000 六（二）3 自交办之日起至县级乡村振兴部门审定), or to the identification's end if it is refused before."""
    warning = warning_of(case)
    household = verified_household(warning, acting_user(actor))
    warning.household_id, case.household_id = household.id, household.id
    detail = warning.detail
    amount = f" {warning.amount:,.2f} 元" if warning.amount is not None else ""
    application = {"channel_detail": f"{detail.get('department_name', warning.department)}预警："
                                     f"{detail.get('indicator_name', warning.indicator)}{amount}",
                   "warning_id": warning.id, "verification": reason}
    identification = begin_identification(household, CHANNEL, to_local_date(warning.dispatched_at), actor, clock,
                                          application, awaited_by=case)  # its limit runs to the county's decision
    warning.status, warning.case_id, warning.step_case_id = WarningStatus.INCLUDED, identification.id, None
    warning.outcome_reason = reason[:REASON_LIMIT] or None
    _verified(warning, case, household, actor, clock)
    return identification


def keep_in_view(case: Case, reason: str, actor: str, clock: Clock) -> None:
    """Does not meet the criteria: the household becomes a key-attention household (重点关注) with the reason."""
    if not reason.strip():
        raise RuleViolation("reason: 不符合纳入条件时须写明理由")
    warning = warning_of(case)
    household = verified_household(warning, acting_user(actor))
    warning.household_id, case.household_id = household.id, household.id
    if household.status in COVERED_HOUSEHOLD_STATUSES:
        raise RuleViolation(f"户 {household.number} 已是监测对象或正在办理识别，不能列为重点关注户")
    mark_key_attention(household, today_in_china(clock), f"部门预警经入户核查不符合纳入条件：{reason}")
    warning.status, warning.step_case_id, warning.outcome_reason = (WarningStatus.NOT_INCLUDED, None,
                                                                    reason[:REASON_LIMIT])
    _verified(warning, case, household, actor, clock)


def _verified(warning: DepartmentWarning, case: Case, household: Household, actor: str, clock: Clock) -> None:
    now = clock.now()
    warning.detail = {**warning.detail, "verified_at": now.isoformat(), "verified_by": actor,
                      "verification_case": case.number}
    audit.record(now, actor, "warning_verified", case_id=case.id, household_id=household.id, warning_id=warning.id,
                 outcome=warning.status, reason=warning.outcome_reason, identification=warning.case_id,
                 household_status=household.status)
