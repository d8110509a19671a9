"""User administration (用户管理): an administrator (系统管理员) creates the officials of their own jurisdiction
and below, gives them roles there, changes them, deactivates a leaver and reactivates them, and resets a
password; an official changes their own. The first administrator of a fresh install is created from the
command line (``fangpin init --admin``). Every change is in the audit log; passwords are kept only as
Werkzeug's salted scrypt hashes.

A password set by an administrator (on creation or reset) is shown to them once and must be replaced by the
official at their next login."""
from __future__ import annotations

import functools
import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, bindparam, func, or_, select
from werkzeug.security import check_password_hash, generate_password_hash

from engine.core import audit, reads
from engine.core.db import db, within
from engine.core.errors import FormInvalid, NotFound, PermissionDenied, RuleViolation
from engine.core.models import AuditEvent, Jurisdiction, User
from engine.core.transaction import transaction
from engine.core.vocabulary import LEVELS, AuditAction, JurisdictionLevel, SystemActor, actor_name
from engine.policy.departments import department_names
from engine.policy.roles import all_roles
from timers.calendar import to_local_date

log = logging.getLogger(__name__)

ADMINISTRATOR = "administrator"
DEPARTMENT_OFFICER = "department_officer"  # a role whose account belongs to a department (行业部门)
FORM = "用户信息"  # how refusals name the form
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,63}$")
PASSWORD_MIN, PASSWORD_MAX = 10, 128  # (the longest is still one a person types, and scrypt hashes it quickly)
NAME_MAX, REASON_MAX = 100, 200
USER_ACTIONS = {a.value: a.label for a in (AuditAction.USER_CREATED, AuditAction.USER_CHANGED, AuditAction.USER_DEACTIVATED,
                                          AuditAction.USER_REACTIVATED, AuditAction.PASSWORD_RESET,
                                          AuditAction.PASSWORD_CHANGED)}  # an account's history


@dataclass(frozen=True)
class Issued:
    """An account with the one-time password an administrator hands to the official."""

    user: User
    password: str


_DISPLAY_NAMES = select(User.username, User.display_name).where(
    User.username.in_(bindparam("usernames", expanding=True)))  # built once (engine.core.reads)


def display_names(usernames: Iterable[str | None]) -> dict[str, str]:
    """How each login reads where an official's name is expected (办理人, 导入人, 办理记录): the official's name, the
    system's own actors in Chinese, a login without a user as it is — all read in one statement. The login itself
    is shown only where an administrator needs it (用户管理)."""
    wanted = {username for username in usernames if username}
    officials = wanted - set(SystemActor.labels())
    rows = db.session.execute(_DISPLAY_NAMES, {"usernames": sorted(officials)}) if officials else ()
    names = {username: name for username, name in rows}
    return {username: actor_name(username, names) for username in wanted}


def is_administrator(user: User) -> bool:
    return user.active and ADMINISTRATOR in user.roles


@functools.cache
def _signed_in_read() -> tuple[Select, tuple[reads.Entity, reads.Entity]]:
    """Built once per process: the user and their place as one row of plain columns (:mod:`engine.core.reads`)."""
    user, place = User.__table__, Jurisdiction.__table__
    entities = (reads.entity(User), reads.entity(Jurisdiction))
    statement = (select(*(column for e in entities for column in e.columns))
                 .select_from(user.outerjoin(place, place.c.id == user.c.jurisdiction_id))
                 .where(user.c.id == bindparam("user_id")))
    return statement, entities


def signed_in(user_id: int) -> User | None:
    """The official of a login session, with their place, in one statement (every web request asks: read as
    columns, not through the ORM's loading, and their place with them, which most pages then read)."""
    statement, entities = _signed_in_read()
    session = db.session()
    found = reads.first(session, statement, {"user_id": user_id})
    if found is None:
        return None
    user, place = reads.objects(session, entities, found)
    reads.set_loaded(user, "jurisdiction", place)
    return user


def login(username: str, password: str) -> User | None:
    """The active official with this login and password, or None (the same for every reason: no hint which)."""
    if len(password) > PASSWORD_MAX:  # no password set can be longer: not worth hashing
        return None
    user = db.session.scalar(select(User).filter_by(username=username.strip()))
    if user is None or not user.active or not check_password_hash(user.password_hash, password):
        return None
    return user


# -- what an administrator may see and do ----------------------------------------------------------------------


def _require_administrator(actor: User) -> None:
    if not is_administrator(actor):
        raise PermissionDenied(f"{actor.display_name} 不是系统管理员，不能管理用户")


def managed(actor: User, username: str) -> User:
    """The account ``username``, if it lies in the administrator's jurisdiction."""
    _require_administrator(actor)
    user = db.session.scalar(select(User).filter_by(username=username))
    if user is None:
        raise NotFound(f"用户 {username} 不存在")
    if not actor.jurisdiction.contains(user.jurisdiction):
        raise PermissionDenied(f"用户 {username}（{user.jurisdiction.full_name}）不在 {actor.jurisdiction.full_name} 辖区内")
    return user


def users_within(actor: User, search: str = "", place: Jurisdiction | None = None,
                 include_inactive: bool = True, limit: int = 200) -> list[User]:
    """The accounts at or below the administrator's jurisdiction (or ``place`` inside it), by place and login;
    ``search`` matches the login or the name."""
    _require_administrator(actor)
    place = place or actor.jurisdiction
    if not actor.jurisdiction.contains(place):
        raise PermissionDenied(f"{place.full_name} 不在 {actor.jurisdiction.full_name} 辖区内")
    query = select(User).join(User.jurisdiction).where(within(Jurisdiction.path, place.path))
    if search.strip():
        pattern = f"%{search.strip()}%"
        query = query.where(or_(User.username.like(pattern), User.display_name.like(pattern)))
    if not include_inactive:
        query = query.where(User.active.is_(True))
    return list(db.session.scalars(query.order_by(Jurisdiction.path, User.username).limit(limit)))


def history(username: str) -> list[AuditEvent]:
    """The audit entries about an account, oldest first."""
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.in_(list(USER_ACTIONS)),
                                 AuditEvent.detail["user"].as_string() == username).order_by(AuditEvent.id)))


# -- checking what is typed ------------------------------------------------------------------------------------


def _check_username(username: str, errors: list[tuple[str, str]]) -> None:
    if not USERNAME.match(username):
        errors.append(("username", "登录名须为 3–64 个小写字母、数字或 _ . -，以字母或数字开头"))
    elif db.session.scalar(select(func.count()).select_from(User).filter_by(username=username)):
        errors.append(("username", f"登录名 {username} 已被使用"))


def _check_name(name: str, errors: list[tuple[str, str]]) -> None:
    if not name.strip():
        errors.append(("display_name", "请填写姓名或单位"))
    elif len(name) > NAME_MAX:
        errors.append(("display_name", f"姓名最多 {NAME_MAX} 个字"))


def _check_roles(roles: list[str], errors: list[tuple[str, str]]) -> None:
    unknown = [r for r in roles if r not in all_roles()]
    if not roles:
        errors.append(("roles", "请至少选择一个角色"))
    elif unknown:
        known = "、".join(f"{key}（{role.name}）" for key, role in all_roles().items())
        errors.append(("roles", f"没有角色 {'、'.join(unknown)}；可选：{known}"))


def level_problems(roles: list[str], place: Jurisdiction) -> list[str]:
    """Why ``roles`` cannot be given to an official of ``place``: a role that does a level's tasks (a role with
    lanes, policy/roles.json) is given only at its levels (``levels``, else ``level``) — above them the official
    would see every lower place's tasks (a village cadre at a county, every village's), below them its tasks never
    reach the official (a province's officer at a county would never see a province's review). Roles without
    tasks of a level (督导, 政策管理员, 系统管理员) sit anywhere in the area. Empty: they can."""
    if place.level not in LEVELS:
        return []
    problems = []
    for key in roles:
        role = all_roles().get(key)
        if role is None or not role.lanes or place.level in role.levels:
            continue
        works = "或".join(JurisdictionLevel.label_of(level) for level in role.levels)
        problems.append(f"{role.name}办理{works}的任务，不能设在{JurisdictionLevel.label_of(place.level)}"
                        f"（{place.full_name}）：请选择{works}一级的辖区")
    return problems


def _check_level(roles: list[str], place: Jurisdiction | None, errors: list[tuple[str, str]]) -> None:
    if place is not None:
        errors.extend(("roles", problem) for problem in level_problems(roles, place))


def _check_department(roles: list[str], department: str | None, place: Jurisdiction | None, now: datetime,
                      errors: list[tuple[str, str]]) -> None:
    """A department officer belongs to one of the departments configured for their place (行业部门: whose warnings
    they push, whose push tasks they do); no other official belongs to one."""
    if DEPARTMENT_OFFICER not in roles:
        if department:
            errors.append(("department", "只有行业部门人员才选择所属行业部门"))
        return
    if place is None:
        return
    known = department_names(place, to_local_date(now))
    if not department:
        errors.append(("department", "行业部门人员须选择所属行业部门"))
    elif department not in known:
        configured = "、".join(known.values()) or "无"
        errors.append(("department", f"{place.full_name} 没有配置行业部门 {department}（已配置：{configured}）"))


def _place(actor: User, code: str, errors: list[tuple[str, str]]) -> Jurisdiction | None:
    place = db.session.scalar(select(Jurisdiction).filter_by(code=code.strip())) if code.strip() else None
    if place is None:
        errors.append(("jurisdiction", f"没有代码为 {code} 的行政区划" if code.strip() else "请选择所在行政区划"))
    elif not actor.jurisdiction.contains(place):
        errors.append(("jurisdiction", f"{place.full_name} 不在 {actor.jurisdiction.full_name} 辖区内"))
    return place


def check_password(password: str, field: str = "password") -> None:
    """A password an official chooses: long enough and not all one kind of character."""
    if len(password) < PASSWORD_MIN:
        raise FormInvalid(FORM, [(field, f"密码至少 {PASSWORD_MIN} 位")])
    if len(password) > PASSWORD_MAX:
        raise FormInvalid(FORM, [(field, f"密码至多 {PASSWORD_MAX} 位")])
    if password.isdigit() or password.isalpha():
        raise FormInvalid(FORM, [(field, "密码不能只有数字或只有字母")])


ONE_TIME_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no look-alikes (0/o, 1/l/i) to read out over the phone


def _one_time_password() -> str:
    """12 characters in groups of four (about 59 bits), shown once to the administrator."""
    chars = "".join(secrets.choice(ONE_TIME_ALPHABET) for _ in range(12))
    return "-".join(chars[i:i + 4] for i in range(0, 12, 4))


def _refuse(errors: list[tuple[str, str]]) -> None:
    if errors:
        raise FormInvalid(FORM, errors)


# -- changes ---------------------------------------------------------------------------------------------------


def create_user(actor: User, username: str, display_name: str, roles: list[str], jurisdiction_code: str,
                now: datetime, department: str | None = None) -> Issued:
    """A new official in the administrator's jurisdiction, with a one-time password (a department officer with the
    department they belong to)."""
    _require_administrator(actor)
    username, display_name, roles = username.strip(), display_name.strip(), _unique(roles)
    department = (department or "").strip() or None
    errors: list[tuple[str, str]] = []
    _check_username(username, errors)
    _check_name(display_name, errors)
    _check_roles(roles, errors)
    place = _place(actor, jurisdiction_code, errors)
    _check_level(roles, place, errors)
    _check_department(roles, department, place, now, errors)
    _refuse(errors)
    return _create(actor.username, username, display_name, roles, place, now, department)


def _create(actor: str, username: str, display_name: str, roles: list[str], place: Jurisdiction,
            now: datetime, department: str | None = None) -> Issued:
    password = _one_time_password()
    with transaction():
        user = User(username=username, display_name=display_name, roles=roles, jurisdiction=place, active=True,
                    must_change_password=True, created_at=now, password_hash=generate_password_hash(password),
                    department=department)
        db.session.add(user)
        audit.record(now, actor, "user_created", user=username, display_name=display_name, roles=roles,
                     jurisdiction=place.code, **({"department": department} if department else {}))
    log.info("user %s created by %s in %s with roles %s", username, actor, place.code, roles)
    return Issued(user, password)


def create_first_administrator(username: str, display_name: str, jurisdiction_code: str, now: datetime,
                               actor: str = "install") -> Issued:
    """The first administrator of a place (from the command line): of a fresh install, or of a city or province
    above the county that installed it, whose officials (the city's and province's reviews of a rollback or a
    removal) no administrator below can create. Refused once an active administrator of that place or above it
    exists: from then on administrators create each other."""
    username, display_name = username.strip(), display_name.strip()
    errors: list[tuple[str, str]] = []
    _check_username(username, errors)
    _check_name(display_name, errors)
    place = db.session.scalar(select(Jurisdiction).filter_by(code=jurisdiction_code.strip()))
    if place is None:
        errors.append(("jurisdiction", f"没有代码为 {jurisdiction_code} 的行政区划"))
    else:
        existing = db.session.scalars(select(User).where(User.active.is_(True))).all()
        above = next((u for u in existing if ADMINISTRATOR in u.roles and u.jurisdiction.contains(place)), None)
        if above is not None:
            raise RuleViolation(f"已有系统管理员（{above.username}，{above.jurisdiction.full_name}）：请由其在“用户管理”中"
                                "创建新用户")
    _refuse(errors)
    return _create(actor, username, display_name, [ADMINISTRATOR], place, now)


def change_user(actor: User, username: str, now: datetime, display_name: str | None = None,
                roles: list[str] | None = None, jurisdiction_code: str | None = None,
                department: str | None = None) -> User:
    """Change an official's name, roles, place or department (within the administrator's jurisdiction;
    ``department`` "" takes the department away, None leaves it)."""
    user = managed(actor, username)
    errors: list[tuple[str, str]] = []
    changes: dict[str, object] = {}
    if display_name is not None and display_name.strip() != user.display_name:
        _check_name(display_name, errors)
        changes["display_name"] = display_name.strip()
    if roles is not None and _unique(roles) != user.roles:
        _check_roles(_unique(roles), errors)
        if user.id == actor.id and ADMINISTRATOR not in roles:
            errors.append(("roles", "不能取消自己的系统管理员角色（请由另一位管理员办理）"))
        changes["roles"] = _unique(roles)
    place = None
    if jurisdiction_code is not None and jurisdiction_code.strip() != user.jurisdiction.code:
        place = _place(actor, jurisdiction_code, errors)
        changes["jurisdiction"] = jurisdiction_code.strip()
    if department is not None and (department.strip() or None) != user.department:
        changes["department"] = department.strip() or None
    if "roles" in changes or place is not None:
        _check_level(list(changes.get("roles", user.roles)), place or user.jurisdiction, errors)
    if {"roles", "department", "jurisdiction"} & changes.keys():
        _check_department(list(changes.get("roles", user.roles)), changes.get("department", user.department),
                          place or user.jurisdiction, now, errors)
    _refuse(errors)
    if not changes:
        raise RuleViolation(f"用户 {username} 没有变化")
    with transaction():
        before = {"display_name": user.display_name, "roles": user.roles, "jurisdiction": user.jurisdiction.code,
                  "department": user.department}
        if "display_name" in changes:
            user.display_name = changes["display_name"]
        if "roles" in changes:
            user.roles = changes["roles"]
        if place is not None:
            user.jurisdiction = place
        if "department" in changes:
            user.department = changes["department"]
        audit.record(now, actor.username, "user_changed", user=username,
                     before={k: before[k] for k in changes}, after=changes)
    return user


def deactivate_user(actor: User, username: str, reason: str, now: datetime) -> User:
    """A leaver (离岗): cannot log in or use an API token any more; their tasks stay for the others of the role."""
    user = managed(actor, username)
    reason = reason.strip()
    if not reason:
        raise FormInvalid(FORM, [("reason", "请写明停用原因（如调离、退休）")])
    if len(reason) > REASON_MAX:
        raise FormInvalid(FORM, [("reason", f"停用原因最多 {REASON_MAX} 个字")])
    if user.id == actor.id:
        raise RuleViolation("不能停用自己的账号（请由另一位管理员办理）")
    if not user.active:
        raise RuleViolation(f"用户 {username} 已停用")
    with transaction():
        user.active, user.deactivated_at = False, now
        audit.record(now, actor.username, "user_deactivated", user=username, reason=reason)
    return user


def reactivate_user(actor: User, username: str, now: datetime) -> Issued:
    """Give a deactivated official their account back, with a new one-time password."""
    user = managed(actor, username)
    if user.active:
        raise RuleViolation(f"用户 {username} 未停用")
    password = _one_time_password()
    with transaction():
        user.active, user.deactivated_at = True, None
        user.password_hash, user.must_change_password = generate_password_hash(password), True
        audit.record(now, actor.username, "user_reactivated", user=username)
    return Issued(user, password)


def reset_password(actor: User, username: str, now: datetime) -> Issued:
    """A new one-time password for an official who forgot theirs (the old one stops working at once)."""
    user = managed(actor, username)
    if not user.active:
        raise RuleViolation(f"用户 {username} 已停用，请先启用")
    password = _one_time_password()
    with transaction():
        user.password_hash, user.must_change_password = generate_password_hash(password), True
        audit.record(now, actor.username, "password_reset", user=username)
    return Issued(user, password)


def change_own_password(user: User, current: str, new: str, now: datetime) -> None:
    """An official replaces their password (the current one must be given)."""
    if not check_password_hash(user.password_hash, current):
        raise FormInvalid(FORM, [("current", "当前密码不正确")])
    check_password(new, "new")
    if check_password_hash(user.password_hash, new):
        raise FormInvalid(FORM, [("new", "新密码不能与当前密码相同")])
    with transaction():
        user.password_hash, user.must_change_password = generate_password_hash(new), False
        audit.record(now, user.username, "password_changed", user=user.username)


def _unique(roles: list[str]) -> list[str]:
    return list(dict.fromkeys(r.strip() for r in roles if r.strip()))
