"""Department warnings (行业预警, 000 §6): a department pushes a batch of warnings; the city splits and pushes
them to the counties; the county compares each with the monitored list and dispatches (交办) the others to the
township; the township verifies at home and either starts the identification (lead date = the dispatch date)
or records the household as a key-attention household (重点关注). Every step has its working-day limit,
computed with the official calendar and kept with its explanation; the county keeps the ledger (台账) and
reports last month's dispatched items to the city before the 25th.

Every service call is one transaction: a batch with one bad row is refused whole, every bad row named."""
from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from engine.cases.lifecycle import begin_identification
from engine.core import audit
from engine.core.clock import Clock
from engine.core.db import db, fetch
from engine.core.errors import FormInvalid, NotFound, PermissionDenied, PolicyMissing, RuleViolation
from engine.core.models import AuditEvent, Case, DepartmentWarning, Household, Jurisdiction, Member, User, WarningBatch
from engine.core.transaction import transaction
from engine.core.vocabulary import HouseholdStatus
from engine.warnings.ledger import (
    COVERED_STATUSES,
    REPORT_ACTION,
    STATUS_NAMES,
    STEP_NAMES,
    Comparison,
    compare,
    month_bounds,
    monthly_report,
)
from engine.warnings.rows import FORM, RawRow
from engine.warnings.thresholds import Department, Indicator, check_period, departments, step_working_days
from timers.calendar import Deadline, default_calendar, to_local_date

log = logging.getLogger(__name__)

CHANNEL = "department_warning"
VERIFICATION_FORM = "warning_verification"
ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
DATE_TEXT = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
REASON_LIMIT = 500


# -- who may act ----------------------------------------------------------------------------------


def _user(actor: str) -> User:
    user = db.session.scalar(select(User).filter_by(username=actor))
    if user is None:
        raise NotFound(f"用户 {actor} 不存在")
    return user


def _require(user: User, role: str, path: str, what: str) -> None:
    if role not in user.roles:
        raise PermissionDenied(f"{user.display_name} 没有办理{what}所需的角色")
    if not user.jurisdiction.contains(path):
        raise PermissionDenied(f"{what}不在 {user.jurisdiction.full_name} 辖区内")


def _today(clock: Clock) -> date:
    return to_local_date(clock.now())


def get_warning(warning_id: int) -> DepartmentWarning:
    return fetch(DepartmentWarning, warning_id, "预警")


def get_batch(batch_id: int) -> WarningBatch:
    return fetch(WarningBatch, batch_id, "预警批次")


# -- steps and their limits -----------------------------------------------------------------------


def _working_days(start: date, n: int) -> Deadline:
    return default_calendar().add_working_days(start, n)


def _open_step(warning: DepartmentWarning, step: str, started: datetime, deadline: Deadline) -> None:
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


def _set_detail(warning: DepartmentWarning, **values: Any) -> None:
    warning.detail = {**warning.detail, **{k: _plain(v) for k, v in values.items()}}


def _plain(value: Any) -> Any:
    """JSON-safe: dates and datetimes as ISO text, amounts as text."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


# -- importing a batch ----------------------------------------------------------------------------


@dataclass
class _Context:
    """What the row checks need, loaded once per batch."""

    department: Department
    place: Jurisdiction
    period: str
    today: date
    members: dict[str, Member]
    villages: dict[str, Jurisdiction]
    imported: dict[tuple[str, str], tuple[int, int]]  # (id_number, indicator) → (batch id, row)


@dataclass
class _Row:
    line: int
    name: str
    id_number: str
    indicator: Indicator
    amount: Decimal | None
    village: Jurisdiction
    member: Member | None
    on: date
    threshold: str | None


def import_batch(department_key: str, period: str, rows: list[RawRow], source: str, actor: str, clock: Clock,
                 file_name: str | None = None) -> WarningBatch:
    """Import a department's batch of warnings (导入预警数据) for ``period``, pushed to the officer's city or
    county. Every row is checked; if any is wrong nothing is stored and FormInvalid names each bad row
    (``第 N 行 field``) with its reason."""
    with transaction():
        user = _user(actor)
        _require(user, "department_officer", user.jurisdiction.path, "行业预警数据推送")
        place = user.jurisdiction
        if place.level not in ("city", "county"):
            raise RuleViolation("行业部门的预警数据推送给本级（市级或县级）乡村振兴部门，"
                                f"{place.full_name} 不是市级或县级")
        today = _today(clock)
        department = _batch_department(place, department_key, period, today)
        ctx = _context(department, place, period.strip(), today, rows)
        checked, errors = _check_rows(rows, ctx)
        if errors:
            raise FormInvalid(FORM, errors)
        batch = _store(ctx, checked, source, file_name, actor, clock.now())
    log.info("%s imported warning batch %s (%s, %s, %s rows)", actor, batch.id, department_key, period,
             batch.rows_count)
    return batch


def _batch_department(place: Jurisdiction, key: str, period: str, today: date) -> Department:
    found = departments(place, today)
    if not found:
        raise PolicyMissing(f"{place.full_name} 在 {today} 没有配置行业预警标准（policy/warning_thresholds.json）")
    problems = []
    department = found.get(key)
    if department is None:
        names = "、".join(f"{k}（{d.name}）" for k, d in found.items())
        problems.append(("department", f"未知的行业部门 {key or '（空）'}，可选：{names}"))
    elif (reason := check_period(department.push, period, today)) is not None:
        problems.append(("period", f"期间 {period or '（空）'} 无效：{reason}（{department.name}：{department.push.text}）"))
    if problems:
        raise FormInvalid(FORM, problems)
    return department


def _context(department: Department, place: Jurisdiction, period: str, today: date,
             rows: list[RawRow]) -> _Context:
    ids = {_clean_id(r.values.get("id_number")) for r in rows} - {""}
    codes = {_code(r.values.get("village")) for r in rows} - {""}
    members = {m.id_number: m for chunk in _chunks(ids) for m in db.session.scalars(
        select(Member).where(Member.id_number.in_(chunk)))}
    villages = {j.code: j for chunk in _chunks(codes) for j in db.session.scalars(
        select(Jurisdiction).where(Jurisdiction.code.in_(chunk)))}
    imported = {}
    for chunk in _chunks(ids):
        query = (select(DepartmentWarning.id_number, DepartmentWarning.indicator, WarningBatch.id,
                        DepartmentWarning.row_number)
                 .join(DepartmentWarning.batch)
                 .where(WarningBatch.department == department.key, WarningBatch.period == period,
                        WarningBatch.jurisdiction_id == place.id, DepartmentWarning.id_number.in_(chunk)))
        imported.update({(i, ind): (b, r) for i, ind, b, r in db.session.execute(query)})
    return _Context(department, place, period, today, members, villages, imported)


def _chunks(values: Iterable[str], size: int = 500) -> list[list[str]]:
    items = sorted(values)
    return [items[i:i + size] for i in range(0, len(items), size)]


def _check_rows(rows: list[RawRow], ctx: _Context) -> tuple[list[_Row], list[tuple[str, str]]]:
    checked, errors = [], []
    seen: dict[tuple[str, str], int] = {}
    for raw in rows:
        row, problems = _check_row(raw, ctx)
        if row is not None:
            key = (row.id_number, row.indicator.key)
            if key in seen:
                problems.append(("id_number", f"与第 {seen[key]} 行重复（同一人、同一预警指标）"))
            elif key in ctx.imported:
                batch_id, line = ctx.imported[key]
                problems.append(("id_number", f"已在第 {batch_id} 批第 {line} 行导入（同一部门、同一期间 {ctx.period}）"))
            seen.setdefault(key, raw.line)
        errors += [(f"第 {raw.line} 行 {field}", reason) for field, reason in problems]
        if row is not None and not problems:
            checked.append(row)
    return checked, errors


def _check_row(raw: RawRow, ctx: _Context) -> tuple[_Row | None, list[tuple[str, str]]]:
    values, problems = raw.values, []
    name = _text(values.get("name"))
    if not name:
        problems.append(("name", "姓名必填"))
    elif len(name) > 50:
        problems.append(("name", "姓名过长（最多 50 字）"))
    id_number, reason = _id_number(values.get("id_number"), ctx.today, ctx.members)
    if reason:
        problems.append(("id_number", reason))
    indicator = ctx.department.indicator(_text(values.get("indicator")))
    if indicator is None:
        known = "、".join(f"{k}（{i.name}）" for k, i in ctx.department.indicators.items())
        problems.append(("indicator", f"{ctx.department.name}没有预警指标“{_text(values.get('indicator'))}”，可选：{known}"))
    amount, reason = _amount(values.get("amount"))
    if reason:
        problems.append(("amount", reason))
    on, reason = _date(values.get("date"), ctx.today)
    if reason:
        problems.append(("date", reason))
    member = ctx.members.get(id_number) if id_number else None
    village, reason = _village(values.get("village"), member, ctx)
    if reason:
        problems.append(("village", reason))
    threshold = None
    if indicator is not None and not any(f == "amount" for f, _ in problems):
        threshold, reason = _threshold(indicator, amount, member, ctx.department)
        if reason:
            problems.append(("amount", reason))
    if indicator is None or village is None or not id_number or on is None:
        return None, problems
    return _Row(raw.line, name, id_number, indicator, amount, village, member, on, threshold), problems


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _clean_id(value: Any) -> str:
    return "" if isinstance(value, (int, float)) else _text(value).replace(" ", "").upper()


def _code(value: Any) -> str:
    return _text(value).replace(" ", "")


def _id_number(value: Any, today: date, registered: dict[str, Member]) -> tuple[str, str | None]:
    """The ID number in its canonical form; a number not registered here must also carry a valid birth date."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "", "身份证号应以文本格式保存（数字格式会丢失末位），请把该列设为“文本”后重新导出"
    text = _clean_id(value)
    if not text:
        return "", "身份证号必填"
    if not ID_NUMBER.match(text):
        return "", f"身份证号格式不正确：{text}（应为 18 位，前 17 位为数字，最后一位为数字或 X）"
    if text in registered:
        return text, None
    try:
        born = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return "", f"身份证号中的出生日期 {text[6:14]} 无效"
    if born > today or born.year < 1900:
        return "", f"身份证号中的出生日期 {born} 无效"
    return text, None


def _amount(value: Any) -> tuple[Decimal | None, str | None]:
    if value is None or _text(value) == "":
        return None, None
    text = _text(value) if not isinstance(value, float) else repr(value)
    try:
        amount = Decimal(text.replace(",", "").replace("，", "").removesuffix("元").strip())
    except InvalidOperation:
        return None, f"金额不是数字：{_text(value)}"
    if not amount.is_finite():
        return None, f"金额不是数字：{_text(value)}"
    if amount < 0:
        return None, "金额不能为负数"
    if amount.as_tuple().exponent < -2 and amount != amount.quantize(Decimal("0.01")):
        return None, f"金额最多保留两位小数：{_text(value)}"
    return amount.quantize(Decimal("0.01")), None


def _date(value: Any, today: date) -> tuple[date | None, str | None]:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        on = value
    else:
        text = _text(value)
        if not text:
            return None, "日期必填"
        match = DATE_TEXT.match(text)
        try:
            on = date(*(int(g) for g in match.groups())) if match else date.fromisoformat(text)
        except ValueError:
            return None, f"日期格式应为 年-月-日，如 2026-09-10：{text}"
    if on > today:
        return None, f"日期 {on} 晚于今天"
    return on, None


def _village(value: Any, member: Member | None, ctx: _Context) -> tuple[Jurisdiction | None, str | None]:
    """The village of the warning: the registered household's, else the row's village code."""
    code = _code(value)
    given = ctx.villages.get(code) if code else None
    if code and (given is None or given.level != "village"):
        return None, f"未知的村代码 {code}"
    place = member.household.village if member is not None else given
    if place is None:
        return None, "该身份证号未在系统中登记为农户成员，请填写村代码"
    if not ctx.place.contains(place):
        where = "该人员登记在" if member is not None else "村"
        return None, f"{where} {place.full_name}，不在 {ctx.place.full_name} 辖区内"
    return place, None


def _threshold(indicator: Indicator, amount: Decimal | None, member: Member | None,
               department: Department) -> tuple[str | None, str | None]:
    """(the threshold applied, as text; the reason the row is refused)."""
    if not indicator.needs_amount:
        return None, None
    formerly_poor = bool(member is not None and member.household.is_formerly_poor)
    threshold = indicator.threshold_for(formerly_poor)
    who = ("该人员为系统登记的脱贫户成员，适用脱贫人口标准" if formerly_poor
           else "该人员未登记为脱贫户成员，适用其他农村人口标准")
    by_population = any(t.population != "all" for t in indicator.thresholds)
    if threshold is None:
        return None, f"{department.name}“{indicator.name}”的预警标准不适用于该人员（{who}）"
    if amount is None:
        return None, f"该指标须填写金额（预警标准：{threshold.describe()}）"
    if not threshold.met(amount):
        note = f"；{who}" if by_population else ""
        return None, (f"金额 {amount:,.2f} 元未达到{department.name}“{indicator.name}”的预警标准："
                      f"{threshold.describe()}{note}")
    return threshold.describe(), None


def _store(ctx: _Context, rows: list[_Row], source: str, file_name: str | None, actor: str,
           now: datetime) -> WarningBatch:
    batch = WarningBatch(department=ctx.department.key, period=ctx.period, jurisdiction=ctx.place, source=source,
                         file_name=(file_name or None) and file_name[:200], rows_count=len(rows), submitted_at=now,
                         submitted_by=actor)
    db.session.add(batch)
    push_days, _ = step_working_days(ctx.place, ctx.today)
    deadline = _working_days(ctx.today, push_days)
    step, status = ("city_push", "received") if ctx.place.level == "city" else ("county_dispatch", "at_county")
    for row in rows:
        warning = DepartmentWarning(
            batch=batch, row_number=row.line, department=ctx.department.key, indicator=row.indicator.key,
            amount=row.amount, person_name=row.name, id_number=row.id_number, village_id=row.village.id,
            jurisdiction_path=row.village.path, household_id=row.member.household_id if row.member else None,
            status=status, detail={})
        _set_detail(warning, department_name=ctx.department.name, indicator_name=row.indicator.name, date=row.on,
                    threshold=row.threshold, registered_name=row.member.name if row.member else None)
        _open_step(warning, step, now, deadline)
        db.session.add(warning)
    db.session.flush()
    audit.record(now, actor, "warning_batch_imported", batch_id=batch.id, department=ctx.department.key,
                 department_name=ctx.department.name, period=ctx.period, place=ctx.place.code, rows=len(rows),
                 source=source, file_name=file_name, due_at=deadline.due_at)
    return batch


# -- the city splits and pushes to the counties ---------------------------------------------------


def push_to_counties(batch_id: int, actor: str, clock: Clock) -> dict[str, int]:
    """The city splits a batch by county and pushes it (分解推送); each county then has its own 5 working days.
    Returns the number of warnings per county."""
    with transaction():
        user = _user(actor)
        batch = get_batch(batch_id)
        _require(user, "city_officer", batch.jurisdiction.path, f"预警批次 {batch.id} ")
        pending = list(db.session.scalars(select(DepartmentWarning).filter_by(batch_id=batch.id, status="received")
                                          .order_by(DepartmentWarning.row_number)))
        if not pending:
            raise RuleViolation(f"预警批次 {batch.id} 没有待分解推送的预警")
        now, today = clock.now(), _today(clock)
        counts: Counter[str] = Counter()
        deadlines: dict[int, Deadline] = {}
        for warning in pending:
            county = db.session.get(Jurisdiction, warning.village_id).ancestor_at("county")
            if county.id not in deadlines:
                deadlines[county.id] = _working_days(today, step_working_days(county, today)[0])
            _close_step(warning, now, actor, county=county.code)
            _open_step(warning, "county_dispatch", now, deadlines[county.id])
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
        user = _user(actor)
        warnings = [get_warning(i) for i in dict.fromkeys(warning_ids)]
        for warning in warnings:
            _require(user, "county_officer", warning.jurisdiction_path, f"预警 {warning.id} ")
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
    _set_detail(warning, noted_case=case.number if case else None, compared=comparison.text)
    audit.record(now, actor, "warning_noted", case_id=case.id if case else None,
                 household_id=comparison.household.id, warning_id=warning.id, batch_id=warning.batch_id,
                 department=warning.department, department_name=warning.detail.get("department_name"),
                 indicator=warning.indicator, indicator_name=warning.detail.get("indicator_name"),
                 amount=warning.amount, date=warning.detail.get("date"), comparison=comparison.text)


def _dispatch(warning: DepartmentWarning, actor: str, clock: Clock) -> None:
    now, today = clock.now(), _today(clock)
    village = db.session.get(Jurisdiction, warning.village_id)
    township = village.ancestor_at("township")
    deadline = _working_days(today, step_working_days(village, today)[1])
    _close_step(warning, now, actor, result="交办")
    _open_step(warning, "township_verification", now, deadline)
    warning.status, warning.dispatched_at = "dispatched", now
    _set_detail(warning, township=township.code if township else None, due_explanation=deadline.explanation)
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
        user = _user(actor)
        warning = get_warning(warning_id)
        _require(user, "township_officer", warning.jurisdiction_path, f"预警 {warning.id} ")
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
            _key_attention(household)
            warning.status = "not_included"
        warning.outcome_reason = reason or None
        now = clock.now()
        if not meets:  # an included warning's step runs on until the county approval
            _close_step(warning, now, actor, result=STATUS_NAMES[warning.status])
        _set_detail(warning, verified_at=now, verified_by=actor)
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


def _key_attention(household: Household) -> None:
    if household.status in COVERED_STATUSES:
        raise RuleViolation(f"户 {household.number} 已是监测对象或正在办理识别，不能列为重点关注户")
    household.status = HouseholdStatus.KEY_ATTENTION


# -- the county reports to the city --------------------------------------------------------------


def submit_monthly_report(month: str, actor: str, clock: Clock) -> AuditEvent:
    """The county reports ``month``'s dispatched warnings to the city (上报市级); once per month, after it ends."""
    with transaction():
        user = _user(actor)
        county = user.jurisdiction
        _require(user, "county_officer", county.path, "预警核查结果月报")
        end = month_bounds(month)[1]
        if clock.now() < end:
            raise RuleViolation(f"{month} 尚未结束，不能上报该月的交办事项")
        report = monthly_report(county, month, clock.now())
        if report.submitted is not None:
            raise RuleViolation(f"{county.name} {month} 的月报已于 {to_local_date(report.submitted.at)} 上报")
        event = audit.record(clock.now(), actor, REPORT_ACTION, county=county.code, month=month,
                             items=len(report.rows), counts=report.counts, due_at=report.due.due_at,
                             late=clock.now() > report.due.due_at)
    return event
