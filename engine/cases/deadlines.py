"""Deadlines of a case (期限): kept with the explanation and calendar data version they were computed with."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from engine.core.db import db
from engine.core.models import CaseDeadline
from timers.calendar import Deadline


def record_deadline(case_id: int, subject: str, label: str, due_at: datetime, computed: list[Deadline],
                    now: datetime, task_id: int | None = None, timer_uuid: str | None = None) -> CaseDeadline:
    """Store a deadline; its explanation comes from the computation that produced ``due_at``."""
    match = next((d for d in reversed(computed) if d.due_at == due_at), None)
    row = CaseDeadline(
        case_id=case_id, subject=subject, label=label, due_at=due_at, task_id=task_id, timer_uuid=timer_uuid,
        explanation=match.explanation if match else "",
        data_version=match.data_version if match else "", provisional=bool(match and match.provisional),
        created_at=now,
    )
    db.session.add(row)
    return row


def deadlines_of_case(case_id: int) -> list[CaseDeadline]:
    return list(db.session.scalars(select(CaseDeadline).filter_by(case_id=case_id).order_by(CaseDeadline.id)))


def recorded_timers(case_id: int) -> set[str]:
    return set(db.session.scalars(select(CaseDeadline.timer_uuid).filter_by(case_id=case_id, subject="timer")))
