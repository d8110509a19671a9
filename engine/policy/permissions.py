"""Who may change policy (政策管理员): policy editors, only at or below their own jurisdiction."""
from __future__ import annotations

from sqlalchemy import select

from engine.core.db import db
from engine.core.errors import NotFound, PermissionDenied
from engine.core.models import LEVELS, Jurisdiction, User

EDITOR_ROLE = "policy_editor"


def require_editor(user: User, place: Jurisdiction | None = None) -> None:
    """The user must be a policy editor (政策管理员), and ``place`` at or below the user's jurisdiction."""
    if EDITOR_ROLE not in user.roles:
        raise PermissionDenied(f"{user.display_name} 不是政策管理员")
    if place is not None and not user.jurisdiction.contains(place):
        raise PermissionDenied(f"{place.full_name} 不在 {user.jurisdiction.full_name} 辖区内")


def jurisdiction_by_code(code: str) -> Jurisdiction:
    place = db.session.scalar(select(Jurisdiction).filter_by(code=code))
    if place is None:
        raise NotFound(f"行政区划 {code} 不存在")
    return place


def editable_jurisdictions(user: User, deepest: str = "township") -> list[Jurisdiction]:
    """The user's jurisdiction and those below it, down to ``deepest`` level, in tree order."""
    levels = LEVELS[: LEVELS.index(deepest) + 1]
    return list(db.session.scalars(
        select(Jurisdiction).where(Jurisdiction.path.startswith(user.jurisdiction.path), Jurisdiction.level.in_(levels))
        .order_by(Jurisdiction.path)
    ))
