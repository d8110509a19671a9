"""features/warnings.feature: department warnings (行业预警) against the real engine, diagrams and calendar."""
from __future__ import annotations

import csv
import io
import re
from datetime import date

from pytest_bdd import given, parsers, scenarios, then, when
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from engine.core.config import project_dir
from engine.core.db import db
from engine.core.errors import FangpinError, FormInvalid
from engine.core.models import AuditEvent, Case, DepartmentWarning, Jurisdiction, User, WarningBatch
from engine.core.transaction import transaction
from engine.policy.parameters import load_policy_file
from engine.warnings.intake import import_batch
from engine.warnings.ledger import missing_pushes, overdue_warnings
from engine.warnings.procedure import dispatch_warnings, push_to_counties, record_verification
from engine.warnings.rows import read_csv
from tests.bdd.officials import household_named
from tests.bdd.steps import *
from tests.bdd.steps import end_of

scenarios("warnings.feature")

PLACES = {"章贡区": "360702", "赣州市": "3607", "龙口市": "370681", "沙河镇": "360702101", "水西镇": "360702102"}
DEPARTMENTS = {"医保": "medical", "教育": "education", "民政": "civil_affairs", "卫健": "health",
               "应急管理": "emergency", "农业农村": "agriculture"}
PERSON = re.compile(r"^\[(.+)\]$")


def _place(name: str) -> Jurisdiction:
    return db.session.scalar(select(Jurisdiction).filter_by(code=PLACES[name]))


def _id_of(head: str) -> str:
    return household_named(head).head.id_number


def _warning_of(head: str) -> DepartmentWarning:
    db.session.expire_all()
    rows = db.session.scalars(select(DepartmentWarning).filter_by(id_number=_id_of(head))
                              .order_by(DepartmentWarning.id)).all()
    assert rows, f"no warning for {head}"
    return rows[-1]


def _department_user(code: str) -> str:
    return f"dept_{code}"


# -- given ----------------------------------------------------------------------------------------


@given("已加载行业预警标准，各地行业部门已开通账号")
def warning_policy() -> None:
    with transaction():
        load_policy_file(project_dir("policy") / "warning_thresholds.json")
        for code in ("360702", "3607", "370681"):
            place = db.session.scalar(select(Jurisdiction).filter_by(code=code))
            db.session.add(User(username=_department_user(code), display_name=f"{place.name}行业部门",
                                roles=["department_officer"], jurisdiction=place,
                                password_hash=generate_password_hash("demo")))


# -- when -----------------------------------------------------------------------------------------


@when(parsers.re(r"(?P<place>章贡区|赣州市|龙口市)(?P<dept>\S+?)部门推送 (?P<period>\S+) 的预警数据:"))
def push_batch(world, clock, datatable, place: str, dept: str, period: str) -> None:
    """The table is the department's file: written as a UTF-8 CSV with BOM, its header is line 1."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([cell.strip() for cell in datatable[0]])
    writer.writerows([_cell(value) for value in row] for row in datatable[1:])
    world.pop("refused", None)
    world.pop("errors", None)
    world["counts_before"] = _counts()
    try:
        batch = import_batch(DEPARTMENTS[dept], period, read_csv(out.getvalue().encode("utf-8-sig")), "csv",
                             _department_user(PLACES[place]), clock)
    except FormInvalid as exc:
        world["errors"], world["refused"] = dict(exc.errors), str(exc)
    else:
        world["batch_id"] = batch.id


def _counts() -> tuple[int, int]:
    count = db.func.count()
    return (db.session.scalar(select(count).select_from(WarningBatch)),
            db.session.scalar(select(count).select_from(DepartmentWarning)))


def _cell(value: str) -> str:
    """``[户主姓名]`` stands for that person's ID number."""
    value = value.strip()
    person = PERSON.match(value)
    return _id_of(person.group(1)) if person else value


@when("县级干部比对交办全部预警")
def county_dispatches(clock) -> None:
    ids = list(db.session.scalars(select(DepartmentWarning.id).filter_by(status="at_county")))
    dispatch_warnings(ids, "zhanggong_xian", clock)


@when("市级干部分解推送全部预警")
def city_pushes(clock) -> None:
    for batch_id in set(db.session.scalars(select(DepartmentWarning.batch_id).filter_by(status="received"))):
        push_to_counties(batch_id, "ganzhou_shi", clock)


@when(parsers.parse('乡镇干部核查 "{head}" 的预警：符合监测条件'))
def verified_meets(world, clock, head: str) -> None:
    _verify(world, clock, head, True, "入户核查属实，符合监测条件")


@when(parsers.parse('乡镇干部核查 "{head}" 的预警：不符合纳入条件，理由 "{reason}"'))
def verified_not(world, clock, head: str, reason: str) -> None:
    _verify(world, clock, head, False, reason)


@when(parsers.parse('乡镇干部核查 "{head}" 的预警：不符合纳入条件，未写理由'))
def verified_without_reason(world, clock, head: str) -> None:
    _verify(world, clock, head, False, "")


def _verify(world, clock, head: str, meets: bool, reason: str) -> None:
    world.pop("refused", None)
    try:
        record_verification(_warning_of(head).id, meets, reason, "shahe_zhen", clock)
    except FangpinError as exc:
        world["refused"] = str(exc)


# -- then -----------------------------------------------------------------------------------------


@then("推送被整批拒绝，没有导入任何预警")
def refused_whole(world) -> None:
    assert world.get("errors"), "the batch was imported"
    assert _counts() == world["counts_before"]


@then(parsers.parse('拒绝原因中 "{field}" 为 "{reason}"'))
def reason_is(world, field: str, reason: str) -> None:
    assert world["errors"].get(field) == reason, world["errors"]


@then(parsers.parse('拒绝原因中 "{field}" 包含 "{text}"'))
def reason_contains(world, field: str, text: str) -> None:
    assert text in world["errors"].get(field, ""), world["errors"]


@then(parsers.parse("拒绝原因中没有第 {line:d} 行"))
def line_not_refused(world, line: int) -> None:
    assert not [f for f in world["errors"] if f.startswith(f"第 {line} 行")], world["errors"]


@then(parsers.parse("导入了 {n:d} 条预警"))
def imported(world, n: int) -> None:
    assert "errors" not in world, world.get("errors")
    batch = db.session.get(WarningBatch, world["batch_id"])
    assert batch.rows_count == n
    assert db.session.scalar(select(db.func.count()).select_from(DepartmentWarning).filter_by(batch_id=batch.id)) == n


@then(parsers.parse('"{head}" 户是监测对象'))
def is_monitored(head: str) -> None:
    db.session.expire_all()
    assert household_named(head).status == "monitored"


@then(parsers.parse('"{head}" 的预警状态为 "{status}"'))
def warning_status(head: str, status: str) -> None:
    assert _warning_of(head).status == status


@then(parsers.parse('"{head}" 的预警状态为 "{status}"，当前期限为 {day} 24:00'))
def warning_status_due(world, head: str, status: str, day: str) -> None:
    warning = _warning_of(head)
    assert (warning.status, warning.due_at) == (status, end_of(day))
    world["warning_id"] = warning.id


@then(parsers.parse('预警期限的说明包含 "{text}"'))
def due_explained(world, text: str) -> None:
    step = db.session.get(DepartmentWarning, world["warning_id"]).detail["steps"][-1]
    assert text in step["explanation"], step["explanation"]
    assert step["data_version"].startswith("chinesecalendar")


@then(parsers.parse('"{head}" 户的在办案件中记录了 "{action}"'))
def noted_on_case(head: str, action: str) -> None:
    household = household_named(head)
    running = db.session.scalars(select(Case).filter_by(household_id=household.id, status="running")).all()
    assert running, "the household has no running case"
    events = db.session.scalars(select(AuditEvent).filter_by(action=action, household_id=household.id)).all()
    assert [e.case_id for e in events] == [running[-1].id]
    assert events[0].detail["department_name"] == "医保部门"


@then(parsers.parse('"{head}" 户有识别案件，渠道为 "{channel}"，发现日期为 {day}'))
def has_case(head: str, channel: str, day: str) -> None:
    household = household_named(head)
    case = db.session.scalar(select(Case).filter_by(household_id=household.id, procedure="identification"))
    assert (case.channel, case.lead_date, case.status) == (channel, date.fromisoformat(day), "running")
    assert _warning_of(head).case_id == case.id
    assert household.status == "applying"


@then(parsers.parse('"{head}" 户为重点关注户，理由为 "{reason}"'))
def key_attention(head: str, reason: str) -> None:
    household = household_named(head)
    assert household.status == "key_attention"
    assert _warning_of(head).outcome_reason == reason
    event = db.session.scalar(select(AuditEvent).filter_by(action="warning_verified", household_id=household.id))
    assert event.detail["reason"] == reason and event.detail["household_status"] == "key_attention"


@then(parsers.parse('"{head}" 户没有识别案件'))
def no_case(head: str) -> None:
    assert db.session.scalar(select(Case).filter_by(household_id=household_named(head).id)) is None


@then(parsers.parse('{place}的逾期预警中有 "{head}"，逾期 {days:d} 天'))
def overdue_listed(clock, place: str, head: str, days: int) -> None:
    rows = [r for r in overdue_warnings(_place(place), clock.now()) if r.warning.person_name == head]
    assert [r.days_overdue for r in rows] == [days]


@then(parsers.parse('{place}的逾期预警中没有 "{head}"'))
def overdue_not_listed(clock, place: str, head: str) -> None:
    assert head not in [r.warning.person_name for r in overdue_warnings(_place(place), clock.now())]


@then(parsers.parse('{place}的逾期未推送中有 "{department}" {period}，逾期 {days:d} 天'))
def missing_listed(clock, place: str, department: str, period: str, days: int) -> None:
    found = [m for m in missing_pushes(_place(place), clock.now())
             if (m.department.name, m.period) == (department, period)]
    assert [m.days_overdue for m in found] == [days]


@then(parsers.parse('{place}的逾期未推送中没有 "{department}" {period}'))
def missing_not_listed(clock, place: str, department: str, period: str) -> None:
    found = [(m.department.name, m.period) for m in missing_pushes(_place(place), clock.now())]
    assert (department, period) not in found

