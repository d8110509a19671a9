"""Editing the monitoring line (监测范围) per province and year: policy staff set the line the province
publishes each year; assessments made before keep the line they used (it is recorded in their data)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from engine.core import audit
from engine.core.clock import Clock
from engine.core.db import db
from engine.core.errors import FormInvalid
from engine.core.models import Jurisdiction, MonitoringLine, User
from engine.core.transaction import transaction
from engine.core.vocabulary import JurisdictionLevel
from engine.policy.permissions import jurisdiction_by_code, require_editor
from timers.calendar import to_local_date

FORM = "monitoring_line"


def lines_below(place: Jurisdiction) -> list[tuple[Jurisdiction, MonitoringLine]]:
    """The lines of every province at or below ``place`` (or of its own province), newest year first."""
    province = place.ancestor_at(JurisdictionLevel.PROVINCE)
    query = (select(Jurisdiction, MonitoringLine).join(MonitoringLine, MonitoringLine.province_id == Jurisdiction.id)
             .where(Jurisdiction.path.startswith((province or place).path))
             .order_by(Jurisdiction.code, MonitoringLine.year.desc()))
    return [(j, line) for j, line in db.session.execute(query)]


def set_monitoring_line(editor: User, province_code: str, year: int, amount: str, source: str,
                        clock: Clock) -> MonitoringLine:
    """Set (or correct) a province's line for ``year``; every change is audited with the old value."""
    with transaction():
        place = jurisdiction_by_code(province_code)
        require_editor(editor, place)
        value = _checked(place, year, amount, source, to_local_date(clock.now()))
        line = db.session.scalar(select(MonitoringLine).filter_by(province_id=place.id, year=year))
        old = line.amount if line else None
        if line is None:
            line = MonitoringLine(province_id=place.id, year=year, amount=value, source=source)
            db.session.add(line)
        line.amount, line.source = value, source
        audit.record(clock.now(), editor.username, "monitoring_line_set", province=place.code, year=year,
                     amount=value, old_amount=old, source=source)
    return line


def _checked(place: Jurisdiction, year: int, amount: str, source: str, today: date) -> Decimal:
    problems = []
    if place.level != JurisdictionLevel.PROVINCE:
        problems.append(("province", f"{place.full_name} 不是省级：监测范围由省级确定"))
    if not 2020 <= year <= today.year + 1:
        problems.append(("year", f"年份应在 2020—{today.year + 1} 之间"))
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():  # "nan", "Infinity" are Decimals too: no amount
        value = None
        problems.append(("amount", f"“{str(amount)[:40]}”不是金额"))
    if value is not None and not 0 < value <= 100000:
        problems.append(("amount", "金额应为 0—100000 元之间的年人均收入"))
    if not source.strip():
        problems.append(("source", "请写明依据（省级文件名称和文号）"))
    if problems:
        raise FormInvalid(FORM, problems)
    return value.quantize(Decimal("0.01"))  # type: ignore[union-attr] - checked above
