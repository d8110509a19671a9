"""One transaction per service call: a row another request inserted first (two submissions of one form at once,
two administrators choosing the same login) is a conflict said in words, and nothing of the call is saved; any
other integrity error is a defect and is raised as it is."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from engine.core import audit
from engine.core.db import db
from engine.core.errors import ConflictError
from engine.core.models import AuditEvent, User
from engine.core.transaction import DUPLICATE_MESSAGE, transaction


@pytest.fixture(params=["sqlite", "postgresql"])
def any_app(request):
    return request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")


def _events() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_a_row_inserted_first_by_another_is_a_conflict_and_nothing_is_saved(any_app, clock):
    taken = db.session.scalar(select(User).filter_by(username="shahe_cun"))
    events = _events()
    with pytest.raises(ConflictError, match=DUPLICATE_MESSAGE), transaction():
        audit.record(clock.now(), "zhanggong_admin", "user_created", username="shahe_cun")
        db.session.add(User(username="shahe_cun", display_name="重名", password_hash="x", roles=[],
                            jurisdiction_id=taken.jurisdiction_id))
        db.session.flush()
    assert _events() == events
    assert db.session.scalar(select(func.count()).select_from(User).filter_by(username="shahe_cun")) == 1


def test_another_integrity_error_is_not_taken_for_a_conflict(any_app):
    with pytest.raises(IntegrityError), transaction():
        db.session.add(User(username="无处", display_name="无处", password_hash="x", roles=[], jurisdiction_id=None))
        db.session.flush()
