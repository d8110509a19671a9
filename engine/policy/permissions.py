"""Who may do what beyond a task's own role: change policy (政策管理员, only at or below their own jurisdiction),
register households and start procedures for them (policy/roles.json ``registers_households`` and ``opens``), see
their private fields in full (``sees_private``)."""
from __future__ import annotations

from sqlalchemy import select

from engine.core.db import db
from engine.core.errors import NotFound, PermissionDenied
from engine.core.models import Jurisdiction, User
from engine.core.vocabulary import LEVELS, JurisdictionLevel, Procedure
from engine.policy.roles import all_roles

EDITOR_ROLE = "policy_editor"


def require_editor(user: User, place: Jurisdiction | None = None) -> None:
    """The user must be a policy editor (政策管理员), and ``place`` at or below the user's jurisdiction."""
    if EDITOR_ROLE not in user.roles:
        raise PermissionDenied(f"{user.display_name} 不是政策管理员")
    _require_within(user, place)


def may_open(user: User, procedure: str) -> bool:
    """May ``user`` start ``procedure`` for a household (a role of theirs ``opens`` it)?"""
    return any(procedure in role.opens for key, role in all_roles().items() if key in user.roles)


def may_register(user: User) -> bool:
    """May ``user`` register a household (a role of theirs ``registers_households``)?"""
    return any(role.registers_households for key, role in all_roles().items() if key in user.roles)


def may_see_private(user: User) -> bool:
    """May ``user`` see households' private fields — ID numbers, phones, health status — in full (a role of theirs
    ``sees_private``)?"""
    return any(role.sees_private for key, role in all_roles().items() if key in user.roles)


def require_may_open(user: User, procedure: str, place: Jurisdiction | None = None) -> None:
    """PermissionDenied unless ``user`` may start ``procedure`` (:func:`may_open`) — for a household of ``place``,
    which must be in the user's jurisdiction."""
    if not may_open(user, procedure):
        raise PermissionDenied(f"{user.display_name} 不能发起{Procedure.label_of(procedure)}"
                               f"（可发起的角色：{_names(r for r in all_roles().values() if procedure in r.opens)}）")
    _require_within(user, place)


def require_may_register(user: User, place: Jurisdiction | None = None) -> None:
    """PermissionDenied unless ``user`` may register a household (:func:`may_register`) of ``place``."""
    if not may_register(user):
        raise PermissionDenied(f"{user.display_name} 不能登记农户"
                               f"（可登记的角色：{_names(r for r in all_roles().values() if r.registers_households)}）")
    _require_within(user, place)


def require_may_see_private(user: User, place: Jurisdiction | None = None) -> None:
    """PermissionDenied unless ``user`` may see private fields in full (:func:`may_see_private`) — of a household
    of ``place``, which must be in the user's jurisdiction."""
    if not may_see_private(user):
        raise PermissionDenied(f"{user.display_name} 无权查看完整的身份证号、联系电话和健康状况"
                               f"（可查看的角色：{_names(r for r in all_roles().values() if r.sees_private)}）")
    _require_within(user, place)


def _names(roles) -> str:
    return "、".join(role.name for role in roles) or "无"


def _require_within(user: User, place: Jurisdiction | None) -> None:
    if place is not None and not user.jurisdiction.contains(place):
        raise PermissionDenied(f"{place.full_name} 不在 {user.jurisdiction.full_name} 辖区内")


def jurisdiction_by_code(code: str) -> Jurisdiction:
    place = db.session.scalar(select(Jurisdiction).filter_by(code=code))
    if place is None:
        raise NotFound(f"行政区划 {code} 不存在")
    return place


def editable_jurisdictions(user: User, deepest: str = JurisdictionLevel.TOWNSHIP) -> list[Jurisdiction]:
    """The user's jurisdiction and those below it, down to ``deepest`` level, in tree order."""
    levels = LEVELS[: LEVELS.index(deepest) + 1]
    return list(db.session.scalars(
        select(Jurisdiction).where(Jurisdiction.path.startswith(user.jurisdiction.path), Jurisdiction.level.in_(levels))
        .order_by(Jurisdiction.path)
    ))
