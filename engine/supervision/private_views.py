"""Who saw private data (敏感信息查看记录): every time an official saw a household's ID numbers, phone numbers or
health status in full — the information form, the API's ``?sensitive=1`` — and every time an official whose role
may not see them asked for them in full and was refused (被拒绝), as the audit log recorded it
(engine.households.privacy), for the households (or cases) of a jurisdiction, newest first. Read-only."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from engine.core.db import db, fixed, within
from engine.core.models import AuditEvent, Case, Household, Jurisdiction, User
from engine.core.vocabulary import PrivateAccess
from engine.households.privacy import PRIVATE_ACCESS, PRIVATE_REFUSED

LIMIT = 200  # entries listed; the count covers them all


@dataclass(frozen=True)
class PrivateView:
    """One time private fields were seen in full, or asked for and refused (``refused``)."""

    at: datetime
    username: str
    official: str  # the user's name (their login if it no longer exists)
    household_number: str | None
    village: str | None
    case_id: int | None
    case_number: str | None
    access: str  # PrivateAccess label
    refused: bool  # asked for by a role that may not see them: nothing was shown


def _views(path: str):
    village = aliased(Jurisdiction)
    place_path = func.coalesce(village.path, Case.jurisdiction_path)
    return (select(AuditEvent.at, AuditEvent.actor, User.display_name, Household.number, village.name,
                   AuditEvent.case_id, Case.number, AuditEvent.detail, AuditEvent.action)
            .outerjoin(Household, Household.id == AuditEvent.household_id)
            .outerjoin(village, village.id == Household.village_id)
            .outerjoin(Case, Case.id == AuditEvent.case_id)
            .outerjoin(User, User.username == AuditEvent.actor)
            .where(AuditEvent.action.in_([fixed(action) for action in PRIVATE_ACCESS]),  # fixed: the partial index
                   within(place_path, path)))


def private_views(place: Jurisdiction, limit: int = LIMIT) -> tuple[int, list[PrivateView]]:
    """How many times private fields of ``place``'s households were seen in full or refused, and the latest
    ``limit`` of them; two statements, whatever their number."""
    query = _views(place.path)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.execute(query.order_by(AuditEvent.id.desc()).limit(limit)).all()
    return total, [PrivateView(at, actor, name or actor, number, village, case_id, case_number,
                               PrivateAccess.label_of((detail or {}).get("via")), action == PRIVATE_REFUSED)
                   for at, actor, name, number, village, case_id, case_number, detail, action in rows]
