"""What an official deciding a step sees beside its form (办理依据), read only: the household's income as household
verification recorded it (A28–A38, engine.households.income), the classification the decision table gave with its
explanation (the ``assessment`` the identification diagrams keep), the conditions of risk elimination, the
publicity with its objections and how each was verified, and every earlier decision with its reason — so that a
township or county officer decides from the task page alone. Also the values a new form is prefilled with and
where each came from (预填来源). Which step concluded what, and what each form records for the steps after it,
the forms say (``x-verdict``, ``x-records``: engine.bpmn.forms), never their file names. Nothing here writes: the
workflow instance is read from the stored state and dropped."""
from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from SpiffWorkflow.exceptions import TaskNotFoundException
from sqlalchemy import bindparam, select

from engine.accounts.users import display_names
from engine.bpmn.forms import Verdict, load_form, records_of, verdict_of
from engine.bpmn.instructions import PROPERTY as INSTRUCTIONS_PROPERTY
from engine.bpmn.instructions import filled
from engine.bpmn.runtime import waiting_timers
from engine.bpmn.validation import DUE_PROPERTY
from engine.cases.lifecycle import PUBLICITY_PROCESS
from engine.cases.runs import viewed_workflow
from engine.cases.self_application import application_of_case, display_number, prefilled, risk_type_choices
from engine.cases.tasks import tasks_of_case
from engine.cases.views import describe_data
from engine.core import audit
from engine.core.clock import Clock
from engine.core.db import db
from engine.core.errors import FangpinError, FormKeywordInvalid, NotFound
from engine.core.models import Case, HumanTask, IncomeRecord, SelfApplication
from engine.core.vocabulary import EliminationMode, FormRecord, GuaranteeProblem, HouseholdCategory, Procedure
from engine.elimination.eligibility import Eligibility, assess
from engine.households.guarantees import guarantee_problems
from engine.households.income import INCOME_FIELDS, IncomeFigures
from engine.households.register import members_of
from engine.policy.parameters import monitoring_line
from timers.calendar import display_deadline, to_local_date

log = logging.getLogger(__name__)

DUE_NOTE_PROPERTY = "dueDateNote"  # a user task's property: why the step has no due date
NO_DUE_BY_POLICY = "本地政策参数未规定本环节的办理时限，故不设期限；请及时办理。"
NO_DUE_IN_DIAGRAM = "流程图未为本环节规定办理时限，故不设期限；请及时办理。"
INPUT_LABELS = {  # A28–A32, A35, A36: what household verification enters
    "wages": "工资性收入（A28）", "business_income": "生产经营性收入（A29）", "property_income": "财产性收入（A30）",
    "transfer_income": "转移性收入（A31）", "business_expenses": "生产经营性支出（A32）",
    "insurance_payouts": "理赔收入（A35）", "compliant_out_of_pocket": "合规自付支出（A36）",
}


@dataclass(frozen=True)
class Figure:
    label: str
    amount: Decimal
    computed: bool = False  # A33, A34, A37, A38: the formulas of the information form
    formula: str = ""


@dataclass(frozen=True)
class IncomeView:
    """The income household verification recorded (收入测算), with the figures the form's formulas give."""

    source: str  # which step recorded it, by whom and when
    window: tuple[date, date]
    household_size: int
    figures: tuple[Figure, ...]
    net_income_per_capita: Decimal  # A34
    income_reference_per_capita: Decimal  # A38
    line: Decimal | None  # the monitoring line (监测范围) of the year, if the province has one


@dataclass(frozen=True)
class ClassificationView:
    """The decision table's answer (类别认定) and why."""

    include: bool
    category: str | None
    category_name: str
    reasons: tuple[str, ...]
    facts: tuple[tuple[str, str], ...]  # what the table read, in words


@dataclass(frozen=True)
class DecisionEntry:
    """An earlier step that concluded something (评议、审核、比对、审定、核实…), with its reason."""

    step: str
    by: str
    at: datetime | None
    verdict: str
    rejected: bool
    reason: str
    details: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ObjectionView:
    raised_on: str
    raised_by: str
    text: str
    finding: str  # 异议成立 / 异议不成立 / 待核实
    upheld: bool | None
    reason: str
    verified_by: str


@dataclass(frozen=True)
class HardshipView:
    """The sudden hardship a case is about (突发困难情况), as written, and by which step or at the opening."""

    text: str
    source: str


@dataclass(frozen=True)
class DecisionView:
    """Everything :func:`decision_view` found for one task of a case; empty parts are left out by the page."""

    income: IncomeView | None = None
    classification: ClassificationView | None = None
    eligibility: tuple[str, ...] = ()  # risk elimination: each condition, when the township's evaluation listed it
    recheck: tuple[str, ...] = ()  # risk elimination: the conditions rechecked on the verified income
    recheck_eligible: bool | None = None
    current: tuple[str, ...] = ()  # risk elimination before the income is verified: each condition on today's record
    current_eligible: bool | None = None
    current_on: date | None = None
    mode: str = ""  # risk elimination: 帮扶消除 or 自然消除, as the township proposed it
    guarantees: tuple[tuple[str, bool], ...] = ()  # risk elimination: 三保障 and drinking water now, (label, secured)
    risk_types: tuple[str, ...] = ()
    hardship: HardshipView | None = None  # green channel: what the village confirmed (001 Q29 乡村两级确认)
    publicity: tuple[str, ...] = ()
    publicity_running: bool = False  # a publicity's period has not ended yet (by the clock): no objection *so far*
    objections: tuple[ObjectionView, ...] = ()
    decisions: tuple[DecisionEntry, ...] = ()
    instructions: str = ""  # what the diagram tells the official to do at this step
    due_note: str = ""  # a step without a due date: why (the diagram's words, or what its due date depends on)
    tasks: tuple[HumanTask, ...] = ()  # the case's tasks, as read for the view (the page shows the done ones)
    names: dict[str, str] = field(default_factory=dict)  # login → name of whoever did them (and this task)

    @property
    def empty(self) -> bool:
        return not (self.income or self.classification or self.eligibility or self.recheck or self.current
                    or self.publicity or self.objections or self.decisions or self.guarantees or self.hardship)


@dataclass(frozen=True)
class Prefill:
    """The initial values of a task's form taken from the case, and where each came from (field → words)."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # a field's dotted name → where its value came from


# -- the view ---------------------------------------------------------------------------------------


def decision_view(row: HumanTask, clock: Clock) -> DecisionView:
    """What the official doing ``row`` needs to decide it, from the case so far."""
    case = row.case
    data, running, step = _task_data(case, row, clock)
    instructions, due_note = _step_words(row, step, data)
    tasks = tuple(tasks_of_case(case.id))
    doers = {t.completed_by for t in tasks if t.completed_by}
    if case.household_id is None:
        return DecisionView(instructions=instructions, due_note=due_note, tasks=tasks, names=display_names(doers))
    members_of(case.household)  # the page shows the household: its members read once, directly
    done = [t for t in tasks if t.state == "COMPLETED" and t.id != row.id]
    incomes, events = _incomes(case), audit.for_case(case.id)  # each read once for the whole view
    names = display_names(doers | {r.recorded_by for r in incomes} | {case.opened_by})
    assessment = data.get("assessment") if isinstance(data.get("assessment"), dict) else None
    check = data.get("check") if isinstance(data.get("check"), dict) else None
    application = data.get("application") if isinstance(data.get("application"), dict) else {}
    elimination = case.procedure == Procedure.ELIMINATION.value
    mode = data.get("mode") or application.get("mode")
    today = to_local_date(clock.now())
    current = _current_conditions(case, str(mode or "assisted"), today) if (
        elimination and row.state == "READY" and check is None) else None
    return DecisionView(
        income=_income(case, incomes, names, assessment),
        classification=_classification(assessment, data) if assessment else None,
        eligibility=_sentences(data.get("eligibility") or application.get("eligibility")),
        recheck=_sentences(check.get("explanation")) if check else (),
        recheck_eligible=bool(check.get("eligible")) if check else None,
        current=_sentences(current.explanation) if current else (),
        current_eligible=current.eligible if current else None, current_on=today if current else None,
        mode=EliminationMode.label_of(mode) if elimination else "",
        guarantees=_guarantees(case) if elimination else (),
        risk_types=tuple(_risk_labels(case.household.risk_types or data.get("risk_types") or [])),
        hardship=_hardship(row, done, next((e for e in events if e.action == "case_opened"), None), names),
        publicity=tuple(_publicity(events, done) + [text for text, _ in running]),
        publicity_running=any(due > clock.now() for _, due in running),
        objections=tuple(_objections(events, done, names)),
        decisions=tuple(_decision(t, names) for t in done
                        if _concluded(t) and FormRecord.OBJECTION_FINDING not in _records(t.form)),
        instructions=instructions, due_note=due_note, tasks=tasks, names=names,
    )


def _current_conditions(case: Case, mode: str, today: date) -> Eligibility | None:
    """The conditions of risk elimination on the household's record today, by the tables of the case's diagram —
    a monthly revisit since the township listed it may have found a new risk (001 Q30 不存在新增返贫致贫风险), which
    the official must see before going to the house, not only the listing's snapshot; None (logged) if they
    cannot be decided."""
    try:
        return assess(case.household, today, mode)
    except FangpinError:
        log.exception("case %s: the elimination conditions could not be decided for the task page", case.number)
        return None


def _hardship(row: HumanTask, done: list[HumanTask], opened: Any, names: dict[str, str]) -> HardshipView | None:
    """The sudden hardship for the steps that confirm it (001 Q29: 经乡村两级确认): as the latest step done whose form
    records it wrote it (the village's confirmation); before that, as written when the case was opened (``opened``:
    its case_opened entry), unless this task's own form records it — its field is prefilled with it instead."""
    recorded = _latest_done(done, FormRecord.HARDSHIP)
    if recorded is not None and str((recorded.form_data or {}).get("hardship") or "").strip():
        return HardshipView(str(recorded.form_data["hardship"]).strip(), _done_words(recorded, names))
    text = _opening_hardship(opened)
    if not text or FormRecord.HARDSHIP in _records(row.form):
        return None
    return HardshipView(text, _opening_words(row.case, names))


def _opening_hardship(opened: Any) -> str:
    """The hardship written when the case was opened (its case_opened audit entry's application), or ""."""
    application = ((opened.detail or {}).get("application") if opened is not None else None) or {}
    return str(application.get("hardship") or "").strip() if isinstance(application, dict) else ""


def _opening_words(case: Case, names: dict[str, str]) -> str:
    by = names.get(case.opened_by, case.opened_by)
    return f"启动时填写（{by} {to_local_date(case.opened_at).isoformat()}）"


def _done_words(task: HumanTask, names: dict[str, str]) -> str:
    """「step」（who date 办理）: where a value a step recorded comes from."""
    doer = task.completed_by or ""
    at = to_local_date(task.completed_at).isoformat() if task.completed_at else ""
    return f"「{task.name}」（{names.get(doer, doer)} {at} 办理）"


def _guarantees(case: Case) -> tuple[tuple[str, bool], ...]:
    """三保障 and drinking water as the household's record holds them now (A23–A26, what the latest verification
    found): each with whether it is secured — a condition of risk elimination (000 四, 001 Q30)."""
    problems = set(guarantee_problems(case.household))
    return tuple((problem.label, problem not in problems) for problem in GuaranteeProblem)


def _step_words(row: HumanTask, step: dict[str, Any], data: dict[str, Any]) -> tuple[str, str]:
    """(the step's instructions, with the data they name filled in; why it has no due date — empty when it has one)."""
    instructions = filled(str(step.get("instructions") or "").strip(), data)
    if row.due_at is not None:
        return instructions, ""
    properties = step.get("properties") or {}
    note = str(properties.get(DUE_NOTE_PROPERTY) or "").strip()
    if note:
        return instructions, note
    if properties.get(DUE_PROPERTY):
        return instructions, NO_DUE_BY_POLICY
    return instructions, NO_DUE_IN_DIAGRAM


_INCOMES = (select(IncomeRecord).where(IncomeRecord.household_id == bindparam("household_id"))
            .order_by(IncomeRecord.recorded_at.desc(), IncomeRecord.id.desc()).limit(20))


def _task_data(case: Case, row: HumanTask, clock: Clock
               ) -> tuple[dict[str, Any], list[tuple[str, datetime]], dict[str, Any]]:
    """The data the case's workflow holds at ``row`` (a step done: the latest data holding an assessment), the
    publicity running now (in words, with the moment its period ends), and the step's diagram extensions (``properties``, ``instructions``)."""
    try:
        with viewed_workflow(case, clock) as workflow:
            return _read_task_data(workflow, row)
    except Exception:  # a page must show even when the instance cannot be read (e.g. a diagram no longer loads)
        log.exception("case %s: the workflow could not be read for the task page", case.number)
        return {}, [], {}


def _read_task_data(workflow, row: HumanTask) -> tuple[dict[str, Any], list[tuple[str, datetime]], dict[str, Any]]:
    running = []
    for timer, due in waiting_timers(workflow):
        info = timer.data.get("publicity") if timer.workflow.spec.name == PUBLICITY_PROCESS else None
        if isinstance(info, dict):
            text = (f"{info.get('level', '')}公示{info.get('days', '')}天（{info.get('posted_on', '')} 张贴），"
                    f"{display_deadline(due)} 期满")
            running.append((text, due))
    task = _find_task(workflow, row.task_uuid)
    step = {}
    if task is not None:
        extensions = getattr(task.task_spec, "extensions", None) or {}
        step = {"properties": extensions.get("properties") or {},
                "instructions": extensions.get(INSTRUCTIONS_PROPERTY) or ""}
    if task is not None and row.state == "READY":
        return copy.deepcopy(task.data), running, step
    found = [t for t in workflow.get_tasks() if "assessment" in t.data or "check" in t.data]
    latest = max(found, key=lambda t: t.last_state_change, default=None)
    return copy.deepcopy(latest.data if latest is not None else workflow.data), running, step


def _find_task(workflow, task_uuid: str | None):
    if not task_uuid:
        return None
    try:
        return workflow.get_task_from_id(UUID(task_uuid))
    except (TaskNotFoundException, ValueError):  # a task no longer held (e.g. of a finished subprocess): nothing
        log.debug("task %s not in the workflow", task_uuid)
        return None


def _incomes(case: Case) -> list[IncomeRecord]:
    return list(db.session.scalars(_INCOMES, {"household_id": case.household_id}))


def _income(case: Case, records: list[IncomeRecord], names: dict[str, str],
            assessment: dict | None) -> IncomeView | None:
    """This case's verified income, or else the household's latest (e.g. risk elimination before its own
    verification), saying which; ``records``: the household's latest (:func:`_incomes`)."""
    record = next((r for r in records if r.case_id == case.id), None) or (records[0] if records else None)
    if record is None:
        return None
    figures = IncomeFigures(household_size=record.household_size,
                            **{f: Decimal(str(getattr(record, f) or 0)) for f in INCOME_FIELDS})
    by = names.get(record.recorded_by, record.recorded_by)
    when = to_local_date(record.recorded_at).isoformat()
    if record.case_id == case.id:
        source = f"本案入户核实，{by} {when} 录入"
    else:
        other = db.session.get(Case, record.case_id) if record.case_id else None
        source = f"{'案件 ' + other.number if other else '此前'}的入户核实，{by} {when} 录入（本案尚未重新核实）"
    line = _line(case, record, assessment)
    rows = [Figure(INPUT_LABELS[f], getattr(figures, f)) for f in INCOME_FIELDS[:5]]
    rows += [Figure("家庭纯收入（A33）", figures.net_income, True, "A28＋A29＋A30＋A31－A32"),
             Figure("家庭人均纯收入（A34）", figures.net_income_per_capita, True, f"A33÷{figures.household_size} 人")]
    rows += [Figure(INPUT_LABELS[f], getattr(figures, f)) for f in INCOME_FIELDS[5:]]
    rows += [Figure("收入参考范围（A37）", figures.income_reference, True, "A33＋A35－A36"),
             Figure("人均收入参考范围（A38）", figures.income_reference_per_capita, True, f"A37÷{figures.household_size} 人")]
    return IncomeView(source, (record.window_start, record.window_end), record.household_size, tuple(rows),
                      figures.net_income_per_capita, figures.income_reference_per_capita, line)


def _line(case: Case, record: IncomeRecord, assessment: dict | None) -> Decimal | None:
    if assessment and assessment.get("monitoring_line") is not None and record.case_id == case.id:
        return Decimal(str(assessment["monitoring_line"])).quantize(Decimal("0.01"))
    try:
        return monitoring_line(case.household.village, to_local_date(record.recorded_at).year)
    except FangpinError:
        return None


def _classification(assessment: dict, data: dict) -> ClassificationView:
    category = assessment.get("category")
    include = bool(assessment.get("include"))
    name = HouseholdCategory.label_of(category) if include and category else "不纳入"
    reasons = _sentences(assessment.get("explanation"))
    facts = [("是否脱贫户", "脱贫户" if assessment.get("formerly_poor") else "一般农户"),
             ("存在返贫致贫风险", "是" if assessment.get("has_risk") else "否"),
             ("三保障和饮水安全问题", assessment.get("guarantee_text") or "无"),
             ("原则上不纳入情形", assessment.get("exclusions_text") or "无")]
    if data.get("category_reason") and str(data["category_reason"]) not in reasons:
        reasons = (*reasons, str(data["category_reason"]))
    return ClassificationView(include, category if include else None, name, reasons, tuple(facts))


def _sentences(text: Any) -> tuple[str, ...]:
    return tuple(part.strip() for part in str(text or "").split("；") if part.strip())


def _risk_labels(keys: list) -> list[str]:
    labels = dict(risk_type_choices())
    return [labels.get(str(k), str(k)) for k in keys]


def _schema(form: str | None) -> dict[str, Any]:
    try:
        return load_form(form) if form else {}
    except NotFound:
        return {}
    except FormKeywordInvalid:  # refused wherever the form is used (deploying, completing); the page still shows
        log.exception("form %s declares its keywords wrongly: not read for the decision view", form)
        return {}


def _records(form: str | None) -> frozenset[FormRecord]:
    """What the form says it records (``x-records``)."""
    return records_of(_schema(form))


def _concluded(task: HumanTask) -> Verdict | None:
    """The form's verdict (``x-verdict``), when the task's data holds it."""
    verdict = verdict_of(_schema(task.form))
    return verdict if verdict is not None and verdict.field in (task.form_data or {}) else None


def _verdict_text(schema: dict[str, Any], verdict: Verdict, value: Any) -> str:
    """The verdict in words: as the form's ``x-verdict`` labels it, else its option's name (enumNames)."""
    label = verdict.label(value)
    if label is not None:
        return label
    if isinstance(value, bool):
        return "是" if value else "否"
    spec = schema.get("properties", {}).get(verdict.field, {})
    names = dict(zip(spec.get("enum", []), spec.get("enumNames", []), strict=False))
    return str(names.get(value, value))


def _decision(task: HumanTask, names: dict[str, str]) -> DecisionEntry:
    data = dict(task.form_data or {})
    schema = _schema(task.form)
    verdict = verdict_of(schema) or Verdict("")
    value = data.pop(verdict.field, None)
    reason = str(data.pop(verdict.reason, "") or "") if verdict.reason else ""
    shown = {k: v for k, v in data.items() if not isinstance(v, dict)}  # the income is in its own table
    details = tuple((title, text) for title, text in describe_data(task.form, shown) if text)
    return DecisionEntry(task.name, names.get(task.completed_by or "", task.completed_by or ""), task.completed_at,
                         _verdict_text(schema, verdict, value), verdict.rejects(value), reason, details)


def _publicity(events: list, done: list[HumanTask]) -> list[str]:
    out = []
    for t in done:
        if t.form_data and FormRecord.PUBLICITY_POSTING in _records(t.form):
            place = t.form_data.get("place")
            out.append(f"{t.name}：{t.form_data.get('posted_on', '')} 张贴" + (f"于{place}" if place else ""))
    for event in events:
        detail = event.detail or {}
        if event.action == "publicity_closed":
            info = detail.get("publicity") or {}
            out.append(f"{info.get('level', '')}公示{info.get('days', '')}天期满，{to_local_date(event.at).isoformat()} 结束公示")
        elif event.action == "timers_fired":
            for timer in detail.get("timers", []):
                info = timer.get("publicity") if isinstance(timer, dict) else None
                if isinstance(info, dict):
                    out.append(f"{info.get('level', '')}公示{info.get('days', '')}天（{info.get('posted_on', '')} 张贴），"
                               f"{_due_text(timer.get('due'))} 期满")
    return out


def _due_text(value: Any) -> str:
    try:
        return display_deadline(datetime.fromisoformat(str(value)))
    except ValueError:
        return str(value or "")


def _objections(events: list, done: list[HumanTask], names: dict[str, str]) -> list[ObjectionView]:
    raised = [e.detail or {} for e in events if e.action == "objection_raised"]
    verified = [t for t in done if FormRecord.OBJECTION_FINDING in _records(t.form)]
    out = []
    for i, objection in enumerate(raised):
        check = verified[i] if i < len(verified) else None
        schema = _schema(check.form) if check else {}
        verdict = verdict_of(schema) or Verdict("")  # an objection finding declares its verdict (engine.bpmn.forms)
        data = (check.form_data or {}) if check else {}
        finding = data.get(verdict.field)
        out.append(ObjectionView(str(objection.get("raised_on", "")), str(objection.get("raised_by", "")),
                                 str(objection.get("text", "")),
                                 _verdict_text(schema, verdict, finding) if finding else "待核实",
                                 None if finding is None else verdict.rejects(finding),
                                 str(data.get(verdict.reason, "") if verdict.reason else ""),
                                 names.get(check.completed_by or "", check.completed_by or "") if check else ""))
    return out


# -- prefill ----------------------------------------------------------------------------------------


_UNREAD: Any = object()  # prefill's application when the caller has not read it


def prefill(row: HumanTask, application: SelfApplication | None = _UNREAD,
            view: DecisionView | None = None) -> Prefill:
    """What a new form of ``row`` starts with, from the case, by what its form says it records (``x-records``): the
    household's online application (the application), the risk types the application step recorded (risk types),
    the household's size from its registration (household size) — each with where it came from. ``view``: the
    task's decision view, if the caller has made it (a task page): its tasks and officials' names are not read
    again."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    if row.state != "READY" or row.case.household_id is None:
        return Prefill()
    if application is _UNREAD:  # the caller's, if it has read it (None: the household did not apply online)
        application = application_of_case(row.case_id)
    records = _records(row.form)
    if application is not None and FormRecord.APPLICATION in records:
        values.update(prefilled(application))
        source = (f"农户网上申报（申请编号 {display_number(application.number)}，"
                  f"{to_local_date(application.submitted_at).isoformat()} 提交）")
        sources.update({name: source for name in values})
    if FormRecord.RISK_TYPES in records:
        applied = _latest_done(tasks_of_case(row.case_id) if view is None else view.tasks, FormRecord.APPLICATION)
        if applied is not None and (applied.form_data or {}).get("risk_types"):
            values["risk_types"] = list(applied.form_data["risk_types"])
            doer = applied.completed_by or ""
            sources["risk_types"] = _done_words(applied, view.names if view is not None and doer in view.names
                                                else display_names({doer}))
    if FormRecord.HARDSHIP in records:  # the green channel's village step: what was written when it was opened
        hardship = _opening_hardship(audit.first_of_case(row.case_id, "case_opened"))
        if hardship:
            case = row.case
            values["hardship"] = hardship
            sources["hardship"] = _opening_words(case, view.names if view is not None and case.opened_by in view.names
                                                 else display_names({case.opened_by}))
    if FormRecord.HOUSEHOLD_SIZE in records:  # the form has income.household_size (engine.bpmn.forms checks)
        household = row.case.household
        values["income"] = {"household_size": household.size}
        sources["income.household_size"] = f"农户登记（实际共同生活的成员 {household.size} 人）"
    return Prefill(values, sources)


def _latest_done(tasks: Sequence[HumanTask], record: FormRecord) -> HumanTask | None:
    """The latest of the case's ``tasks`` (in order) done whose form records ``record``."""
    return next((t for t in reversed(tasks) if t.state == "COMPLETED" and record in _records(t.form)), None)
