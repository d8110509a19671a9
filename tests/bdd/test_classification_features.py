"""features/classification.feature: households are classified by the decision tables of processes/, and a
policy editor changes a table through the engine's policy administration (the calls the web pages make)."""
from __future__ import annotations

from xml.sax.saxutils import escape

from pytest_bdd import parsers, scenarios, then, when
from sqlalchemy import select

from engine.core.config import project_dir
from engine.core.db import db
from engine.core.errors import FangpinError
from engine.core.models import Case, ProcessVersion, User
from engine.demo import official_for
from engine.library.deploying import deploy_diagram, diagram_source
from tests.bdd.steps import *
from tests.bdd.steps import _ready, _today, assessed

scenarios("classification.feature")

EDITOR = "jiangxi_zhengce"
VERIFICATION_FORM = "household_verification.json"


FALLS = {"收入大幅缩减": True, "收入没有大幅缩减": False}  # 因病因残因学因灾因意外事故等导致收入大幅缩减 (form)


def _verify(world, clock, case: Case, income: int, oop: int, sharply_reduced: bool = False) -> None:
    row = next(r for r in _ready(case) if r.form == VERIFICATION_FORM)
    data = default_form(row.form, _today(clock), row.case)
    data["income"] = {"household_size": case.household.size, "wages": income, "business_income": 0,
                      "property_income": 0, "transfer_income": 0, "business_expenses": 0,
                      "compliant_out_of_pocket": oop, "sharply_reduced": sharply_reduced}
    complete_task(row.id, data, official_for(row.role, case).username, clock)
    world["done"].append((row.name, row.role))


def _case_of(world, head: str) -> Case:
    world["case_id"] = world["cases"][head]
    return db.session.get(Case, world["case_id"])


@when(parsers.parse("核实人员入户核实：家庭纯收入 {income:d} 元，合规自付支出 {oop:d} 元"))
def verify(world, clock, income: int, oop: int) -> None:
    _verify(world, clock, db.session.get(Case, world["case_id"]), income, oop)


@when(parsers.parse("核实人员入户核实：家庭纯收入 {income:d} 元，合规自付支出 {oop:d} 元，{fall}"))
def verify_fall(world, clock, income: int, oop: int, fall: str) -> None:
    _verify(world, clock, db.session.get(Case, world["case_id"]), income, oop, FALLS[fall])


@when(parsers.parse('"{head}" 户的核实人员入户核实：家庭纯收入 {income:d} 元，合规自付支出 {oop:d} 元'))
def verify_of(world, clock, head: str, income: int, oop: int) -> None:
    _verify(world, clock, _case_of(world, head), income, oop)


@then(parsers.parse('"{head}" 户的测算结果为 "{result}"，理由包含 "{text}"'))
def assessed_of(world, head: str, result: str, text: str) -> None:
    _case_of(world, head)
    assessed(world, result, text)


def _deploy_edited(world, clock, decision: str, old: str, new: str) -> None:
    shipped = (project_dir("processes") / f"{decision}.dmn").read_bytes()
    assert old.encode() in shipped, old
    editor = db.session.scalar(select(User).filter_by(username=EDITOR))
    source = diagram_source(f"{decision}.dmn", shipped.replace(old.encode(), new.encode()))
    try:
        world["deployed"] = deploy_diagram(editor, source, clock)
    except FangpinError as exc:
        world["refused"] = str(exc)


@when(parsers.parse('政策管理员把决策表 "{decision}" 中的比较 "{old}" 改为 "{new}"，上传部署'))
def edit_comparison(world, clock, decision: str, old: str, new: str) -> None:
    _deploy_edited(world, clock, decision, escape(old), escape(new))


@when(parsers.parse('政策管理员把决策表 "{decision}" 中输出的类别 "{old}" 改为 "{new}"，上传部署'))
def edit_category(world, clock, decision: str, old: str, new: str) -> None:
    _deploy_edited(world, clock, decision, f'<text>"{old}"</text>', f'<text>"{new}"</text>')


def _versions(key: str) -> list[int]:
    return list(db.session.scalars(select(ProcessVersion.version).filter_by(process_key=key)
                                   .order_by(ProcessVersion.version)))


@then(parsers.parse('识别流程 {keys} 各部署了第 {number:d} 版，"{untouched}" 没有新版本'))
def deployed_versions(world, keys: str, number: int, untouched: str) -> None:
    wanted = {k.strip('"') for k in keys.split("、")}
    assert {(v.process_key, v.version) for v in world["deployed"]} == {(k, number) for k in wanted}
    assert _versions(untouched) == [1]


@then(parsers.parse('识别流程 "{key}" 仍只有第 {number:d} 版'))
def only_version(key: str, number: int) -> None:
    assert _versions(key) == [number]


@then(parsers.re(r'"(?P<head>[^"]+)" 户的案件(仍)?使用流程 "(?P<key>[^"]+)" 第 (?P<number>\d+) 版'))
def case_version(world, head: str, key: str, number: str) -> None:
    version = _case_of(world, head).process_version
    assert (version.process_key, version.version) == (key, int(number))
