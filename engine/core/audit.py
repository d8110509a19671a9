"""The audit log (操作留痕): append-only records of who did what to which case, when, with which data."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine.core.db import db
from engine.core.models import AuditEvent


def record(
    at: datetime, actor: str, action: str, *, case_id: int | None = None, household_id: int | None = None,
    **detail: Any,
) -> AuditEvent:
    """Append one event to the log (in the caller's transaction)."""
    event = AuditEvent(at=at, actor=actor, action=action, case_id=case_id, household_id=household_id,
                       detail=_plain(detail))
    db.session.add(event)
    return event


def for_case(case_id: int) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).filter_by(case_id=case_id).order_by(AuditEvent.id)))


def _plain(value: Any) -> Any:
    """JSON-safe copy (dates and decimals as strings)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
