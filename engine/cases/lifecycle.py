"""Cases (案件): opening a procedure for a household, completing its human tasks, waking its timers,
publicity actions and the case history. Every function is one transaction: it commits everything
or, on any error, nothing."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, inspect, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import joinedload, selectinload

from engine.bpmn.forms import load_form, validate_form
from engine.bpmn.runtime import dump_state, timer_label, waiting_timers
from engine.bpmn.validation import PUBLIC_STAGE_PROPERTY
from engine.cases.deadlines import mark_fired, new_deadline
from engine.cases.duties import check_separation_of_duties
from engine.cases.event_dates import check_event_dates
from engine.cases.form_rules import check_form_rules
from engine.cases.functions import CaseContext, case_workflow, plain_json
from engine.cases.live import keep_after_commit
from engine.cases.runs import START_POLICY, CaseRun, run_case, start_run
from engine.cases.tasks import TaskToDo, claimed_by_other, step_marks, sync_tasks, task_to_do, tasks_of_case
from engine.core import audit
from engine.core.clock import Clock, using_clock
from engine.core.db import db, fetch
from engine.core.errors import ConflictError, FormInvalid, NotFound, PermissionDenied, RuleViolation
from engine.core.models import AuditEvent, Case, HumanTask, Notice, User
from engine.core.transaction import transaction
from engine.core.vocabulary import IDENTIFICATION_CHANNELS, Channel, CorrectionKind, HouseholdStatus
from engine.core.writes import deferred, insert_rows, update_row
from engine.elimination.eligibility import assess
from engine.households.poverty_policy import check_can_start
from engine.households.register import get_household, lock_household
from engine.policy.check import StartPolicy, start_policy
from engine.policy.parameters import resolve
from engine.policy.roles import all_roles
from timers.calendar import to_local_date

log = logging.getLogger(__name__)

PROCEDURE_PREFIX = {"identification": "SB", "followup": "HF", "elimination": "XC", "green_channel": "LS",
                    "member_change": "BG", "correction": "QT", "warning_push": "YT", "warning_batch": "YJ",
                    "warning_verification": "YH", "warning_report": "YB",
                    "poverty_policy": "FL", "annual_campaign": "ND", "annual_collection": "CJ",
                    "area_screening": "QY", "area_visit": "PC"}
END_MESSAGE = "end_followup"
DECIDED_MESSAGE = "case_decided"  # to the case that opened this one and waits for its decision (AWAITED_BY)
AWAITED_BY = "awaited_by"  # start data of a case whose decision the case that opened it waits for
PUBLICITY_PROCESS = "publicity_period"
OBJECTION_MESSAGE = "objection"
WAKE_BATCH = 50  # cases woken per transaction when many are due at once
OBJECTION_TEXT_LIMIT, OBJECTION_BY_LIMIT = 2000, 100  # characters (an objection is kept in the case and the audit)
LATE_LEAD_KEY = "identification.late_lead_days"  # a lead found longer ago than this is opened only with a reason
BACKFILL_REASON = "backfill_reason"  # the application's 补录说明: why a lead found long ago is opened only now
BACKFILL_REASON_LIMIT = 500  # characters


def _save(run: CaseRun) -> None:
    """Write the run's instance into its case — state, next wake-up, new deadlines, the task projection and their
    audit entries — each kind of row in one statement (:mod:`engine.core.writes`), the case row last and once, and
    keep the instance live."""
    ctx, workflow, case, now = run.ctx, run.workflow, run.case, run.ctx.now()
    for row, done in run.done:  # the first write: another official completing it at once waits here, then conflicts
        if not update_row(row, done, only_if={"state": "READY"}):
            raise ConflictError(f"任务“{row.name}”已由他人同时办理，请刷新后查看")
    timers, run.timers = (run.timers if run.timers is not None else waiting_timers(workflow)), None
    values: dict[str, Any] = {"state": dump_state(workflow),
                              "next_wakeup_at": min((due for _, due in timers), default=None)}
    closing = workflow.is_completed() and case.status == "running"
    if closing:
        values |= {"status": "completed", "closed_at": now}
        audit.record(now, ctx.actor, "case_closed", case_id=case.id, outcome=case.outcome)
    decided, ctx.limit_met = ctx.limit_met or (closing and case.deadline_met_at is None), False
    deadlines = _timer_deadlines(run, timers)
    for start in ctx.started.copy():
        ctx.started.remove(start)
        if start["procedure"] == "identification":
            case.household.status = HouseholdStatus.APPLYING
        start_case(case.household, start["procedure"], start["channel"], start["lead_date"] or to_local_date(now),
                   ctx.actor, ctx.clock, start["application"])
    for procedure in ctx.ended.copy():
        ctx.ended.remove(procedure)
        _end_running(case, procedure, ctx)
    if decided:
        _report_decision(case, workflow.data.get(AWAITED_BY), ctx)
    while ctx.after_save:  # what the diagram's functions do to other records once this run is saved
        ctx.after_save.pop(0)()
    created, task_deadlines = sync_tasks(run, now)
    for row in created:
        audit.record(now, ctx.actor, "task_ready", case_id=case.id, task=row, step=row.name, role=row.role,
                     due_at=row.due_at)
    rows, ctx.deadline_rows = ctx.deadline_rows + deadlines + task_deadlines, []
    insert_rows(rows)
    _write_household(case)
    update_row(case, values)
    keep_after_commit(case, workflow)


def _write_household(case: Case) -> None:
    """The columns of the case's household that the run changed (its status, risk types, category …), in one UPDATE
    of their own rather than by the unit of work at commit. A household not loaded was not changed."""
    household = inspect(case).dict.get("household")
    if household is not None and db.session.is_modified(household, include_collections=False):
        update_row(household, {})


def _end_running(by: Case, procedure: str, ctx: CaseContext) -> None:
    """Send the end message to the household's running ``procedure`` (in this transaction)."""
    for other in db.session.scalars(select(Case).filter_by(household_id=by.household_id, procedure=procedure,
                                                           status="running")):
        _send(other, END_MESSAGE, by, ctx, "case_ended")


def _report_decision(by: Case, awaited: Any, ctx: CaseContext) -> None:
    """``by`` is decided — its overall limit met (an identification: the county's decision, 县级审定), or ended
    without it (refused before the county, withdrawn): the case that opened it and waits for that, named in its
    start data (AWAITED_BY), is sent DECIDED_MESSAGE (in this transaction). E.g. a department warning's limit runs
    from the dispatch to the county's decision (000 六（二）3)."""
    if not isinstance(awaited, dict):
        return
    other = db.session.get(Case, awaited.get("id"))
    if other is not None and other.status == "running":
        _send(other, DECIDED_MESSAGE, by, ctx, "opened_case_decided", outcome=by.outcome)


def _send(other: Case, message: str, by: Case, ctx: CaseContext, action: str, **detail: Any) -> None:
    """Run ``other`` on with ``message`` from ``by`` (its payload: ``by``'s number and ``detail``), if it waits for
    it, and save it; audited as ``action``."""
    run = run_case(other, ctx.actor, ctx.clock)
    definition = _waiting_message(run.workflow, message)
    if definition is None:
        log.warning("case %s is not waiting for %s", other.number, message)
        return
    with using_clock(ctx.clock):  # a timer the message races (the next month's visit) is due by this clock only
        run.workflow.catch(BpmnEvent(definition, {"by": by.number, **detail}))
    run.advance(ctx.clock)
    audit.record(ctx.now(), ctx.actor, action, case_id=other.id, by=by.number, **detail)
    _save(run)


def _timer_deadlines(run: CaseRun, timers: list) -> list:
    """A deadline (not yet written) for each timer this run started waiting for (the others have theirs)."""
    rows = []
    for task, due in timers:
        if str(task.id) not in run.timers_before:
            publicity = task.data.get("publicity") if task.workflow.spec.name == PUBLICITY_PROCESS else None
            label = timer_label(task)
            if publicity:
                label = f"{publicity.get('level', '')}公示{publicity.get('days', '')}天（{publicity.get('posted_on', '')}张贴）"
            rows.append(new_deadline(run.case.id, "timer", label, due, run.ctx.deadlines, run.ctx.now(),
                                     timer_uuid=str(task.id)))
    return rows


# -- opening a case -------------------------------------------------------------------------------


def open_identification(
    household_id: int, channel: str, lead_date: date, actor: str, clock: Clock,
    application: dict[str, Any] | None = None,
) -> Case:
    """Open an identification case (识别纳入) from one of the four channels, as an official does (立案).

    Refused when the household is already monitored or has an unfinished identification, and when the lead was
    found longer ago than policy allows without a reason (补录说明, :func:`late_lead_days`).
    """

    with transaction():
        household = get_household(household_id)
        _check_channel(channel, lead_date, clock)  # a wrong channel or a date after today first
        application = _with_backfill_reason(household, lead_date, application, clock)
        case = begin_identification(household, channel, lead_date, actor, clock, application)
    return case


def late_lead_days(place, on: date) -> int:
    """How many days before the day it is opened a lead may have been found without a reason
    (``identification.late_lead_days``, policy data of ``place`` on ``on``): an official opening a case for one found
    earlier records it late (补录) and must say why (``backfill_reason``, 补录说明)."""
    return int(resolve(LATE_LEAD_KEY, place, on))


def _with_backfill_reason(household, lead_date: date, application: dict[str, Any] | None,
                          clock: Clock) -> dict[str, Any] | None:
    """The application to open with: refused for a lead found more than :func:`late_lead_days` ago at the household's
    village unless it says why (``backfill_reason``), which is then kept with it — in the case's start data and the
    audit of its opening."""
    today = to_local_date(clock.now())
    late, allowed = (today - lead_date).days, late_lead_days(household.village, today)
    if late <= allowed:
        return application
    reason = (application or {}).get(BACKFILL_REASON)
    reason = reason.strip()[:BACKFILL_REASON_LIMIT] if isinstance(reason, str) else ""
    if not reason:
        raise RuleViolation(f"{BACKFILL_REASON}: 发现日期 {lead_date} 早于今天 {late} 天，超过本地政策规定的 {allowed} 天："
                            "请在“补录说明”中写明为何现在才立案，或改正发现日期")
    return {**(application or {}), BACKFILL_REASON: reason}


def begin_identification(household, channel: str, lead_date: date, actor: str, clock: Clock,
                         application: dict[str, Any] | None = None, awaited_by: Case | None = None) -> Case:
    """Open an identification inside the caller's transaction (the checks of open_identification but the lead's age:
    a department warning or a campaign's screening opens it with the date of its own step); ``awaited_by``:
    the case opening it, which waits for its decision (:func:`_report_decision`)."""
    _check_channel(channel, lead_date, clock)
    _check_not_duplicate(lock_household(household))
    household.status = HouseholdStatus.APPLYING
    awaited = {AWAITED_BY: {"id": awaited_by.id, "number": awaited_by.number}} if awaited_by is not None else None
    return start_case(household, "identification", channel, lead_date, actor, clock, application, awaited)


def start_case(household, procedure: str, channel: str, lead_date: date, actor: str, clock: Clock,
               application: dict[str, Any] | None = None, data: dict[str, Any] | None = None) -> Case:
    """Start ``procedure`` for a household with the diagram and policy in force for its village today
    (inside the caller's transaction); ``data`` is added to the start data."""
    return open_case(procedure, household.village, actor, clock, household=household, channel=channel,
                     lead_date=lead_date, application=application, data=data)


def open_case(procedure: str, place, actor: str, clock: Clock, *, household=None, channel: str = "monitoring",
              lead_date: date | None = None, application: dict[str, Any] | None = None, subject: str | None = None,
              reference: str | None = None, department: str | None = None,
              data: dict[str, Any] | None = None, needs: StartPolicy | None = None) -> Case:
    """Start ``procedure`` at ``place`` (a household's village, or — for a case about no one household, such as a
    department warning batch — a city or county named by ``subject``) with the diagram and policy in force there
    today, inside the caller's transaction. ``data`` is added to the instance's start data. ``needs``: what
    :func:`engine.policy.check.start_policy` gave for this procedure, place and day, when the caller opens many."""
    today = to_local_date(clock.now())
    needs = needs or start_policy(procedure, place, today)  # binding, version, parameters; refused naming all missing
    binding, version = needs.binding, needs.version  # the pinned version ("<key>@<n>"), or the newest deployed one
    case = Case(
        procedure=procedure, process_version=version, household=household, jurisdiction=place,
        jurisdiction_path=place.path, channel=channel, lead_date=lead_date or today, opened_at=clock.now(),
        opened_by=actor, status="running", state=b"", subject=subject, reference=reference, department=department,
        lock_version=1,
    )
    insert_rows([case], now=True)  # the case number is made from its id; nothing else of the session is flushed
    case.number = f"{PROCEDURE_PREFIX.get(procedure, 'AJ')}-{today.year}-{case.id:06d}"
    run = start_run(case, version, actor, clock, {**_start_data(case, needs.values, application), **(data or {})})
    audit.record(clock.now(), actor, "case_opened", case_id=case.id, household_id=case.household_id,
                 procedure=procedure, channel=channel, lead_date=case.lead_date, process=version.process_key,
                 version=version.version, binding=binding, application=application or {}, subject=subject)
    run.advance(clock)
    _save(run)
    return case


def _check_channel(channel: str, lead_date: date, clock: Clock) -> None:
    if channel not in IDENTIFICATION_CHANNELS:
        choices = ", ".join(f"{c.value}（{c.label}）" for c in IDENTIFICATION_CHANNELS)
        raise RuleViolation(f"channel: 发现渠道 {channel} 无效，应为：{choices}")
    if lead_date > to_local_date(clock.now()):
        raise RuleViolation(f"lead_date: 发现日期 {lead_date} 晚于今天")


def _check_not_duplicate(household) -> None:
    """One identification at a time: refused for a monitored household, one with an identification running, and
    one in the green channel (绿色通道), whose verification itself goes on to the identification."""
    if household.status == HouseholdStatus.MONITORED:
        raise RuleViolation(f"户 {household.number} 已是监测对象（{household.identified_on} 纳入），不能重复申请")
    running = db.session.scalars(select(Case).filter(
        Case.household_id == household.id, Case.status == "running",
        Case.procedure.in_(("identification", "green_channel")))).first()
    if running is not None and running.procedure == "green_channel":
        raise RuleViolation(f"户 {household.number} 正在绿色通道中（{running.number}），核实后由绿色通道转入识别，不必另行申请")
    if running is not None:
        raise RuleViolation(f"户 {household.number} 已有未办结的识别申请（{running.number}），不能重复申请")


def _start_data(case: Case, policy: dict[str, Any], application: dict | None) -> dict[str, Any]:
    household = case.household
    head = household.head if household else None
    return plain_json({
        "case": {"id": case.id, "number": case.number, "channel": case.channel,
                 "channel_name": Channel(case.channel).label, "lead_date": case.lead_date.isoformat()},
        "household": {"number": household.number, "head": head.name if head else "", "size": household.size,
                      "is_formerly_poor": household.is_formerly_poor,
                      "enjoys_poverty_policy": household.enjoys_poverty_policy, "category": household.category,
                      "village": household.village.full_name} if household else {},
        "place": {"code": case.jurisdiction.code, "name": case.jurisdiction.full_name,
                  "level": case.jurisdiction.level},
        START_POLICY: policy,
        "mode": (application or {}).get("mode", "assisted"),
        "kind": (application or {}).get("kind"),
        "lead_date": case.lead_date.isoformat(),
        "application": application or {},
    })


def open_elimination(household_id: int, mode: str, actor: str, clock: Clock) -> Case:
    """Start risk elimination (风险消除) for a monitored household that meets the conditions; refused with
    the explanation of every condition otherwise."""

    with transaction():
        household = lock_household(get_household(household_id))
        if household.status != HouseholdStatus.MONITORED:
            raise RuleViolation(f"户 {household.number} 不是监测对象，不能进行风险消除")
        check_no_running_elimination(household)
        result = assess(household, to_local_date(clock.now()), mode)
        if not result.eligible:
            raise RuleViolation(f"户 {household.number} 暂不符合风险消除条件：{result.explanation}")
        case = start_case(household, "elimination", "township_evaluation", to_local_date(clock.now()), actor, clock,
                          {"mode": mode, "eligibility": result.explanation})
    return case


def check_no_running_elimination(household) -> None:
    """A household has one risk elimination (风险消除) at a time: refused while one runs."""
    running = db.session.scalar(select(Case).filter_by(household_id=household.id, procedure="elimination",
                                                       status="running"))
    if running is not None:
        raise RuleViolation(f"户 {household.number} 已有办理中的风险消除（{running.number}）")


def open_green_channel(household_id: int, actor: str, clock: Clock, application: dict[str, Any] | None = None) -> Case:
    """A sudden hardship (突发严重困难) that needs help at once: start the green channel (绿色通道)."""

    with transaction():
        household = lock_household(get_household(household_id))
        running = db.session.scalar(select(Case).filter_by(household_id=household.id, procedure="green_channel",
                                                           status="running"))
        if household.status in (HouseholdStatus.MONITORED, HouseholdStatus.GREEN_CHANNEL) or running is not None:
            raise RuleViolation(f"户 {household.number} 已是监测对象或已在绿色通道中")
        _check_not_duplicate(household)
        return start_case(household, "green_channel", "green_channel", to_local_date(clock.now()), actor, clock,
                          application)


def open_member_change(household_id: int, changed_on: date, actor: str, clock: Clock) -> Case:
    """A member was born, married in or out, or died on ``changed_on``: the village records it with proof
    within the policy's limit (3 months)."""

    with transaction():
        _not_in_future(changed_on, clock)
        return start_case(get_household(household_id), "member_change", "member_change", changed_on, actor, clock)


def open_poverty_policy(household_id: int, actor: str, clock: Clock) -> Case:
    """Classify a 脱贫享受政策 household (脱贫人口分类管理, 004 一(三)): does it still enjoy the policies? Refused for any
    other household, or while one classification of it runs."""
    with transaction():
        household = lock_household(get_household(household_id))
        check_can_start(household)
        running = db.session.scalar(select(Case).filter_by(household_id=household.id, procedure="poverty_policy",
                                                           status="running"))
        if running is not None:
            raise RuleViolation(f"户 {household.number} 已有办理中的脱贫人口分类认定（{running.number}）")
        return start_case(household, "poverty_policy", "annual_classification", to_local_date(clock.now()), actor,
                          clock)


def open_correction(household_id: int, kind: str, actor: str, clock: Clock) -> Case:
    """A county asks for a rollback of an elimination (风险消除回退) or the removal of a household wrongly
    included (清退); the request goes up to the province, which files it with the national office."""

    with transaction():
        household = lock_household(get_household(household_id))
        needed = {CorrectionKind.ROLLBACK: HouseholdStatus.ELIMINATED, CorrectionKind.REMOVAL: HouseholdStatus.MONITORED}
        if kind not in needed:
            choices = "或".join(f"{code}（{label}）" for code, label in CorrectionKind.labels().items())
            raise RuleViolation(f"kind: 应为 {choices}，不是 {kind}")
        if household.status != needed[CorrectionKind(kind)]:
            what = "已标注风险消除的户才能申请回退" if kind == CorrectionKind.ROLLBACK else "监测对象才能申请清退"
            raise RuleViolation(f"户 {household.number}：{what}")
        return start_case(household, "correction", "correction", to_local_date(clock.now()), actor, clock,
                          {"kind": kind})


def _not_in_future(day: date, clock: Clock) -> None:
    if day > to_local_date(clock.now()):
        raise RuleViolation(f"changed_on: 变更日期 {day} 晚于今天")


# -- completing a task ----------------------------------------------------------------------------


def complete_task(task_id: int, data: dict[str, Any], actor: str, clock: Clock,
                  seen_version: int | None = None, backdating_reason: str | None = None) -> Case:
    """Complete a ready human task with form data (validated against its form first; its dates of what happened
    neither in the future nor before the step the task follows, :mod:`engine.cases.event_dates` — unless
    backdated within the policy's tolerance with ``backdating_reason``).

    ``seen_version`` is the case version the official saw when opening the form; if the case changed
    since, the completion is refused as a conflict.
    """
    with transaction(), db.session.no_autoflush:
        todo = task_to_do(task_id, actor)
        row, user, today = todo.row, todo.user, to_local_date(clock.now())
        if user is None:
            raise NotFound(f"用户 {actor} 不存在")
        authorize(user, row)
        check_separation_of_duties(user, row.case, row, today)
        if row.claimed_by and row.claimed_by != actor:
            raise ConflictError(f"{claimed_by_other(row)}，请联系其释放后再办理")
        case = row.case
        backdated = _check_form(todo, data, today, backdating_reason) if row.form else []
        if seen_version is not None and seen_version != case.lock_version:
            raise ConflictError(f"案件 {case.number} 已被他人更新，请刷新后重新办理")
        run, task = _ready_task(row, actor, clock)
        if row.form:  # the form's own rules, which may read what the steps before concluded (the task's data)
            check_form_rules(row.form, data, case, task.data)
        _run_task(run, task, row, data, actor, clock)
        for entry in backdated:
            audit.record(clock.now(), actor, "date_backdated", case_id=case.id, task=row, step=row.name,
                         field=entry.field, date=entry.value, earliest=entry.earliest, reason=entry.reason)
        run.advance(clock)
        _save(run)
    return case


def _check_form(todo: TaskToDo, data: Any, today: date, backdating_reason: str | None) -> list:
    """The form's checks, every wrong field named at once (FormInvalid): its schema, and its dates of what happened
    (those the schema found well-formed) — its own rules follow, on the workflow (:func:`complete_task`). Returns
    the dates backdated with a reason."""
    row, case = todo.row, todo.row.case
    problems: list[tuple[str, str]] = []
    try:
        validate_form(row.form, data)
    except FormInvalid as exc:
        problems = list(exc.errors)
    wrong = {field.split("/")[0] for field, _ in problems}
    dated = {k: v for k, v in data.items() if k not in wrong} if isinstance(data, dict) else {}
    try:
        backdated = check_event_dates(load_form(row.form), row.form, dated, row, case, today, todo.follows_a_step,
                                      backdating_reason)
    except FormInvalid as exc:
        problems += exc.errors
    if problems:
        raise FormInvalid(row.form, sorted(problems, key=lambda p: p[0]), row.name)
    return backdated


def _ready_task(row: HumanTask, actor: str, clock: Clock) -> tuple[CaseRun, Task]:
    """The case taken up to run, with the workflow's task of ``row`` (ConflictError if it is no longer ready)."""
    run = run_case(row.case, actor, clock)
    task = run.workflow.get_task_from_id(UUID(row.task_uuid))
    if task is None or task.state != TaskState.READY:
        raise ConflictError(f"任务“{row.name}”已不可办理")
    return run, task


def _run_task(run: CaseRun, task: Task, row: HumanTask, data: dict[str, Any], actor: str, clock: Clock) -> None:
    task.set_data(**plain_json(data))
    with using_clock(clock):  # completing it updates the steps after it: a timer among them is due by this clock
        task.run()
    run.done.append((row, {"state": "COMPLETED", "completed_by": actor, "completed_at": clock.now(),
                           "form_data": data}))
    run.settled.add(row.task_uuid)
    audit.record(clock.now(), actor, "task_completed", case_id=row.case_id, task=row, step=row.name, data=data)


def complete_by_record(row: HumanTask, data: dict[str, Any], actor: str, clock: Clock) -> None:
    """Complete a ready task inside the caller's transaction because the record it asks for was made elsewhere —
    a department's push task by the batch it uploaded — with that record's data (no form filled in)."""
    user = db.session.scalar(select(User).filter_by(username=actor))
    if user is None:
        raise NotFound(f"用户 {actor} 不存在")
    authorize(user, row)
    run, task = _ready_task(row, actor, clock)
    _run_task(run, task, row, data, actor, clock)
    run.advance(clock)
    _save(run)


def authorize(user: User, row: HumanTask) -> None:
    """The user must hold the task's role, in the task's jurisdiction or above it."""
    if row.role not in user.roles:
        role = all_roles().get(row.role or "")
        raise PermissionDenied(f"{user.display_name} 没有办理“{row.name}”所需的角色 {role.name if role else row.role}")
    if not row.jurisdiction_path.startswith(user.jurisdiction.path):
        raise PermissionDenied(f"任务“{row.name}”不在 {user.jurisdiction.full_name} 辖区内")
    if row.role == "department_officer" and user.department and row.case.department not in (None, user.department):
        raise PermissionDenied(f"任务“{row.name}”是其他行业部门（{row.case.department}）的，{user.display_name} 不能办理")


def may_do(user: User, row: HumanTask) -> bool:
    """Would :func:`authorize` let ``user`` do the ready task ``row``? (a page links only to tasks it would)"""
    if row.state != "READY":
        return False
    try:
        authorize(user, row)
    except PermissionDenied:
        return False
    return True


def doable(user: User, task_ids: set[int]) -> set[int]:
    """Of ``task_ids``, the ready tasks ``user`` may do (:func:`may_do`), read in one statement with their cases."""
    if not task_ids:
        return set()
    rows = db.session.scalars(select(HumanTask).where(HumanTask.id.in_(task_ids)).options(joinedload(HumanTask.case)))
    return {row.id for row in rows if may_do(user, row)}


# -- timers ---------------------------------------------------------------------------------------


def wake_due(now: datetime, clock: Clock, actor: str = "system", limit: int | None = None) -> int:
    """Fire every timer due by ``now`` (at most ``limit`` cases, most overdue first); return the cases woken
    (:func:`wake_cases`)."""
    return wake_cases(due_cases(now, limit), actor, clock)


def due_cases(now: datetime, limit: int | None = None) -> list[int]:
    """The running cases with a timer due by ``now``, most overdue first (at most ``limit``)."""
    query = select(Case.id).where(Case.status == "running", Case.next_wakeup_at <= now).order_by(
        Case.next_wakeup_at, Case.id)
    return list(db.session.scalars(query.limit(limit) if limit else query))


def wake_cases(ids: list[int], actor: str, clock: Clock) -> int:
    """Wake the cases ``ids`` whose timers are due by the clock; return how many were woken.

    Cases are woken in batches of WAKE_BATCH per transaction; when one case of a batch fails, the batch is
    undone and woken again one case per transaction, so that the failing case never costs the others their
    wake-up. A case is woken once per due moment: one whose wake-up moved on since it was listed is skipped."""
    woken = 0
    for start in range(0, len(ids), WAKE_BATCH):
        batch = ids[start:start + WAKE_BATCH]
        try:
            with transaction(), db.session.no_autoflush:
                woken += _wake_all(_cases_to_wake(batch), actor, clock)
        except (OperationalError, InterfaceError):
            raise  # the database itself: nothing to gain from trying each case
        except Exception:  # noqa: BLE001 — whatever it was, each case is tried alone next, and logged there
            log.info("a case of %s could not be woken with the others; waking them one by one", batch)
            woken += sum(_wake_alone(case_id, actor, clock) for case_id in batch)
    return woken


def _cases_to_wake(ids: list[int]) -> list[Case]:
    """The cases, with their diagram versions (without the diagram itself) and places, in two queries."""
    return list(db.session.scalars(select(Case).where(Case.id.in_(ids)).order_by(Case.next_wakeup_at, Case.id)
                                   .options(selectinload(Case.process_version), joinedload(Case.jurisdiction))))


def _wake_all(cases: list[Case], actor: str, clock: Clock) -> int:
    """Wake ``cases`` in the caller's transaction; the number woken."""
    fired: list[tuple[int, str, datetime]] = []
    woken = 0
    with deferred():  # the cases' rows written together at the end: the write lock is held for that moment only
        for case in cases:
            timers = _wake(case, actor, clock)
            if timers is not None:
                woken += 1
                fired += [(case.id, uuid, at) for uuid, at in timers]
    mark_fired(fired)
    return woken


def _wake_alone(case_id: int, actor: str, clock: Clock) -> int:
    try:
        with transaction(), db.session.no_autoflush:
            return _wake_all([db.session.get(Case, case_id)], actor, clock)
    except ConflictError:
        log.info("case %s changed while waking; the next sweep retries", case_id)
    except (OperationalError, InterfaceError):
        raise
    except Exception:
        log.exception("case %s could not be woken; the next sweep retries", case_id)
    return 0


def _wake(case: Case | None, actor: str, clock: Clock) -> list[tuple[str, datetime]] | None:
    """Fire the due timers of one case (in the caller's transaction): ``[(timer task id, fired at)]``; None if
    nothing of it is due any more."""
    now = clock.now()
    if case is None or case.status != "running" or case.next_wakeup_at is None or case.next_wakeup_at > now:
        return None
    run = run_case(case, actor, clock)
    due = [(t, at) for t, at in waiting_timers(run.workflow) if at <= now]
    fired = [{"timer": timer_label(t), "due": at, "late_ms": round((now - at).total_seconds() * 1000),
              **({"publicity": t.data.get("publicity")} if t.workflow.spec.name == PUBLICITY_PROCESS else {})}
             for t, at in due]
    run.advance(clock)
    audit.record(now, actor, "timers_fired", case_id=case.id, timers=fired)
    _save(run)
    return [(str(t.id), now) for t, _ in due]


# -- publicity ------------------------------------------------------------------------------------


def close_publicity(case_id: int, actor: str, clock: Clock) -> Case:
    """End the running publicity (公示) of a case; refused before the period is over."""
    with transaction(), db.session.no_autoflush:
        run = _load(case_id, actor, clock)
        case = run.case
        timers = [(t, due) for t, due in waiting_timers(run.workflow) if t.workflow.spec.name == PUBLICITY_PROCESS]
        if not timers:
            raise RuleViolation(f"案件 {case.number} 当前没有进行中的公示")
        task, due = timers[0]
        if due > clock.now():
            raise RuleViolation(_early_close_message(task, due))
        run.advance(clock)
        mark_fired([(case.id, str(task.id), clock.now())])
        audit.record(clock.now(), actor, "publicity_closed", case_id=case.id,
                     publicity=task.data.get("publicity", {}))
        _save(run)
    return case


def _early_close_message(task, due: datetime) -> str:
    publicity = task.data.get("publicity", {})
    last = date.fromordinal(to_local_date(due).toordinal() - 1)
    return (f"公示期未满：{publicity.get('level', '')}公示自 {publicity.get('posted_on', '')} 张贴，"
            f"公示 {publicity.get('days', '')} 天，至 {last} 24:00 结束，{to_local_date(due)} 起方可结束公示")


def raise_objection(case_id: int, text: str, raised_by: str, actor: str, clock: Clock) -> Case:
    """Register an objection (异议) during a publicity; it must be verified before the case goes on."""
    _check_objection(text, raised_by)
    with transaction(), db.session.no_autoflush:
        run = _load(case_id, actor, clock)
        case = run.case
        definition = _waiting_message(run.workflow, OBJECTION_MESSAGE)
        if definition is None:
            raise RuleViolation(f"案件 {case.number} 当前不在公示期，不能提出异议")
        payload = {"text": text, "raised_by": raised_by, "raised_on": to_local_date(clock.now()).isoformat()}
        with using_clock(clock):  # the publicity's end timer is due by the case's clock, never the system's
            run.workflow.catch(BpmnEvent(definition, payload))
        audit.record(clock.now(), actor, "objection_raised", case_id=case.id, **payload)
        run.advance(clock)
        _save(run)
    return case


def _check_objection(text: str, raised_by: str) -> None:
    if not str(text or "").strip():
        raise RuleViolation("text: 异议内容不能为空")
    for field, label, value, limit in (("text", "异议内容", text, OBJECTION_TEXT_LIMIT),
                                       ("raised_by", "提出人", raised_by, OBJECTION_BY_LIMIT)):
        if len(str(value or "")) > limit:
            raise RuleViolation(f"{field}: {label}最多 {limit} 个字符")


def _waiting_message(workflow, name: str):
    for task in workflow.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        defs = definition.event_definitions if isinstance(definition, MultipleEventDefinition) else [definition]
        for d in defs:
            if isinstance(d, MessageEventDefinition) and d.name == name:
                return d
    return None


def _load(case_id: int, actor: str, clock: Clock) -> CaseRun:
    case = get_case(case_id)
    if case.status != "running":
        raise RuleViolation(f"案件 {case.number} 已办结")
    return run_case(case, actor, clock)


# -- reading --------------------------------------------------------------------------------------


def get_case(case_id: int) -> Case:
    return fetch(Case, case_id, "案件")


@dataclass(frozen=True)
class CaseHistory:
    case: Case
    events: list[AuditEvent]
    tasks: list[HumanTask]
    notices: list[Notice]
    waiting_until: list[tuple[str, datetime]]


_NOTICES_OF_CASE = select(Notice).where(Notice.case_id == bindparam("case_id")).order_by(Notice.id)  # built once (engine.core.reads)


def notices_of_case(case_id: int) -> list[Notice]:
    """The notices sent to the household in a case (告知), oldest first."""
    return list(db.session.scalars(_NOTICES_OF_CASE, {"case_id": case_id}))


def case_history(case_id: int) -> CaseHistory:
    """The case, its audit trail, its tasks, the notices sent and the timers it waits for."""

    case = get_case(case_id)
    notices = notices_of_case(case_id)
    waiting = []
    if case.status == "running":
        workflow = case_workflow(case, CaseContext(case, "system", _NoClock()).script_engine())
        waiting = [(timer_label(t), due) for t, due in waiting_timers(workflow)]
    return CaseHistory(case, audit.for_case(case_id), tasks_of_case(case_id), notices, waiting)


class _NoClock:
    def now(self) -> datetime:
        raise RuntimeError("reading a case needs no clock")


# -- withdrawing an application -------------------------------------------------------------------


def withdraw_identification(case: Case, stage: str, reason: str, household_status: str, actor: str,
                            clock: Clock) -> Case:
    """The household withdraws its identification (取消申报) while a step of the public ``stage`` — the village's
    acceptance, the diagram's step with ``publicStage`` ``application`` — is still to be done, inside the caller's
    transaction: the workflow is cancelled with its ready tasks (they leave the inboxes), the case is closed with
    the outcome ``cancelled`` and ``reason``, and the household goes back to ``household_status`` (what it was
    before applying). Audited: outcome, household status, case closed."""
    if case.procedure != "identification" or case.status != "running":
        raise RuleViolation(f"案件 {case.number} 已办结，不能取消")
    run = run_case(case, actor, clock)
    if not any(step_marks(t).get(PUBLIC_STAGE_PROPERTY) == stage
               for t in run.workflow.get_tasks(state=TaskState.READY, manual=True)):
        raise RuleViolation(f"案件 {case.number} 已过受理环节，不能取消申请")
    now = clock.now()
    run.workflow.cancel()
    case.outcome, case.outcome_reason = "cancelled", reason
    case.household.status = household_status
    audit.record(now, actor, "outcome", case_id=case.id, outcome="cancelled", reason=reason)
    audit.record(now, actor, "household_released", case_id=case.id, household_id=case.household_id,
                 status=household_status, reason=reason)
    _save(run)
    return case
