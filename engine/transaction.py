"""One transaction per service call (事务): everything is saved, or on any error nothing is."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

from SpiffWorkflow.exceptions import SpiffWorkflowException
from sqlalchemy.orm.exc import StaleDataError

from .db import db
from .errors import ConflictError, FangpinError


@contextlib.contextmanager
def transaction() -> Iterator[None]:
    """Commit on success; roll back everything on any error (optimistic-lock failures become conflicts)."""
    try:
        yield
        db.session.commit()
    except StaleDataError as exc:
        db.session.rollback()
        raise ConflictError("该案件已被他人同时办理，请刷新后重试") from exc
    except SpiffWorkflowException as exc:
        db.session.rollback()
        raise FangpinError(f"流程执行出错：{exc}") from exc
    except BaseException:
        db.session.rollback()
        raise
