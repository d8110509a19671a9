"""The county's monthly report of department warnings to the city (月度报告): the ``warning_report`` case of the
month (engine.warnings.schedules) is due before the 25th of the next; completing its task records the report."""
from __future__ import annotations

from datetime import datetime

from engine.core import audit
from engine.core.errors import RuleViolation
from engine.core.models import AuditEvent, Case
from engine.warnings.ledger import REPORT_ACTION, monthly_report


def record_report(case: Case, actor: str, now: datetime) -> AuditEvent:
    """Record the report of the month the case is about (once: the case ends with it)."""
    county, month = case.jurisdiction, case.reference.rsplit(":", 1)[1]
    report = monthly_report(county, month, now)
    if report.submitted is not None:
        raise RuleViolation(f"{county.name} {month} 的月报已上报")
    return audit.record(now, actor, REPORT_ACTION, case_id=case.id, county=county.code, month=month,
                        items=len(report.rows), counts=report.counts,
                        due_at=report.due_at, late=bool(report.due_at and now > report.due_at))
