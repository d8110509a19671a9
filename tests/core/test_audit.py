"""The audit log."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.core.db import db
from engine.core.models import AuditEvent
from tests.factories import open_case


def test_the_audit_log_is_append_only(app, clock):
    open_case(clock)
    event = db.session.scalar(select(AuditEvent))
    event.actor = "someone else"
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalar(select(AuditEvent)))
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()
