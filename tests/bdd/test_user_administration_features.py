"""features/user_administration.feature: a county administrator manages the officials of the county through the
engine's user administration (the same calls the web pages and the CLI make)."""
from __future__ import annotations

from pytest_bdd import parsers, scenarios, then, when
from sqlalchemy import select

from engine.accounts import users
from engine.cases.lifecycle import authorize
from engine.core.db import db
from engine.core.errors import FangpinError
from engine.core.models import HumanTask, User
from tests.bdd.officials import ROLE_WORDS
from tests.bdd.steps import *

scenarios("user_administration.feature")

ADMIN = "zhanggong_admin"
PLACES = {"沙河村": "360702101201", "沙河镇": "360702101", "诸由观村": "370681104201"}


def _user(username: str) -> User | None:
    return db.session.scalar(select(User).filter_by(username=username))


def _refusable(world, action) -> None:
    world["refused"] = None
    try:
        return action()
    except FangpinError as exc:
        world["refused"] = str(exc)
        db.session.rollback()
    return None


@when(parsers.parse('章贡区系统管理员为{place}开设{role}账号 "{username}"，姓名 "{name}"'))
def create(world, clock, place: str, role: str, username: str, name: str) -> None:
    issued = _refusable(world, lambda: users.create_user(_user(ADMIN), username, name, [ROLE_WORDS[role]],
                                                         PLACES[place], clock.now()))
    if issued is not None:
        world.setdefault("passwords", {})[username] = issued.password


@when(parsers.parse('"{username}" 把密码改为 "{password}"'))
def change_own(world, clock, username: str, password: str) -> None:
    users.change_own_password(_user(username), world["passwords"][username], password, clock.now())


@when(parsers.parse('章贡区系统管理员停用 "{username}"，原因 "{reason}"'))
def deactivate(clock, username: str, reason: str) -> None:
    users.deactivate_user(_user(ADMIN), username, reason, clock.now())


@when(parsers.parse('章贡区系统管理员重新启用 "{username}"'))
def reactivate(world, clock, username: str) -> None:
    world["passwords"][username] = users.reactivate_user(_user(ADMIN), username, clock.now()).password


@when(parsers.parse('章贡区系统管理员重置 "{username}" 的密码'))
def reset(world, clock, username: str) -> None:
    _refusable(world, lambda: users.reset_password(_user(ADMIN), username, clock.now()))


@then(parsers.parse('"{username}" 用一次性密码登录后须先修改密码'))
def must_change(world, username: str) -> None:
    user = users.login(username, world["passwords"][username])
    assert user is not None and user.must_change_password


@then(parsers.parse('"{username}" 可以用密码 "{password}" 登录'))
def can_log_in(username: str, password: str) -> None:
    user = users.login(username, password)
    assert user is not None and not user.must_change_password


@then(parsers.parse('"{username}" 不能再登录'))
def cannot_log_in(world, username: str) -> None:
    assert users.login(username, world["passwords"][username]) is None


@then(parsers.parse('"{username}" 可以办理沙河村的村干部任务'))
def may_do_village_work(username: str) -> None:
    place = db.session.scalar(select(User).filter_by(username="shahe_cun")).jurisdiction
    row = HumanTask(name="受理申请", role="village_cadre", jurisdiction_path=place.path)
    authorize(_user(username), row)  # raises PermissionDenied otherwise


@then(parsers.parse('用户 "{username}" 的变更记录依次为 "{actions}"'))
def history_is(username: str, actions: str) -> None:
    assert "、".join(users.USER_ACTIONS[e.action] for e in users.history(username)) == actions


@then(parsers.parse('操作被拒绝，提示包含 "{text}"'))
def refused(world, text: str) -> None:
    assert world["refused"] and text in world["refused"]


@then(parsers.parse('没有用户 "{username}"'))
def no_user(username: str) -> None:
    assert _user(username) is None
