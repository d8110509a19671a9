"""One transaction per service call (事务): everything is saved, or on any error nothing is."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

from SpiffWorkflow.exceptions import SpiffWorkflowException
from sqlalchemy.orm.exc import StaleDataError

from engine.core.db import db
from engine.core.errors import CalendarRefused, ConflictError, FangpinError
from timers.calendar import CalendarDataMissing


def _calendar_cause(exc: BaseException) -> CalendarDataMissing | None:
    """The missing-calendar error behind a workflow error (a timer or due date that needed it)."""
    seen = exc
    while seen is not None:
        if isinstance(seen, CalendarDataMissing):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


@contextlib.contextmanager
def transaction() -> Iterator[None]:
    """Commit on success; roll back everything on any error (optimistic-lock failures become conflicts)."""
    try:
        yield
        db.session.commit()
    except StaleDataError as exc:
        db.session.rollback()
        raise ConflictError("该案件已被他人同时办理，请刷新后重试") from exc
    except CalendarDataMissing as exc:
        db.session.rollback()
        raise CalendarRefused(str(exc)) from exc
    except SpiffWorkflowException as exc:
        db.session.rollback()
        missing = _calendar_cause(exc)
        if missing is not None:
            raise CalendarRefused(str(missing)) from exc
        raise FangpinError(f"流程执行出错：{exc}") from exc
    except BaseException:
        db.session.rollback()
        raise
