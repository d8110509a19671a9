"""Taking in a department's warning batch (预警数据导入): every row checked — ID number, amount against the
department's threshold, date, village — and the batch stored whole or not at all, every bad row named."""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from engine.core import audit
from engine.core.clock import Clock
from engine.core.db import db
from engine.core.errors import FormInvalid, PermissionDenied, PolicyMissing, RuleViolation
from engine.core.id_numbers import FORM_PROBLEM, ID_NUMBER, check_character_problem, normalised
from engine.core.models import DepartmentWarning, Jurisdiction, Member, Money, WarningBatch
from engine.core.transaction import transaction
from engine.core.vocabulary import JurisdictionLevel, WarningStatus
from engine.warnings.procedure import acting_user, open_batch_case, require_role, today_in_china
from engine.warnings.rows import FORM, RawRow
from engine.warnings.schedules import complete_push
from engine.warnings.thresholds import RECEIVING_LEVELS, Department, Indicator, check_period, departments
from timers.calendar import DATE_FORMAT

log = logging.getLogger(__name__)


MAX_AMOUNT = Decimal(10) ** (Money.precision - Money.scale)  # what the amount column (Money) holds


DATE_TEXT = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


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
    (``第 N 行 field``) with its reason. The batch's case opens at that place (its first step: the city's split
    or the county's comparison), and the department's push task of the period, if open, is done by it."""
    with transaction():
        user = acting_user(actor)
        require_role(user, "department_officer", user.jurisdiction.path, "行业预警数据推送")
        place = user.jurisdiction
        if place.level not in RECEIVING_LEVELS:
            raise RuleViolation("行业部门的预警数据推送给本级（市级或县级）乡村振兴部门，"
                                f"{place.full_name} 不是市级或县级")
        if user.department and department_key != user.department:
            raise PermissionDenied(f"{user.display_name} 属于行业部门 {user.department}，只能推送本部门的预警数据")
        today = today_in_china(clock)
        department = _batch_department(place, department_key, period, today)
        ctx = _context(department, place, period.strip(), today, rows)
        checked, errors = _check_rows(rows, ctx)
        if errors:
            raise FormInvalid(FORM, errors)
        batch, ids = _store(ctx, checked, source, file_name, actor, clock.now())
        open_batch_case(batch, place, ids, actor, clock)
        complete_push(place, department.key, batch.period, batch, actor, clock)
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
        known = "、".join(f"“{i.name}”" for i in ctx.department.indicators.values())  # by name, as the form asks
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
    return "" if isinstance(value, (int, float)) else normalised(_text(value))


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
        return "", f"身份证号格式不正确：{FORM_PROBLEM}"
    if text in registered:
        return text, None
    try:
        born = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return "", f"身份证号中的出生日期 {text[6:14]} 无效"
    if born > today or born.year < 1900:
        return "", f"身份证号中的出生日期 {born} 无效"
    if (problem := check_character_problem(text)) is not None:
        return "", f"身份证号{problem}"
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
    if amount >= MAX_AMOUNT:
        return None, f"金额过大：{_text(value)[:40]}（至多 {Money.precision - Money.scale} 位整数）"
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
            return None, f"{DATE_FORMAT}：{text}"
    if on > today:
        return None, f"日期 {on} 晚于今天"
    return on, None


def _village(value: Any, member: Member | None, ctx: _Context) -> tuple[Jurisdiction | None, str | None]:
    """The village of the warning: the registered household's, else the row's village code."""
    code = _code(value)
    given = ctx.villages.get(code) if code else None
    if code and (given is None or given.level != JurisdictionLevel.VILLAGE):
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
           now: datetime) -> tuple[WarningBatch, list[int]]:
    batch = WarningBatch(department=ctx.department.key, period=ctx.period, jurisdiction=ctx.place, source=source,
                         file_name=(file_name or None) and file_name[:200], rows_count=len(rows), submitted_at=now,
                         submitted_by=actor)
    db.session.add(batch)
    warnings = [DepartmentWarning(
        batch=batch, row_number=row.line, department=ctx.department.key, indicator=row.indicator.key,
        amount=row.amount, person_name=row.name, id_number=row.id_number, village_id=row.village.id,
        jurisdiction_path=row.village.path, household_id=row.member.household_id if row.member else None,
        status=WarningStatus.RECEIVED, detail={
            "department_name": ctx.department.name, "indicator_name": row.indicator.name, "date": row.on.isoformat(),
            "threshold": row.threshold, "registered_name": row.member.name if row.member else None})
        for row in rows]
    db.session.add_all(warnings)
    db.session.flush()
    audit.record(now, actor, "warning_batch_imported", batch_id=batch.id, department=ctx.department.key,
                 department_name=ctx.department.name, period=ctx.period, place=ctx.place.code, rows=len(rows),
                 source=source, file_name=file_name)
    return batch, [w.id for w in warnings]
