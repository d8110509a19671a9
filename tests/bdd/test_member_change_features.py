"""features/member_change.feature: natural member changes within three months, on the real engine."""
from __future__ import annotations

from datetime import date

from pytest_bdd import parsers, scenarios, then, when
from sqlalchemy import select

from engine.cases.lifecycle import complete_task, open_member_change
from engine.core.db import db
from engine.core.errors import FangpinError
from engine.core.id_numbers import with_check_character
from engine.core.models import Jurisdiction
from engine.supervision.overdue import overdue_tasks
from tests.bdd.officials import household_named
from tests.bdd.steps import *
from tests.bdd.steps import _case, _task, end_of, official

scenarios("member_change.feature")
STEP = "登记家庭成员自然变更"


@when(parsers.parse('村干部报告 "{head}" 户 {day} 有成员自然变更'))
def report(world, clock, head: str, day: str) -> None:
    world["case_id"] = open_member_change(household_named(head).id, date.fromisoformat(day), "shahe_cun", clock).id


@then(parsers.parse('村干部有待办任务 "{step}"，期限为 {day} 24:00'))
def due(world, step: str, day: str) -> None:
    row = _task(_case(world), step)
    assert row is not None and row.role == "village_cadre" and row.due_at == end_of(day)


def _record(world, clock, data: dict) -> None:
    row = _task(_case(world), STEP)
    base = {"changed_on": _case(world).lead_date.isoformat()}
    complete_task(row.id, {**base, **data}, official("村干部", row.case).username, clock)


@when(parsers.parse('村干部凭 "{proof}" 登记出生的 "{name}"'))
def birth(world, clock, proof: str, name: str) -> None:
    _record(world, clock, {"change_type": "birth", "proof": proof, "new_member": {
        "name": name, "relation_to_head": "子", "id_number": with_check_character("36070220260910001")}})


@when(parsers.parse('村干部登记出生的 "{name}"，身份证号录成 "{typed}"（凭 "{proof}"）'))
def birth_mistyped(world, clock, proof: str, name: str, typed: str) -> None:
    world["typed"] = typed
    try:
        _record(world, clock, {"change_type": "birth", "proof": proof, "new_member": {
            "name": name, "relation_to_head": "女", "id_number": typed}})
    except FangpinError as exc:
        world["refused"] = str(exc)


@when(parsers.parse('村干部登记出生的 "{name}"，身份证号与 "{other}" 的相同（凭 "{proof}"）'))
def birth_of_a_registered_number(world, clock, name: str, other: str, proof: str) -> None:
    birth_mistyped(world, clock, proof, name, household_named(other).head.id_number)


@then("提示中不重复所录的身份证号")
def typed_number_not_repeated(world) -> None:
    assert world["refused"] and world["typed"] not in world["refused"]


@when(parsers.parse('村干部凭 "{proof}" 登记 "{name}" 死亡'))
def death(world, clock, proof: str, name: str) -> None:
    member = next(m for m in _case(world).household.members if m.name == name)
    _record(world, clock, {"change_type": "death", "proof": proof, "leaving_id_number": member.id_number})


@then(parsers.parse('"{head}" 户家庭人口为 {size:d} 人'))
def household_size(head: str, size: int) -> None:
    db.session.expire_all()
    assert household_named(head).size == size


@then(parsers.parse('章贡区的逾期任务中有 "{step}"，逾期 {days:d} 天'))
def overdue(world, clock, step: str, days: int) -> None:
    county = db.session.scalar(select(Jurisdiction).filter_by(code="360702"))
    items = overdue_tasks(county, clock.now(), step=step)
    assert [(i.case_id, i.days_overdue) for i in items] == [(world["case_id"], days)]
