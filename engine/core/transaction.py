"""One transaction per service call (事务): everything is saved, or on any error nothing is."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

from SpiffWorkflow.exceptions import SpiffWorkflowException
from sqlalchemy.orm.exc import StaleDataError

from engine.core.db import db
from engine.core.errors import CalendarRefused, ConflictError, FangpinError
from timers.calendar import CalendarDataMissing

CONFLICT_MESSAGE = "该案件已被他人同时办理，请刷新后重试"


def _cause(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The error of ``kind`` behind a workflow error (SpiffWorkflow wraps what a script, a condition or an
    autoflush inside them raised), following ``__cause__``/``__context__``."""
    seen: BaseException | None = exc
    visited: set[int] = set()
    while seen is not None and id(seen) not in visited:
        if isinstance(seen, kind):
            return seen
        visited.add(id(seen))
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
        raise ConflictError(CONFLICT_MESSAGE) from exc
    except CalendarDataMissing as exc:
        db.session.rollback()
        raise CalendarRefused.missing_year(exc.year) from exc
    except SpiffWorkflowException as exc:
        db.session.rollback()
        if _cause(exc, StaleDataError) is not None:  # a lost race, whatever step noticed it
            raise ConflictError(CONFLICT_MESSAGE) from exc
        missing = _cause(exc, CalendarDataMissing)
        if missing is not None:
            raise CalendarRefused.missing_year(missing.year) from exc
        refused = _cause(exc, FangpinError)  # the engine's own refusal inside a diagram step (policy data missing …)
        if refused is not None:
            raise refused from exc
        raise FangpinError(f"流程执行出错：{exc}") from exc
    except BaseException:
        db.session.rollback()
        raise
