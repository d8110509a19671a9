"""Shared step definitions of the procedure features (识别纳入 and deadlines), run against the real engine and
the real diagrams on an SQLite file."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pytest_bdd import given, parsers, then, when
from sqlalchemy import select

from engine.bpmn.spec_cache import SPECS
from engine.cases.deadlines import deadlines_of_case
from engine.cases.lifecycle import (
    case_history,
    close_publicity,
    complete_task,
    open_identification,
    raise_objection,
    wake_due,
)
from engine.cases.views import timeline
from engine.core.db import db
from engine.core.errors import FangpinError, FormInvalid
from engine.core.models import AuditEvent, Case, HumanTask, IncomeRecord, Measure, Notice
from engine.core.vocabulary import IDENTIFICATION_CHANNELS, Channel, HouseholdCategory
from engine.demo import drive_case, official_for
from engine.demo import sample_form_data as default_form
from engine.households.records import figures as income_figures
from engine.households.register import register_household
from tests.bdd.officials import ROLE_WORDS, household_data, household_named
from tests.concurrency import complete_twice_at_once
from tests.conftest import make_app
from timers.calendar import to_local_date

CST = ZoneInfo("Asia/Shanghai")
CHANNELS = {c.label: c.value for c in IDENTIFICATION_CHANNELS} | {"信访、12317": Channel.PETITION.value}
KINDS = {"脱贫户": {"is_formerly_poor": True}, "一般农户": {"is_formerly_poor": False},
         "脱贫享受政策户": {"is_formerly_poor": True, "enjoys_poverty_policy": True},
         "脱贫不享受政策户": {"is_formerly_poor": True, "enjoys_poverty_policy": False}}


@pytest.fixture
def world(app) -> dict[str, Any]:
    state: dict[str, Any] = {"done": [], "cases": {}}
    yield state
    for ctx in reversed(state.get("pushed", [])):
        db.session.remove()
        ctx.pop()


def _case(world) -> Case:
    return db.session.get(Case, world["case_id"])


def _today(clock) -> date:
    return to_local_date(clock.now())


def _ready(case: Case) -> list[HumanTask]:
    return list(db.session.scalars(select(HumanTask).filter_by(case_id=case.id, state="READY").order_by(HumanTask.id)))


def _complete(world, clock, row: HumanTask, overrides: dict | None = None, role_word: str | None = None) -> None:
    data = {**default_form(row.form, _today(clock), row.case), **(overrides or {})}
    user = official(role_word, row.case)
    complete_task(row.id, data, user.username, clock)
    world["done"].append((row.name, row.role))


def official(role_word: str, case: Case):
    return official_for(ROLE_WORDS[role_word], case)


def _run(world, clock, until: str | None = None) -> None:
    """Complete ready tasks with sample data and let time pass to each next timer, until the case ends."""
    world["done"] += drive_case(world["case_id"], clock, until)


def _task(case: Case, step: str) -> HumanTask | None:
    return next((r for r in _ready(case) if r.name == step), None)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace(" ", "T")).replace(tzinfo=CST)


def end_of(day: str) -> datetime:
    """24:00 China Standard Time of ``day`` (a period's end)."""
    return _at(day + " 00:00") + timedelta(days=1)


# -- given ----------------------------------------------------------------------------------------


@given("系统已初始化，部署了各地的识别流程")
def system_ready(app) -> None:
    assert db.session.scalar(select(db.func.count()).select_from(Case)) == 0


@given(parsers.parse("今天是 {day}"))
def today_is(clock, day: str) -> None:
    clock.set(_at(day + " 09:00"))


@given(parsers.parse('{village}登记了一户{kind} "{head}"，家庭 {size:d} 人'))
def registered(clock, village: str, kind: str, head: str, size: int) -> None:
    data = household_data(village, head, size, **KINDS[kind])
    register_household(data, "shahe_cun", clock)


@given(parsers.parse('{village}登记了一户{kind} "{head}"，户籍 {size:d} 人，其中 {away:d} 人不在本户共同生活'))
def registered_with_members_away(clock, village: str, kind: str, head: str, size: int, away: int) -> None:
    register_household(household_data(village, head, size, away, **KINDS[kind]), "shahe_cun", clock)


# -- when -----------------------------------------------------------------------------------------


@when(parsers.parse('村干部以 "{channel}" 渠道为 "{head}" 户立案，发现日期 {lead}'))
def open_case(world, clock, channel: str, head: str, lead: str) -> None:
    household = household_named(head)
    case = open_identification(household.id, CHANNELS[channel], date.fromisoformat(lead), "system", clock)
    world["case_id"] = case.id
    world["cases"][head] = case.id


@when(parsers.parse('村干部补录立案：以 "{channel}" 渠道为 "{head}" 户立案，发现日期 {lead}，补录说明 "{reason}"'))
def open_late_case(world, clock, channel: str, head: str, lead: str, reason: str) -> None:
    case = open_identification(household_named(head).id, CHANNELS[channel], date.fromisoformat(lead), "system", clock,
                               {"backfill_reason": reason})
    world["case_id"] = case.id
    world["cases"][head] = case.id


@when("各级按默认材料办理，直至办结")
def run_to_end(world, clock) -> None:
    _run(world, clock)


@when(parsers.parse('各级按默认材料办理，直至 "{step}" 完成'))
def run_until(world, clock, step: str) -> None:
    _run(world, clock, until=step)


@when(parsers.parse('{role}办理 "{step}"'))
def do_step(world, clock, role: str, step: str) -> None:
    row = _task(_case(world), step)
    assert row is not None, f"no ready task {step}"
    _complete(world, clock, row, role_word=role)


@when(parsers.parse('乡镇干部办理 "入户核实"：家庭纯收入 {income:d} 元，合规自付支出 {oop:d} 元'))
def verify_income(world, clock, income: int, oop: int) -> None:
    _verify(world, clock, income, compliant_out_of_pocket=oop)


@when(parsers.parse('乡镇干部办理 "入户核实"：家庭纯收入 {income:d} 元，勾选不纳入情形 "{criterion}"'))
def verify_excluded(world, clock, income: int, criterion: str) -> None:
    _verify(world, clock, income, exclusions=[criterion])


@then(parsers.parse('乡镇干部办理 "入户核实" 勾选不纳入情形 "{criterion}" 被拒绝，"{field}" 的提示包含 "{text}"'))
def verify_refused(world, clock, criterion: str, field: str, text: str) -> None:
    with pytest.raises(FormInvalid) as refused:
        _verify(world, clock, 10000, exclusions=[criterion])
    db.session.rollback()
    reasons = dict(refused.value.errors)
    assert text in reasons.get(field, ""), reasons
    assert _task(_case(world), "入户核实") is not None  # nothing was saved: the step is still to do


@when(parsers.parse('乡镇干部办理 "入户核实"：家庭人口数 {size:d} 人，家庭纯收入 {income:d} 元'))
def verify_size(world, clock, size: int, income: int) -> None:
    _verify_refusable(world, clock, income, size)


@when(parsers.parse('乡镇干部办理 "入户核实"：家庭人口数 {size:d} 人，家庭纯收入 {income:d} 元，核实情况说明：{notes}'))
def verify_size_explained(world, clock, size: int, income: int, notes: str) -> None:
    _verify_refusable(world, clock, income, size, notes)


def _verify_refusable(world, clock, income: int, size: int, notes: str = "") -> None:
    """入户核实 as ``_verify``, a refusal kept for "操作被拒绝" (nothing saved)."""
    world.pop("refused", None)
    try:
        _verify(world, clock, income, household_size=size, notes=notes)
    except FangpinError as exc:
        db.session.rollback()
        world["refused"] = str(exc)


def _verify(world, clock, income: int, compliant_out_of_pocket: int = 0, exclusions: list | None = None,
            household_size: int | None = None, notes: str = "") -> None:
    """入户核实 with the household's net income ``income`` (the register's 家庭人口数 unless ``household_size``)."""
    case = _case(world)
    row = next(r for r in _ready(case) if r.form == "household_verification.json")  # 龙口: 入户调查核实（5个工作日内）
    base = default_form(row.form, _today(clock), row.case)
    base["income"] = {"household_size": household_size or case.household.size, "wages": income, "business_income": 0,
                      "property_income": 0, "transfer_income": 0, "business_expenses": 0,
                      "compliant_out_of_pocket": compliant_out_of_pocket}
    base["exclusions"] = exclusions or []
    if notes:
        base["notes"] = notes
    _complete(world, clock, row, base, "乡镇干部")


@when(parsers.parse('{role}办理 "{step}"，结论为 "{verdict}"，理由 "{reason}"'))
def decide(world, clock, role: str, step: str, verdict: str, reason: str) -> None:
    row = _task(_case(world), step)
    decision = {"通过": "approve", "不通过": "reject"}[verdict]
    _complete(world, clock, row, {"decision": decision, "reason": reason}, role)


@when(parsers.parse('县级干部办理 "信息比对"：三个月内已比对，此前比对日期 {day}'))
def comparison_reused(world, clock, day: str) -> None:
    _compare_with_earlier(world, clock, True, day)


@when(parsers.parse('县级干部办理 "信息比对"：未勾选已比对，此前比对日期 {day}'))
def comparison_dated_without_reuse(world, clock, day: str) -> None:
    _compare_with_earlier(world, clock, False, day)


def _compare_with_earlier(world, clock, reused: bool, day: str) -> None:
    row = _task(_case(world), "信息比对")
    world.pop("refused", None)
    try:
        _complete(world, clock, row, {"earlier_comparison_reused": reused, "earlier_compared_on": day}, "县级干部")
    except FangpinError as exc:
        world["refused"] = str(exc)


@when(parsers.parse("时间来到 {moment}"))
def time_passes(clock, moment: str) -> None:
    clock.set(_at(moment))
    wake_due(clock.now(), clock)


@when(parsers.parse('村民 "{who}" 提出异议 "{text}"'))
def objection(world, clock, who: str, text: str) -> None:
    raise_objection(world["case_id"], text, who, "shahe_cun", clock)


@when(parsers.parse('乡镇干部核实异议，结论为 "{verdict}"，理由 "{reason}"'))
def verify_objection(world, clock, verdict: str, reason: str) -> None:
    row = _task(_case(world), "核实异议")
    finding = {"异议成立": "upheld", "异议不成立": "dismissed"}[verdict]
    _complete(world, clock, row, {"objection_finding": finding, "reason": reason}, "乡镇干部")


@when("村干部结束公示")
def try_close(world, clock) -> None:
    try:
        close_publicity(world["case_id"], "shahe_cun", clock)
    except FangpinError as exc:
        world["refused"] = str(exc)


@when(parsers.parse('两名乡镇干部同时提交 "{step}"'))
def concurrent(world, app, clock, monkeypatch, step: str) -> None:
    row = _task(_case(world), step)
    data = default_form(row.form, _today(clock), row.case)
    user = official("乡镇干部", row.case).username
    world["results"] = complete_twice_at_once(app, monkeypatch, row.id, data, user, clock)


@when("系统重启")
def restart(world, db_path, clock) -> None:
    case = _case(world)
    world["before"] = _snapshot(case)
    db.session.remove()
    SPECS._cache.clear()
    fresh = make_app(db_path, clock).app_context()
    fresh.push()
    world.setdefault("pushed", []).append(fresh)


def _snapshot(case: Case) -> dict[str, Any]:
    history = case_history(case.id)
    return {
        "events": [(e.action, e.actor, e.detail) for e in history.events],
        "tasks": [(t.name, t.state, t.due_at) for t in history.tasks],
        "waiting": history.waiting_until, "version": case.lock_version, "wakeup": case.next_wakeup_at,
    }


# -- then -----------------------------------------------------------------------------------------


@then(parsers.parse("本案入户核实的收入计算区间为 {start} 至 {end}"))
def income_window_is(world, start: str, end: str) -> None:
    (record,) = db.session.scalars(select(IncomeRecord).filter_by(case_id=_case(world).id))
    db.session.refresh(record)
    assert (record.window_start, record.window_end) == (date.fromisoformat(start), date.fromisoformat(end))


@then(parsers.parse("本案入户核实的家庭人口数为 {size:d} 人，人均纯收入 {per_capita} 元"))
def verified_size_is(world, size: int, per_capita: str) -> None:
    (record,) = db.session.scalars(select(IncomeRecord).filter_by(case_id=_case(world).id))
    recorded = income_figures(record)
    assert (recorded.household_size, recorded.net_income_per_capita) == (size, Decimal(per_capita))


@then(parsers.parse('办理记录中有 "{title}"：{text}'))
def timeline_says(world, title: str, text: str) -> None:
    entries = [(e.title, e.text) for e in timeline(case_history(_case(world).id).events)]
    assert (title, text) in entries, entries


@then(parsers.parse('案件使用流程 "{process}"'))
def uses_process(world, process: str) -> None:
    assert _case(world).process_version.process_key == process


@then(parsers.parse('案件使用流程 "{process}"，村级公示 {days:d} 天'))
def uses_process_days(world, process: str, days: int) -> None:
    uses_process(world, process)
    history = case_history(world["case_id"])
    opened = next(e for e in history.events if e.action == "case_opened")
    assert opened.detail["process"] == process
    from engine.cases.functions import CaseContext, case_workflow

    case = _case(world)
    workflow = case_workflow(case, CaseContext(case, "t", None).script_engine())
    assert workflow.data["policy"]["village_publicity_days"] == days


@then(parsers.parse('"{head}" 户的案件仍使用流程 "{process}"'))
def still_uses(world, head: str, process: str) -> None:
    case = db.session.get(Case, world["cases"][head])
    assert case.process_version.process_key == process


@then("办理的步骤依次为:")
def steps_were(world, datatable) -> None:
    expected = [(step, ROLE_WORDS[who]) for step, who in datatable[1:]]
    assert world["done"] == expected


@then(parsers.parse('经历的公示依次为 "{summary}"'))
def publicities(world, summary: str) -> None:
    fired = db.session.scalars(select(AuditEvent).filter_by(case_id=world["case_id"], action="timers_fired"))
    seen = [f"{t['publicity']['level']} {t['publicity']['days']} 天" for e in fired for t in e.detail["timers"]
            if t.get("publicity")]
    assert "、".join(seen) == summary


@then(parsers.parse('案件办结，结果为 "{outcome}"'))
def case_closed(world, outcome: str) -> None:
    case = _case(world)
    db.session.refresh(case)
    assert (case.status, case.outcome) == ("completed", outcome)
    assert not _ready(case)


@then(parsers.parse('"{head}" 户成为监测对象，类别为 "{category}"'))
def monitored(world, head: str, category: str) -> None:
    household = household_named(head)
    assert household.status == "monitored"
    assert HouseholdCategory(household.category).label == category
    approval = next((t for t in case_history(world["case_id"]).tasks if t.form == "county_approval.json"), None)
    if approval is not None:  # identification date = county approval date (Jiangxi Q45)
        assert household.identified_on.isoformat() == approval.form_data["decided_on"]


@then("案件没有识别总时限")
def no_case_limit(world) -> None:
    case = _case(world)
    assert (case.due_at, case.deadline_label) == (None, None), (case.due_at, case.deadline_label)
    assert [d for d in deadlines_of_case(case.id) if d.subject == "case"] == []


@then(parsers.parse('"{head}" 户登记了 {count:d} 项帮扶措施'))
def measures_recorded(head: str, count: int) -> None:
    household = household_named(head)
    assert db.session.scalar(select(db.func.count()).select_from(Measure).filter_by(household_id=household.id)) == count


@then(parsers.parse('"{head}" 户不是监测对象'))
def not_monitored(head: str) -> None:
    assert household_named(head).status != "monitored"


@then(parsers.parse('农户收到告知 "{title}"'))
def notified(world, title: str) -> None:
    assert title in [n.title for n in db.session.scalars(select(Notice).filter_by(case_id=world["case_id"]))]


@then(parsers.parse('农户收到告知 "{title}"，内容包含 "{text}"'))
def notified_with(world, title: str, text: str) -> None:
    bodies = [n.body for n in db.session.scalars(select(Notice).filter_by(case_id=world["case_id"], title=title))]
    assert any(text in b for b in bodies), bodies


@then(parsers.parse('农户收到告知 "{title}"，内容不含 "{text}"'))
def notified_without(world, title: str, text: str) -> None:
    bodies = [n.body for n in db.session.scalars(select(Notice).filter_by(case_id=world["case_id"], title=title))]
    assert bodies and not any(text in b for b in bodies), bodies


@then(parsers.parse('测算结果为 "{result}"，理由包含 "{text}"'))
def assessed(world, result: str, text: str) -> None:
    case = _case(world)
    from engine.cases.functions import CaseContext, case_workflow

    if case.status == "running":
        workflow = case_workflow(case, CaseContext(case, "t", None).script_engine())
        assessment = workflow.last_task.data["assessment"] if workflow.last_task else None
        assessment = assessment or next(t.data["assessment"] for t in workflow.get_tasks() if "assessment" in t.data)
        assert assessment["category_name"] == result
        assert text in assessment["explanation"], assessment["explanation"]
    else:
        assert result == "不纳入" and case.outcome == "rejected"
        assert text in case.outcome_reason, case.outcome_reason


@then(parsers.parse('再次为 "{head}" 户立案被拒绝，提示包含 "{text}"'))
def duplicate_refused(world, clock, head: str, text: str) -> None:
    before = db.session.scalar(select(db.func.count()).select_from(Case))
    with pytest.raises(FangpinError) as refused:
        open_identification(household_named(head).id, "self_application", _today(clock), "system", clock)
    assert text in str(refused.value)
    assert db.session.scalar(select(db.func.count()).select_from(Case)) == before


@then(parsers.parse('为 "{head}" 户立案、发现日期 {lead} 而不写补录说明被拒绝，提示包含 "{text}"'))
def late_refused(world, clock, head: str, lead: str, text: str) -> None:
    before = db.session.scalar(select(db.func.count()).select_from(Case))
    with pytest.raises(FangpinError) as refused:
        open_identification(household_named(head).id, "cadre_screening", date.fromisoformat(lead), "system", clock)
    assert text in str(refused.value)
    assert db.session.scalar(select(db.func.count()).select_from(Case)) == before


@then(parsers.parse('{role}有待办任务 "{step}"'))
def has_task(world, role: str, step: str) -> None:
    row = _task(_case(world), step)
    assert row is not None and row.role == ROLE_WORDS[role]


@then(parsers.parse('{role}没有待办任务 "{step}"'))
def has_no_task(world, role: str, step: str) -> None:
    assert _task(_case(world), step) is None


@then(parsers.parse('{role}的待办 "{step}" 没有期限'))
def no_due(world, role: str, step: str) -> None:
    row = _task(_case(world), step)
    assert row is not None and row.role == ROLE_WORDS[role] and row.due_at is None, row and row.due_at


@then(parsers.parse('乡镇干部的待办 "{step}" 期限为 {day} 24:00'))
def due_is(world, step: str, day: str) -> None:
    row = _task(_case(world), step)
    assert row.due_at == end_of(day)


@then(parsers.parse("公示于 {day} 张贴，期满时间为 {moment}"))
def publicity_due(world, day: str, moment: str) -> None:
    waiting = case_history(world["case_id"]).waiting_until
    assert [due for _, due in waiting] == [_at(moment)]
    posted = [t for t in case_history(world["case_id"]).tasks if t.form == "post_publicity.json"]
    assert posted[-1].form_data["posted_on"] == day


@then(parsers.parse('操作被拒绝，提示包含 "{text}"'))
def refused(world, text: str) -> None:
    assert text in world.get("refused", ""), world.get("refused")


@then("一人办理成功，另一人收到冲突提示")
def one_wins(world) -> None:
    results = world["results"]
    assert sorted(r.split(":")[0] for r in results) == ["conflict", "ok"], results


@then("案件只前进了一步")
def advanced_once(world) -> None:
    db.session.expire_all()  # the officials worked in other sessions
    case = _case(world)
    tasks = case_history(case.id).tasks
    assert [t.name for t in tasks if t.name == "入户核实" and t.state == "COMPLETED"] == ["入户核实"]
    assert {t.name for t in _ready(case)} == {"民主评议", "信息比对"}  # 001 Q43: the comparison runs beside


@then("案件不再等待公示期满")
def no_publicity_waits(world) -> None:
    case = _case(world)
    db.session.refresh(case)
    assert case.next_wakeup_at is None and case_history(case.id).waiting_until == []


@then("案件的历史、待办和公示期满时间与重启前相同")
def same_after_restart(world) -> None:
    assert _snapshot(_case(world)) == world["before"]
