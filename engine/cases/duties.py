"""Separation of duties (职责分离): whether the official who opened a case (立案人) may also complete some of
its steps — the county's approval (县级审定), say — is policy data by jurisdiction and date:
``<procedure>.opener_may_not_complete`` lists the forms of the steps the opener may not complete. Where it is
empty or not set, the opener may complete every step their role allows (as the seeds do not forbid it)."""
from __future__ import annotations

from datetime import date

from engine.core.errors import PermissionDenied, PolicyMissing
from engine.core.models import Case, HumanTask, User
from engine.policy.parameters import resolve

OPENER_MAY_NOT_COMPLETE = "opener_may_not_complete"


def check_separation_of_duties(user: User, case: Case, row: HumanTask, on: date) -> None:
    """PermissionDenied when the policy in force for the case's village on ``on`` keeps the case's opener from
    completing this step."""
    if user.username != case.opened_by or not row.form:
        return
    try:
        forms = resolve(f"{case.procedure}.{OPENER_MAY_NOT_COMPLETE}", case.jurisdiction, on)
    except PolicyMissing:
        return
    if row.form in (forms or []):
        raise PermissionDenied(f"{user.display_name} 是案件 {case.number} 的立案人，按{case.jurisdiction.full_name}"
                               f"的职责分离规定不能办理“{row.name}”，请由其他工作人员办理")
