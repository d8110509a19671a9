"""features/poverty_policy.feature: 脱贫人口分类管理 (004 附件2) against the real diagrams, decision table and calendar."""
from __future__ import annotations

from pytest_bdd import parsers, scenarios, then, when

from engine.cases.lifecycle import complete_task, open_poverty_policy
from engine.core.db import db
from engine.core.errors import FangpinError
from engine.households.poverty_policy import _names
from tests.bdd.officials import household_named
from tests.bdd.steps import *
from tests.bdd.steps import _case, _task, _today, end_of, official

scenarios("poverty_policy.feature")
CHECK = "入户核实认定情形和例外情形"


def _key(field: str, name: str) -> str:
    return next(key for key, label in _names(field).items() if label == name)


@when(parsers.parse('村干部为 "{head}" 户开展脱贫人口分类认定'))
def start(world, clock, head: str) -> None:
    world.pop("refused", None)
    try:
        world["case_id"] = open_poverty_policy(household_named(head).id, "zhuyouguan_cun", clock).id
    except FangpinError as exc:
        world["refused"] = str(exc)


@when(parsers.parse('村干部核实 "{head}" 户存在认定情形 "{criterion}"，例外情形 "{exception}"'))
def checked_with_exception(world, clock, head: str, criterion: str, exception: str) -> None:
    _check(world, clock, [_key("criteria", criterion)], [_key("exceptions", exception)])


@when(parsers.parse('村干部核实 "{head}" 户存在认定情形 "{criterion}"'))
def checked(world, clock, head: str, criterion: str) -> None:
    _check(world, clock, [_key("criteria", criterion)], [])


def _check(world, clock, criteria: list[str], exceptions: list[str]) -> None:
    row = _task(_case(world), CHECK)
    complete_task(row.id, {"verified_on": _today(clock).isoformat(), "criteria": criteria, "exceptions": exceptions},
                  official("村干部", row.case).username, clock)
    world["done"].append((row.name, row.role))


@then(parsers.parse('"{head}" 户为脱贫不再享受政策户'))
def not_enjoying(head: str) -> None:
    db.session.expire_all()
    household = household_named(head)
    assert household.is_formerly_poor and not household.enjoys_poverty_policy


@then(parsers.parse('"{head}" 户仍为脱贫享受政策户'))
def still_enjoying(head: str) -> None:
    db.session.expire_all()
    assert household_named(head).enjoys_poverty_policy


@then(parsers.parse('办理的步骤中有 "{step}"'))
def step_done(world, step: str) -> None:
    assert step in [name for name, _ in world["done"]], world["done"]


@then(parsers.parse('村干部的待办 "{step}" 期限为 {day} 24:00'))
def village_due(world, step: str, day: str) -> None:
    row = _task(_case(world), step)
    assert row is not None and row.role == "village_cadre" and row.due_at == end_of(day)
