"""The demo data (engine.demo): a county's cases at different steps, with their history — and nothing of it
happens after the demo's today; its logins are placed as an administrator may place them."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from engine.accounts.users import level_problems
from engine.core.db import db
from engine.core.models import AuditEvent, Case, CaseDeadline, HumanTask, User
from engine.demo import DEMO_USERS, load_demo
from timers.calendar import to_local_date


@pytest.mark.parametrize("today", ["2026-09-20T01:00:00+00:00", "2026-12-02T03:00:00+00:00"])
def test_nothing_of_the_demo_happens_after_its_today(app, clock, today):
    clock.set(datetime.fromisoformat(today))
    now = clock.now()
    assert load_demo(clock)["cases"] > 0
    late = {
        "audit": db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.at > now)),
        "opened": db.session.scalar(select(func.count()).select_from(Case).where(Case.opened_at > now)),
        "lead": db.session.scalar(select(func.count()).select_from(Case).where(Case.lead_date > to_local_date(now))),
        "completed": db.session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.completed_at > now)),
        "fired": db.session.scalar(select(func.count()).select_from(CaseDeadline).where(CaseDeadline.fired_at > now)),
    }
    assert late == {"audit": 0, "opened": 0, "lead": 0, "completed": 0, "fired": 0}
    elimination = db.session.scalar(select(Case).filter_by(procedure="elimination"))
    ready = db.session.scalar(select(HumanTask).filter_by(case_id=elimination.id, state="READY"))
    assert elimination.status == "running" and ready is None and elimination.next_wakeup_at > now  # in its publicity


def test_every_demo_login_sits_at_a_level_its_roles_may_be_given_at(app):
    """The demo logins are written into the database directly, not through 用户管理: each must still be one an
    administrator could create (engine.accounts.users), or changing its roles there would be refused."""
    logins = db.session.scalars(select(User).where(User.username.in_([u[0] for u in DEMO_USERS]))).all()
    assert len(logins) == len(DEMO_USERS)
    assert {user.username: level_problems(user.roles, user.jurisdiction) for user in logins} == {
        user.username: [] for user in logins}
