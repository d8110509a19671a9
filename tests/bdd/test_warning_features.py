"""features/warnings.feature: department warnings (行业预警) against the real engine, diagrams and calendar."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime

from pytest_bdd import given, parsers, scenarios, then, when
from sqlalchemy import select

from engine.cases.lifecycle import complete_task
from engine.cases.tasks import TaskFilter, inbox
from engine.core.config import project_dir
from engine.core.db import db
from engine.core.errors import FangpinError, FormInvalid
from engine.core.models import (
    AuditEvent,
    Case,
    CaseDeadline,
    DepartmentWarning,
    HumanTask,
    Jurisdiction,
    User,
    WarningBatch,
)
from engine.core.transaction import transaction
from engine.demo import drive_case
from engine.policy.parameters import load_policy_file
from engine.supervision.overdue import overdue_cases, overdue_tasks
from engine.warnings.intake import import_batch
from engine.warnings.ledger import ledger_row, missing_pushes, overdue_warnings
from engine.warnings.rows import read_csv
from engine.warnings.schedules import open_schedules
from tests.bdd.officials import household_named
from tests.bdd.steps import *
from tests.bdd.steps import end_of
from tests.factories import password_hash
from timers.calendar import CHINA_TZ as CST

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


@given("已加载行业预警标准，各地行业部门已开通账号，各部门本期推送任务已开启")
def warning_policy(clock) -> None:
    with transaction():
        load_policy_file(project_dir("policy") / "warning_thresholds.json")
        for code in ("360702", "3607", "370681"):
            place = db.session.scalar(select(Jurisdiction).filter_by(code=code))
            db.session.add(User(username=_department_user(code), display_name=f"{place.name}行业部门",
                                roles=["department_officer"], jurisdiction=place,
                                password_hash=password_hash()))
        db.session.add(User(username="dept_medical_360702", display_name="章贡区医保局", roles=["department_officer"],
                            jurisdiction=db.session.scalar(select(Jurisdiction).filter_by(code="360702")),
                            password_hash=password_hash(), department="medical"))
        open_schedules(clock)


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


COUNTY_OFFICERS = {"360702": "zhanggong_xian", "370681": "longkou_shi"}


def _ready(step: str) -> list[HumanTask]:
    db.session.expire_all()
    return list(db.session.scalars(select(HumanTask).filter_by(bpmn_id=step, state="READY").order_by(HumanTask.id)))


def _complete(row: HumanTask, actor: str, clock, **data) -> None:
    complete_task(row.id, {**data}, actor, clock)


@when("县级干部比对交办全部预警")
def county_dispatches(clock) -> None:
    rows = _ready("wb_compare")
    assert rows, "no comparison task is ready"
    for row in rows:
        county = row.jurisdiction.code
        _complete(row, COUNTY_OFFICERS[county], clock, compared_on=clock.now().astimezone(CST).date().isoformat())


@when("市级干部分解推送全部预警")
def city_pushes(clock) -> None:
    rows = _ready("wb_split")
    assert rows, "no split task is ready"
    for row in rows:
        _complete(row, "ganzhou_shi", clock, pushed_on=clock.now().astimezone(CST).date().isoformat())


@when(parsers.parse('乡镇干部核查 "{head}" 的预警：符合监测条件'))
def verified_meets(world, clock, head: str) -> None:
    _verify(world, clock, head, "meets", "入户核查属实，符合监测条件")


@when(parsers.parse('乡镇干部核查 "{head}" 的预警：不符合纳入条件，理由 "{reason}"'))
def verified_not(world, clock, head: str, reason: str) -> None:
    _verify(world, clock, head, "not_meets", reason)


@when(parsers.parse('乡镇干部核查 "{head}" 的预警：不符合纳入条件，未写理由'))
def verified_without_reason(world, clock, head: str) -> None:
    _verify(world, clock, head, "not_meets", "")


def _verify(world, clock, head: str, outcome: str, reason: str) -> None:
    world.pop("refused", None)
    row = db.session.scalar(select(HumanTask).filter_by(case_id=_warning_of(head).step_case_id, state="READY"))
    data = {"verified_on": clock.now().astimezone(CST).date().isoformat(), "outcome": outcome}
    try:
        _complete(row, "shahe_zhen", clock, **(data | ({"reason": reason} if reason else {})))
    except FangpinError as exc:
        world["refused"] = str(exc)


@when(parsers.parse('"{head}" 户的识别由各级按默认材料办理，直至 "{step}" 完成'))
def identification_until(world, clock, head: str, step: str) -> None:
    """The identification the warning opened becomes the scenario's case (the shared steps act on it)."""
    world["case_id"] = _warning_of(head).case_id
    world["done"] += drive_case(world["case_id"], clock, step)


@when(parsers.parse('{place}医保部门确认本期 {period} 无预警信息'))
def nothing_to_push(clock, place: str, period: str) -> None:
    case = db.session.scalar(select(Case).filter_by(reference=f"warning_push:{PLACES[place]}:medical:{period}"))
    row = db.session.scalar(select(HumanTask).filter_by(case_id=case.id, state="READY"))
    _complete(row, _department_user(PLACES[place]), clock, no_warnings=True)


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
def warning_status_due(world, clock, head: str, status: str, day: str) -> None:
    warning = _warning_of(head)
    row = ledger_row(warning, clock.now())
    assert (warning.status, row.open_due) == (status, end_of(day))
    world["task_id"] = row.step_task_id


@then(parsers.parse('预警期限的说明包含 "{text}"'))
def due_explained(world, text: str) -> None:
    deadline = db.session.scalar(select(CaseDeadline).filter_by(task_id=world["task_id"]))
    assert text in deadline.explanation, deadline.explanation
    assert deadline.data_version.startswith("chinesecalendar")


@then(parsers.parse('"{head}" 的预警在 {place} 乡镇干部的待办中，为 "{step}"，不在 {other} 的待办中'))
def in_inbox(head: str, place: str, step: str, other: str) -> None:
    warning = _warning_of(head)
    mine = inbox(TaskFilter(("township_officer",), _place(place)))
    assert [(t.case_id, t.step) for t in mine if t.case_id == warning.step_case_id] == [(warning.step_case_id, step)]
    assert warning.step_case_id not in [t.case_id for t in inbox(TaskFilter(("township_officer",), _place(other)))]


def _by_code(code: str) -> Jurisdiction:
    return db.session.scalar(select(Jurisdiction).filter_by(code=code))


@then(parsers.parse('{place}的逾期督办中有 "{step}"，事项为 "{subject}"'))
def supervisor_overdue(clock, place: str, step: str, subject: str) -> None:
    items = overdue_tasks(_place(place), clock.now())
    assert (step, subject) in [(i.step, i.household) for i in items], [(i.step, i.household) for i in items]


def _verification_of(head: str) -> Case:
    """The warning's own case (入户核查), which holds its limit from the dispatch."""
    return db.session.scalar(select(Case).filter_by(reference=f"warning_verification:{_warning_of(head).id}"))


@then(parsers.parse('"{head}" 的预警时限 "{label}" 至 {day} 24:00，尚未届止'))
def warning_limit_running(head: str, label: str, day: str) -> None:
    case = _verification_of(head)
    assert (case.deadline_label, case.due_at, case.deadline_met_at, case.status) == (label, end_of(day), None,
                                                                                    "running")


@then(parsers.parse('"{head}" 的预警时限于 {moment} 届止'))
def warning_limit_met(head: str, moment: str) -> None:
    case = _verification_of(head)
    assert (case.deadline_met_at, case.status) == (datetime.fromisoformat(moment.replace(" ", "T")).replace(tzinfo=CST),
                                                   "completed")


def _overdue_limits(clock, place: str, head: str, label: str) -> list[int]:
    """Days overdue of the cases about ``head`` past their limit ``label`` in the supervisor's list (督办)."""
    return [i.days_overdue for i in overdue_cases(_place(place), clock.now(), label=label) if head in i.household]


@then(parsers.parse('{place}的逾期督办中有 "{head}" 的时限 "{label}"，逾期 {days:d} 天'))
def limit_overdue(clock, place: str, head: str, label: str, days: int) -> None:
    assert _overdue_limits(clock, place, head, label) == [days]


@then(parsers.parse('{place}的逾期督办中没有 "{head}" 的时限 "{label}"'))
def limit_not_overdue(clock, place: str, head: str, label: str) -> None:
    assert _overdue_limits(clock, place, head, label) == []


@then(parsers.parse('{place}医保部门的待办中有 "{step}"，其他部门的待办中没有'))
def department_inbox(place: str, step: str) -> None:
    officer = db.session.scalar(select(User).filter_by(username="dept_medical_360702"))
    mine = inbox(TaskFilter(("department_officer",), officer.jurisdiction, department="medical"))
    assert step in [t.step for t in mine]
    assert {t.household.split(" ")[0] for t in mine} == {"医保部门"}


@then(parsers.parse('{place}医保部门 {period} 的推送任务已完成'))
def push_done(place: str, period: str) -> None:
    db.session.expire_all()
    case = db.session.scalar(select(Case).filter_by(reference=f"warning_push:{PLACES[place]}:medical:{period}"))
    assert case.status == "completed"
    following = db.session.scalar(select(Case).where(Case.reference.like(f"warning_push:{PLACES[place]}:medical:%"),
                                                     Case.status == "running"))
    assert following is not None and following.reference != case.reference


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
    assert db.session.scalar(select(Case).filter_by(household_id=household_named(head).id,
                                                    procedure="identification")) is None


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
             if (m.department_name, m.period) == (department, period)]
    assert [m.days_overdue for m in found] == [days]


@then(parsers.parse('{place}的逾期未推送中没有 "{department}" {period}'))
def missing_not_listed(clock, place: str, department: str, period: str) -> None:
    found = [(m.department_name, m.period) for m in missing_pushes(_place(place), clock.now())]
    assert (department, period) not in found

