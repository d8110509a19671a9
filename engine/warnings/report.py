"""The county's monthly report of department warnings to the city (月度报告), submitted before the 25th."""
from __future__ import annotations

from engine.core import audit
from engine.core.clock import Clock
from engine.core.errors import RuleViolation
from engine.core.models import AuditEvent
from engine.core.transaction import transaction
from engine.warnings.ledger import REPORT_ACTION, month_bounds, monthly_report
from engine.warnings.procedure import acting_user, require_role
from timers.calendar import to_local_date


def submit_monthly_report(month: str, actor: str, clock: Clock) -> AuditEvent:
    """The county reports ``month``'s dispatched warnings to the city (上报市级); once per month, after it ends."""
    with transaction():
        user = acting_user(actor)
        county = user.jurisdiction
        require_role(user, "county_officer", county.path, "预警核查结果月报")
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
