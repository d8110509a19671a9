"""The audit log (操作留痕): append-only records of who did what to which case, when, with which data.

The entries of a transaction are written together, in one statement after the rows they refer to (a human
task inserted in the same transaction, say): at each flush, and at the latest when the transaction commits.
They are never read back through the session, so they need no identity map and no key fetched per row."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, event, insert, select
from sqlalchemy.orm import Session

from engine.core.db import db, forget_when_the_transaction_ends
from engine.core.models import AuditEvent, HumanTask
from engine.core.vocabulary import AuditAction
from engine.core.writes import write_deferred

_PENDING = "fangpin.audit_pending"  # session.info: entries of this transaction not yet written
_COLUMNS = ("at", "actor", "action", "case_id", "household_id", "task_id", "detail")


def record(
    at: datetime, actor: str, action: str, *, case_id: int | None = None, household_id: int | None = None,
    task: HumanTask | None = None, task_id: int | None = None, **detail: Any,
) -> AuditEvent:
    """Append one event to the log (in the caller's transaction); ``task`` (a row, perhaps not yet inserted) or
    ``task_id`` is the human task it is about. Returns the entry as written (without its id). ``action`` is one of
    :class:`AuditAction` (ValueError otherwise: an entry an official would read without its label)."""
    entry = AuditEvent(at=at, actor=actor, action=_listed(action), case_id=case_id, household_id=household_id,
                       task_id=task_id, detail=_plain(detail))
    db.session.info.setdefault(_PENDING, []).append((entry, task))
    return entry


def record_many(at: datetime, actor: str, action: str, entries: Iterable[tuple[int | None, dict[str, Any]]]) -> None:
    """Append many events of one action at once — an import's, one per household: ``entries`` are (household id,
    detail) — written now, in one statement, without an object per entry."""
    action = _listed(action)
    rows = [{"at": at, "actor": actor, "action": action, "case_id": None, "household_id": household_id,
             "task_id": None, "detail": _plain(detail)} for household_id, detail in entries]
    if rows:
        db.session.connection().execute(_INSERT, rows)


def _listed(action: str) -> str:
    """``action`` as stored, if :class:`AuditAction` lists it with its label."""
    try:
        return AuditAction(action).value
    except ValueError:
        raise ValueError(f"audit action {action!r} has no label: list it in engine.core.vocabulary.AuditAction"
                         ) from None


def first_of_case(case_id: int, action: str) -> AuditEvent | None:
    """The case's first entry of ``action``, written or still to be written in this transaction."""
    written = db.session.scalar(select(AuditEvent).filter_by(case_id=case_id, action=action).order_by(AuditEvent.id))
    if written is not None:
        return written
    return next((entry for entry, _ in db.session.info.get(_PENDING, ())
                 if entry.case_id == case_id and entry.action == action), None)


# built once (engine.core.reads)
_FOR_CASE = select(AuditEvent).where(AuditEvent.case_id == bindparam("case_id")).order_by(AuditEvent.id)
_INSERT = insert(AuditEvent.__table__)


def for_case(case_id: int) -> list[AuditEvent]:
    return list(db.session.scalars(_FOR_CASE, {"case_id": case_id}))


def _write(session: Session) -> None:
    if not session.info.get(_PENDING):
        return
    write_deferred()  # the rows the entries refer to, if they are queued
    pending = session.info.pop(_PENDING, None)
    rows = []
    for entry, task in pending:
        if task is not None:
            entry.task_id = task.id
        rows.append({column: getattr(entry, column) for column in _COLUMNS})
    session.connection().execute(_INSERT, rows)


@event.listens_for(Session, "after_flush")
def _write_with_flush(session: Session, flush_context) -> None:
    _write(session)


@event.listens_for(Session, "before_commit")
def _write_before_commit(session: Session) -> None:
    if session.info.get(_PENDING):
        session.flush()  # the rows the entries refer to first (this writes the entries too, if it had work)
        _write(session)


forget_when_the_transaction_ends(_PENDING)


def _plain(value: Any) -> Any:
    """JSON-safe copy (dates and decimals as strings)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
