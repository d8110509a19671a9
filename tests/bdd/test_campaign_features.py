"""features/annual_campaign.feature: the yearly collection and screening campaign on the real engine."""
from __future__ import annotations

from pytest_bdd import given, parsers, scenarios, then, when
from sqlalchemy import select

from engine.campaigns.area_screening import start_area_screening
from engine.campaigns.campaign import open_campaign, progress
from engine.cases.lifecycle import complete_task, open_identification
from engine.core.db import db
from engine.core.errors import FangpinError
from engine.core.models import Case, HumanTask, IncomeRecord, Jurisdiction
from engine.core.transaction import transaction
from engine.core.vocabulary import Channel
from engine.demo import drive_case, sample_form_data
from engine.households.guarantees import record_verified_guarantees
from engine.households.register import register_household
from engine.supervision.overdue import overdue_tasks
from tests.bdd.officials import ROLE_WORDS, VILLAGES, household_data, household_named
from tests.bdd.steps import *
from tests.bdd.steps import _today, end_of

scenarios("annual_campaign.feature")
TOWNSHIPS = {"诸由观镇": "370681104"}
OFFICIALS = {"村干部": "zhuyouguan_cun", "乡镇干部": "zhuyouguan_zhen"}


def _place(code: str) -> Jurisdiction:
    return db.session.scalar(select(Jurisdiction).filter_by(code=code))


def _campaign(world) -> Case:
    db.session.expire_all()
    return db.session.get(Case, world["campaign_id"])


def _ready(world, name: str) -> list[HumanTask]:
    db.session.expire_all()
    prefix = (f"annual_collection:{world.get('campaign_id')}:", "annual_campaign:", "area_visit:", "area_screening:")
    return [t for t in db.session.scalars(select(HumanTask).join(Case, Case.id == HumanTask.case_id).where(
        HumanTask.state == "READY", HumanTask.name == name).order_by(HumanTask.id))
        if t.case.reference and t.case.reference.startswith(prefix)]


@when(parsers.re(r"(?P<township>\S+镇)开启 (?P<year>\d{4}) 年度信息采集和集中排查"))
def opened(world, clock, township: str, year: str) -> None:
    with transaction():
        world["campaign_id"] = open_campaign(_place(TOWNSHIPS[township]), int(year), "zhuyouguan_zhen", clock).id
    (row,) = _ready(world, "开启本乡镇年度信息采集和集中排查")
    complete_task(row.id, {"opened_on": _today(clock).isoformat()}, "zhuyouguan_zhen", clock)


@when(parsers.re(r"(?P<township>\S+镇)再次开启 (?P<year>\d{4}) 年度信息采集和集中排查"))
def opened_again(world, clock, township: str, year: str) -> None:
    try:
        with transaction():
            open_campaign(_place(TOWNSHIPS[township]), int(year), "zhuyouguan_zhen", clock)
    except FangpinError as exc:
        world["refused"] = str(exc)


@then(parsers.parse('每户有一项 "{step}" 任务，期限为 {day} 24:00'))
def one_task_each(world, step: str, day: str) -> None:
    rows = _ready(world, step)
    assert sorted(r.case.household.head.name for r in rows) == ["赵采集", "钱排查"]
    assert {r.due_at for r in rows} == {end_of(day)} and {r.role for r in rows} == {"village_cadre"}


@then(parsers.parse("采集排查进度中 {village} 有 {n:d} 户，待入户 {a:d}，待录入 {b:d}，已完成 {c:d}，逾期 {d:d}"))
def progress_is(world, clock, village: str, n: int, a: int, b: int, c: int, d: int) -> None:
    (line,) = [v for v in progress(_campaign(world), clock.now()).villages if v.village == village]
    assert (line.households, line.to_visit, line.to_enter, line.done, line.overdue) == (n, a, b, c, d)


def _collect(world, clock, head: str, interview: str, screening: str, **signed: bool) -> None:
    world.pop("refused", None)
    (row,) = [r for r in _ready(world, "入户采集和排查") if r.case.household.head.name == head]
    data = {**sample_form_data("annual_collection.json", _today(clock)), "interview": interview,
            "screening": screening, **({"elimination_mode": "assisted"} if screening == "risk_gone" else {}), **signed}
    try:
        complete_task(row.id, {k: v for k, v in data.items() if v is not None}, "zhuyouguan_cun", clock)
    except FangpinError as exc:
        world["refused"] = str(exc)


@when(parsers.parse('村干部以电话访谈采集 "{head}" 户，双签字确认，排查结果 "{screening}"'))
def by_phone(world, clock, head: str, screening: str) -> None:
    _collect(world, clock, head, "phone", screening)


@when(parsers.parse('村干部入户采集 "{head}" 户，双签字确认，排查结果 "{screening}"'))
def at_home(world, clock, head: str, screening: str) -> None:
    _collect(world, clock, head, "home_visit", screening)


@when(parsers.parse('村干部入户采集 "{head}" 户，只有农户签字'))
def one_signature(world, clock, head: str) -> None:
    _collect(world, clock, head, "home_visit", "no_risk", collector_signed=None)


@then(parsers.parse('"{head}" 户有基层干部排查的识别案件'))
def identification_opened(head: str) -> None:
    household = household_named(head)
    case = db.session.scalar(select(Case).filter_by(household_id=household.id, procedure="identification"))
    assert case is not None and case.channel == "cadre_screening" and household.status == "applying"


@then(parsers.parse('"{head}" 户的年度收入统计时段为 {start} 至 {end}，采集方式为 "{interview}"'))
def income_window(head: str, start: str, end: str, interview: str) -> None:
    household = household_named(head)
    record = db.session.scalar(select(IncomeRecord).filter_by(household_id=household.id))
    assert (str(record.window_start), str(record.window_end)) == (start, end)
    row = db.session.scalar(select(HumanTask).join(Case, Case.id == HumanTask.case_id).where(
        Case.household_id == household.id, HumanTask.bpmn_id == "cl_visit"))
    assert row.form_data["interview"] == interview and row.form_data["collector_signed"] is True


@when(parsers.parse('{role}办理全部 "{step}"'))
def do_all(world, clock, role: str, step: str) -> None:
    rows = _ready(world, step)
    assert rows
    for row in rows:
        complete_task(row.id, sample_form_data(row.form, _today(clock), row.case), OFFICIALS[role], clock)


@when(parsers.parse('乡镇干部办理 "汇总上报采集排查结果"'))
def report(world, clock) -> None:
    world.pop("refused", None)
    (row,) = _ready(world, "汇总上报采集排查结果")
    try:
        complete_task(row.id, {"reported_on": _today(clock).isoformat()}, "zhuyouguan_zhen", clock)
    except FangpinError as exc:
        world["refused"] = str(exc)


@then("年度采集排查已上报")
def reported(world) -> None:
    campaign = _campaign(world)
    assert (campaign.status, campaign.outcome) == ("completed", "reported")


@then(parsers.parse('{place}的逾期督办中有 {n:d} 项 "{step}"'))
def overdue_listed(clock, place: str, n: int, step: str) -> None:
    items = overdue_tasks(_place({"龙口市": "370681"}[place]), clock.now())
    assert len([i for i in items if i.step == step]) == n


@when(parsers.parse('龙口市启动区域性返贫风险排查，原因 "{cause}"，排查 {village}'))
def area_started(world, clock, cause: str, village: str) -> None:
    with transaction():
        world["screening_id"] = start_area_screening(_place("370681"), [VILLAGES[village]], cause, "longkou_shi",
                                                     clock).id


@when(parsers.parse('村干部排查 "{head}" 户，结果 "{outcome}"'))
def area_visited(world, clock, head: str, outcome: str) -> None:
    (row,) = [r for r in _ready(world, "灾后入户排查") if r.case.household.head.name == head]
    complete_task(row.id, {**sample_form_data("area_visit.json", _today(clock)), "outcome": outcome},
                  "zhuyouguan_cun", clock)


@then(parsers.parse('县级有待办 "{step}"，期限为 {day} 24:00'))
def county_due(world, step: str, day: str) -> None:
    (row,) = _ready(world, step)
    assert row.role == "county_officer" and row.jurisdiction.code == "370681" and row.due_at == end_of(day)


@given(parsers.re(r'诸由观村有一户已纳入监测的脱贫户 "(?P<head>[^"]+)"(?P<housing>，最近一次核实发现住房不安全)?$'))
def monitored(clock, head: str, housing: str | None) -> None:
    household = register_household(household_data("诸由观村", head, 3, is_formerly_poor=True), "system", clock)
    drive_case(open_identification(household.id, "cadre_screening", _today(clock), "system", clock).id, clock)
    household = household_named(head)
    assert household.status == "monitored"
    if housing:
        with transaction():
            record_verified_guarantees(household, {"housing_unsafe": True}, at=clock.now(), by="zhuyouguan_zhen",
                                       case_id=None)


@then(parsers.parse('"{head}" 户没有风险消除案件，仍有 "{step}" 待办'))
def no_elimination(world, head: str, step: str) -> None:
    household = household_named(head)
    assert db.session.scalar(select(Case).filter_by(household_id=household.id, procedure="elimination")) is None
    assert [r for r in _ready(world, step) if r.case.household_id == household.id]


@then(parsers.parse('"{head}" 户有办理中的风险消除案件，渠道为 "{channel}"，{who}待办 "{step}"'))
def elimination_opened(head: str, channel: str, who: str, step: str) -> None:
    db.session.expire_all()
    household = household_named(head)
    (case,) = db.session.scalars(select(Case).filter_by(household_id=household.id, procedure="elimination")).all()
    assert case.status == "running" and Channel.label_of(case.channel) == channel
    (task,) = db.session.scalars(select(HumanTask).filter_by(case_id=case.id, state="READY")).all()
    assert (task.name, task.role) == (step, ROLE_WORDS[who])


@then(parsers.parse("采集排查进度中 {village} 排查启动识别 {identified:d} 户，启动风险消除 {gone:d} 户"))
def screening_counts(world, clock, village: str, identified: int, gone: int) -> None:
    (line,) = [v for v in progress(_campaign(world), clock.now()).villages if v.village == village]
    assert (line.identified, line.risk_gone) == (identified, gone)


@then(parsers.parse('"{head}" 户的入户采集排查结果为 "{outcome}"，仍待乡镇录入'))
def collection_outcome(world, head: str, outcome: str) -> None:
    household = household_named(head)
    (row,) = [r for r in _ready(world, "录入全国防返贫监测信息系统") if r.case.household_id == household.id]
    assert row.case.outcome == outcome and row.case.outcome_reason.startswith("集中排查")
