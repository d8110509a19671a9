"""One transaction per service call (事务): everything is saved, or on any error nothing is."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

from SpiffWorkflow.exceptions import SpiffWorkflowException
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from engine.core.db import db
from engine.core.errors import CalendarRefused, ConflictError, FangpinError
from timers.calendar import CalendarDataMissing

CONFLICT_MESSAGE = "该案件已被同时办理（他人办理，或同一表单提交了两次），本次未保存：请刷新后查看"
DUPLICATE_MESSAGE = "同一内容刚刚已由他人（或同一请求的另一次提交）保存，本次未保存任何内容：请刷新后查看"
UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE unique_violation


def _duplicate(exc: BaseException) -> IntegrityError | None:
    """The unique-key violation behind ``exc``, if that is what it is: a row another transaction inserted first
    (two submissions of one form at once, two officials choosing the same login)."""
    found = _cause(exc, IntegrityError)
    if not isinstance(found, IntegrityError):
        return None
    orig = found.orig
    unique = getattr(orig, "pgcode", None) == UNIQUE_VIOLATION or str(orig).startswith("UNIQUE constraint failed")
    return found if unique else None


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
    except IntegrityError as exc:
        db.session.rollback()
        if _duplicate(exc) is None:
            raise
        raise ConflictError(DUPLICATE_MESSAGE) from exc
    except CalendarDataMissing as exc:
        db.session.rollback()
        raise CalendarRefused.missing_year(exc.year) from exc
    except SpiffWorkflowException as exc:
        db.session.rollback()
        if _cause(exc, StaleDataError) is not None:  # a lost race, whatever step noticed it
            raise ConflictError(CONFLICT_MESSAGE) from exc
        if _duplicate(exc) is not None:
            raise ConflictError(DUPLICATE_MESSAGE) from exc
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
