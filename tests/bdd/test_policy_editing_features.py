"""features/policy_editing.feature: a policy editor changes 章贡区's procedure and parameters from a date, through
the engine's policy administration (the same calls the web pages make)."""
from __future__ import annotations

from datetime import date

from pytest_bdd import given, parsers, scenarios, then, when
from sqlalchemy import func, select

from engine.core.config import project_dir
from engine.core.db import db
from engine.core.errors import FangpinError
from engine.core.models import AuditEvent, Jurisdiction, ProcessVersion, User
from engine.core.transaction import transaction
from engine.library.deploying import BindingRequest, deploy_diagram, diagram_source
from engine.policy.bindings import bound_version
from engine.policy.editing import bind_process, parse_value, roll_back, set_parameter
from engine.policy.parameters import resolve
from tests.bdd.officials import village
from tests.bdd.steps import *
from tests.bdd.steps import _case, _run
from tests.diagram_variants import ZHANGGONG_2021, without_town_publicity, zhanggong_2021
from tests.factories import password_hash
from timers.calendar import to_local_date

scenarios("policy_editing.feature")

EDITOR = "jiangxi_zhengce"
PLACES = {"章贡区": "360702", "江西省": "36"}


def _user(username: str = EDITOR) -> User:
    return db.session.scalar(select(User).filter_by(username=username))


def _refusable(world, action) -> None:
    try:
        action()
    except FangpinError as exc:
        world["refused"] = str(exc)


@given(parsers.parse('章贡区有一名政策管理员 "{username}"'))
def county_editor(username: str) -> None:
    with transaction():
        place = db.session.scalar(select(Jurisdiction).filter_by(code=PLACES["章贡区"]))
        db.session.add(User(username=username, display_name="章贡区政策管理员", roles=["policy_editor"],
                            password_hash=password_hash(), jurisdiction=place))


@when(parsers.parse('政策管理员复制章贡区2021年流程图，删去镇村两级公示，另存为新流程 "{key}" 并上传部署'))
def deploy_copy(world, clock, key: str) -> None:
    content = without_town_publicity(process_id=key, name="识别纳入（章贡区：村级公示5天，不再镇村两级公示）")
    world["deployed"] = deploy_diagram(_user(), diagram_source(f"{key}.bpmn", content), clock)


@when(parsers.parse('政策管理员上传删去 "{step}" 表单的章贡区2021年流程图'))
def deploy_broken(world, clock, step: str) -> None:
    text = zhanggong_2021().decode()
    start = text.index(f'name="{step}"')
    prop = text.index('<spiffworkflow:property name="formJsonSchemaFilename"', start)
    broken = (text[:prop] + text[text.index("/>", prop) + 2:]).encode()
    _refusable(world, lambda: deploy_diagram(_user(), diagram_source(ZHANGGONG_2021, broken), clock))


@then(parsers.parse('流程 "{key}" 已部署第 {number:d} 版，部署人为政策管理员'))
def deployed(world, key: str, number: int) -> None:
    assert [(v.process_key, v.version, v.deployed_by) for v in world["deployed"]] == [(key, number, EDITOR)]


@then(parsers.parse('流程 "{key}" 仍只有第 {number:d} 版'))
def only_version(key: str, number: int) -> None:
    versions = db.session.scalars(select(ProcessVersion.version).filter_by(process_key=key)).all()
    assert versions == [number]


@when(parsers.parse('政策管理员把章贡区的识别流程自 {day} 起改为 "{key}"'))
def bind(world, clock, day: str, key: str) -> None:
    bind_process(_user(), "identification", key, PLACES["章贡区"], date.fromisoformat(day), clock)


@when(parsers.parse('"{username}" 把{place}的识别流程自 {day} 起改为 "{key}"'))
def bind_as(world, clock, username: str, place: str, day: str, key: str) -> None:
    _refusable(world, lambda: bind_process(_user(username), "identification", key, PLACES[place],
                                           date.fromisoformat(day), clock))


@when(parsers.parse('政策管理员把章贡区的 "{key}" 自 {day} 起改为 {value:d}'))
def set_number(clock, key: str, day: str, value: int) -> None:
    set_parameter(_user(), key, value, PLACES["章贡区"], date.fromisoformat(day), clock, source="区级文件（示例）")


@when(parsers.parse('政策管理员把章贡区的 "{key}" 自 {day} 起改为 "{text}"'))
def set_typed(world, clock, key: str, day: str, text: str) -> None:
    """As typed in the parameter page: the text is read as the parameter's type first."""
    _refusable(world, lambda: set_parameter(_user(), key, parse_value(key, text), PLACES["章贡区"],
                                            date.fromisoformat(day), clock, source="区级文件（示例）"))


@when(parsers.parse('政策管理员把章贡区的 "{key}" 自 {day} 起改为 "{text}"，不写依据'))
def set_without_source(world, clock, key: str, day: str, text: str) -> None:
    _refusable(world, lambda: set_parameter(_user(), key, parse_value(key, text), PLACES["章贡区"],
                                            date.fromisoformat(day), clock, source=" "))


@then(parsers.parse('章贡区 {day} 立案的识别案件使用流程 "{key}"，村级公示 {days:d} 天'))
def in_force(day: str, key: str, days: int) -> None:
    place, on = village("沙河村"), date.fromisoformat(day)
    assert resolve("identification.process", place, on) == key
    assert resolve("identification.village_publicity_days", place, on) == days


@then(parsers.parse("操作日志记录了政策管理员的 {actions}"))
def audited(actions: str) -> None:
    wanted = [a.strip('"') for a in actions.split("、")]
    for action in wanted:
        count = db.session.scalar(select(func.count()).select_from(AuditEvent).filter_by(actor=EDITOR, action=action))
        assert count >= 1, action


@when("各级按默认材料办理该案件，直至办结")
def run_this_case(world, clock) -> None:
    world["done"] = []
    _run(world, clock)


@then(parsers.parse("案件在 {day} 以后办结"))
def closed_after(world, day: str) -> None:
    case = _case(world)
    assert to_local_date(case.closed_at) > date.fromisoformat(day), case.closed_at


@when(parsers.parse('政策管理员修改江西省识别流程图的 "{old}" 为 "{new}"，部署为新版本并自 {day} 起绑定章贡区'))
def deploy_version_bound(world, clock, old: str, new: str, day: str) -> None:
    shipped = (project_dir("processes") / "identification.bpmn").read_text(encoding="utf-8")
    assert f'name="{old}"' in shipped
    content = shipped.replace(f'name="{old}"', f'name="{new}"').encode()
    binding = BindingRequest("identification", PLACES["章贡区"], date.fromisoformat(day))
    world["deployed"] = deploy_diagram(_user(), diagram_source("identification.bpmn", content), clock, binding)


@then(parsers.parse('流程 "{key}" 共有 {number:d} 个版本'))
def version_count(key: str, number: int) -> None:
    assert db.session.scalar(select(func.count()).select_from(ProcessVersion).filter_by(process_key=key)) == number


@then(parsers.parse('{place} {day} 立案的识别案件使用 "{key}" 第 {number:d} 版'))
def version_in_force(place: str, day: str, key: str, number: int) -> None:
    version = bound_version(resolve("identification.process", village(place), date.fromisoformat(day)))
    assert (version.process_key, version.version) == (key, number)


@when(parsers.parse('政策管理员把章贡区自 {day} 起回退到 "{key}" 第 {number:d} 版'))
def rolled_back(clock, day: str, key: str, number: int) -> None:
    version = db.session.scalar(select(ProcessVersion).filter_by(process_key=key, version=number))
    roll_back(_user(), version.id, "identification", PLACES["章贡区"], date.fromisoformat(day), clock)
