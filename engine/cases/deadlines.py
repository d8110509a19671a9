"""Deadlines of a case (期限): kept with the explanation and calendar data version they were computed with."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update

from engine.core.db import db
from engine.core.models import CaseDeadline, HumanTask
from timers.calendar import Deadline


def new_deadline(case_id: int, subject: str, label: str, due_at: datetime, computed: list[Deadline],
                 now: datetime, task: HumanTask | None = None, timer_uuid: str | None = None) -> CaseDeadline:
    """A deadline row, not yet written (:func:`engine.core.writes.insert_rows`), of ``task`` if it is a task's (a
    row perhaps not written yet either); its explanation comes from the computation that produced ``due_at``."""
    match = next((d for d in reversed(computed) if d.due_at == due_at), None)
    return CaseDeadline(
        case_id=case_id, subject=subject, label=label, due_at=due_at, task=task, timer_uuid=timer_uuid,
        explanation=match.explanation if match else "",
        data_version=match.data_version if match else "", provisional=bool(match and match.provisional),
        created_at=now,
    )


def deadlines_of_case(case_id: int) -> list[CaseDeadline]:
    return list(db.session.scalars(select(CaseDeadline).filter_by(case_id=case_id).order_by(CaseDeadline.id)))


def task_deadline(task_id: int) -> CaseDeadline | None:
    """The deadline computed for a task (the latest, with its explanation), if it has one."""
    return db.session.scalar(select(CaseDeadline).filter_by(subject="task", task_id=task_id)
                             .order_by(CaseDeadline.id.desc()).limit(1))


def mark_fired(fired: list[tuple[int, str, datetime]]) -> None:
    """Timers fired: ``(case id, timer task id, when)``; their deadlines keep the moment, so that how late each
    fired can be read. One statement for them all."""
    if fired:
        table = CaseDeadline.__table__
        db.session.execute(update(table).where(
            table.c.case_id == bindparam("fired_case"), table.c.timer_uuid == bindparam("fired_timer"),
            table.c.fired_at.is_(None)).values(fired_at=bindparam("fired_on")),
            [{"fired_case": case_id, "fired_timer": uuid, "fired_on": at} for case_id, uuid, at in fired])
