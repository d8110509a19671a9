"""Publicity lists and announcements (公示公告名单) printed from the seed's templates
(``policy/publicity_fields.json``): which households each list holds, and their rows.

Privacy (Jiangxi 001 Q47): publicity lists and announcements never show ID numbers, phone numbers, bank
accounts or health status. :func:`public_columns` is the one place that enforces it — every template passes
through it, and a column whose form field is marked ``private: true`` in ``policy/household_form.json`` (or
whose header names such data) is dropped even if a template lists it. Free-text columns (risk descriptions,
judgements) are never filled automatically, since officials' free text may mention illnesses."""
from __future__ import annotations

import dataclasses
import functools
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload

from engine.bpmn.decision_tables import tables_of
from engine.bpmn.forms import forms_recording
from engine.bpmn.source import DiagramSource
from engine.core.config import project_dir
from engine.core.db import db
from engine.core.errors import FangpinError, NotFound, PolicyMissing
from engine.core.models import (
    AuditEvent,
    Case,
    CaseDeadline,
    Household,
    HumanTask,
    Jurisdiction,
    Member,
    ProcessVersion,
    load_ancestors,
)
from engine.core.vocabulary import (
    LEVELS,
    EliminationMode,
    FormRecord,
    HouseholdStatus,
    JurisdictionLevel,
    Procedure,
    PublicityStage,
)
from engine.households.income import IncomeFigures
from engine.households.records import (
    PlanSummary,
    case_incomes,
    category_name,
    figures,
    form_catalogue,
    households_in,
    latest_incomes,
    money,
    parse_date,
    place_names,
    private_keys,
    risk_text,
)
from engine.identification.classification import SHARPLY_REDUCED, classify, measure_household
from engine.policy.check import ISSUER, LABELS, PUBLICITY, diagram_needs, places_to_check, requirements
from engine.policy.parameters import monitoring_line, read_in_force, resolve
from timers.calendar import to_local_date

log = logging.getLogger(__name__)

TEMPLATES_FILE = "publicity_fields.json"
NO_SOURCE_NOTE = "暂无（该名单尚无数据来源）"
FREE_TEXT_NOTE = "说明类栏目为自由文本，系统不自动填写，以免泄露健康状况等敏感信息；如需填写，请核对后手工填写。"
SENSITIVE_HEADER_WORDS = ("身份证", "证件号", "电话", "手机", "银行", "账号", "健康状况")
BLANK = "____"  # a name left to be written by hand
UNFILLED = re.compile(r"_+|XX(?=镇|村)")  # a blank of the seed's templates ("_____村", "XX镇（街道）")
# The seed's templates are one county's own (002 章贡区): a title begins with its name before 批准/批复 or a blank
# ("章贡区批准…的公告", "章贡区____镇（街道）____村…"). That name is replaced by the household's county.
TEMPLATE_COUNTY = re.compile(r"^[\u4e00-\u9fff]{1,10}?[区县市旗](?=批准|批复|_|XX)")
INCOME_KEYS = ("net_income", "net_income_per_capita", "insurance_payouts", "compliant_out_of_pocket",
               "income_reference", "income_reference_per_capita")


# ---------------------------------------------------------------- templates and the privacy filter


@dataclass(frozen=True)
class Column:
    header: str
    form_key: str | None
    code: str | None = None
    income_phase: str | None = None

    @property
    def member_scope(self) -> bool:
        """A per-member column (姓名, 与户主关系); the others hold one value per household."""
        return self.form_key in _member_keys()


@functools.lru_cache(maxsize=1)
def _member_keys() -> frozenset[str]:
    return frozenset(f["key"] for f in form_catalogue() if f.get("scope") == "member")


@functools.lru_cache(maxsize=1)
def _measure_column_codes() -> frozenset[str]:
    """A39–A52, the assistance measure fields of the form."""
    return frozenset(f["code"] for f in form_catalogue() if f.get("measure_group"))


@functools.lru_cache(maxsize=1)
def _private_labels() -> tuple[str, ...]:
    labels = [f["label"] for f in form_catalogue() if f.get("private")]
    labels += [s["label"] for f in form_catalogue() for s in f.get("subfields", []) if s.get("private")]
    return tuple(labels)


def is_private(column: Mapping[str, Any]) -> bool:
    """Does a template column show private data (a private form field, or a header naming one)?"""
    key = column.get("form_key") or ""
    parts = key.split(".") if key else []
    if any(part in private_keys() for part in [key, *parts] if part):
        return True
    header = str(column.get("header", ""))
    return any(word in header for word in SENSITIVE_HEADER_WORDS) or header in _private_labels()


def public_columns(columns: Iterable[Mapping[str, Any]]) -> tuple[Column, ...]:
    """The columns a publicity list may print: every private column dropped (001 Q47)."""
    kept = []
    for raw in columns:
        if is_private(raw):
            log.warning("publicity column %r (%s) is private and is not printed", raw.get("header"), raw.get("form_key"))
            continue
        kept.append(Column(str(raw["header"]), raw.get("form_key"), raw.get("code"), raw.get("income_phase")))
    return tuple(kept)


SOURCE_KINDS = {"step": "完成的步骤", "approval": "县级审定通过、案件仍在办理", "status": "农户状态", "plan": "帮扶计划"}
HOUSEHOLD_DATES = ("identified_on", "elimination_date")  # the household dates a ``status`` source may date by


@dataclass(frozen=True)
class Source:
    """Where some of a list's households come from (名单来源): the template's ``households`` in
    ``policy/publicity_fields.json`` — which step of which procedure, or which household status — so that a list
    follows the diagrams and forms as configured, not as the code once knew them (:data:`SOURCE_KINDS`)."""

    kind: str
    procedure: str
    form: str | None = None
    step: str | None = None  # the step's id in the diagram; None: any step with the form
    when: tuple[tuple[str, Any], ...] = ()  # form values the step must have (e.g. decision = approve)
    date_field: str | None = None  # the form's date the entry is dated by
    period: str | None = None  # the publicity timer's label begins with this
    period_within: str | None = None  # or holds this
    category_field: str | None = None  # the category the county chose (an approval)
    status: str | None = None  # a ``status`` source: households of this status …
    date: str | None = None  # … dated by this household date
    posted_by: tuple[tuple[str, str | None], ...] = ()  # an approval: the steps that post it, (form, step id)
    optional: bool = False  # a step only some diagrams have (镇级公示, dropped in 江西 since 2023): not a gap where absent

    def matches(self, values: Mapping[str, Any] | None) -> bool:
        """Do a step's form values have what ``when`` asks?"""
        return all((values or {}).get(key) == value for key, value in self.when)

    @property
    def posting_steps(self) -> tuple[tuple[str, str | None], ...]:
        """The steps, (form, step id), that post this source's households: an approval's ``posted_by`` (公告); a
        step whose form records the posting (张贴村级公示: :data:`FormRecord.PUBLICITY_POSTING`) posts its own
        households; any other step posts none."""
        if self.kind == "approval":
            return self.posted_by
        if self.kind == "step" and self.form in _posting_forms():
            return ((self.form, self.step),)
        return ()

    def posts(self, row: HumanTask) -> bool:
        """Is ``row`` a step that posts this source's households (公告, 张贴村级公示)?"""
        return row.procedure == self.procedure and any(
            row.form == form and step in (None, row.bpmn_id) for form, step in self.posting_steps)


@functools.lru_cache(maxsize=1)
def _posting_forms() -> frozenset[str]:
    """The forms that record a publicity's posting (its date and place)."""
    return frozenset(forms_recording(FormRecord.PUBLICITY_POSTING))


def parse_source(template_id: str, raw: Mapping[str, Any]) -> Source:
    """A source from its JSON; an unknown kind, status or date, or a missing form or date field, is refused in
    Chinese naming the template."""
    where = f"公示模版 {template_id} 的名单来源"
    kind = raw.get("from")
    if kind not in SOURCE_KINDS:
        raise FangpinError(f"{where}：from 应为 {'、'.join(f'{k}（{v}）' for k, v in SOURCE_KINDS.items())}，而不是 {kind!r}")
    if not raw.get("procedure"):
        raise FangpinError(f"{where}：缺少 procedure（取自哪个程序）")
    if kind == "status":
        if raw.get("status") not in HouseholdStatus.labels():
            raise FangpinError(f"{where}：status 应为 {'、'.join(HouseholdStatus.labels())} 之一，而不是 {raw.get('status')!r}")
        if raw.get("date") not in HOUSEHOLD_DATES:
            raise FangpinError(f"{where}：date 应为 {'、'.join(HOUSEHOLD_DATES)} 之一，而不是 {raw.get('date')!r}")
    else:
        if not raw.get("form"):
            raise FangpinError(f"{where}：缺少 form（取自哪个表单的步骤）")
        if kind != "plan" and not raw.get("date_field"):
            raise FangpinError(f"{where}：缺少 date_field（名单日期取自表单的哪个日期）")
    return Source(
        kind=kind, procedure=raw["procedure"], form=raw.get("form"), step=raw.get("step"),
        when=tuple(sorted((raw.get("when") or {}).items())), date_field=raw.get("date_field"),
        period=raw.get("period"), period_within=raw.get("period_within"), category_field=raw.get("category_field"),
        status=raw.get("status"), date=raw.get("date"),
        posted_by=tuple((p["form"], p.get("step")) for p in raw.get("posted_by", [])),
        optional=bool(raw.get("optional")),
    )


@dataclass(frozen=True)
class SupervisionPhone:
    """The template's 监督电话: the numbers it prints as they are (12317, the national hotline) and whose number
    the place fills in (村书记联系电话 — its name in the template, never printed)."""

    numbers: tuple[str, ...]
    local: str


def parse_phone(template_id: str, raw: Any) -> SupervisionPhone | None:
    """A template's ``supervision_phone`` (``{"numbers": [...], "local": "村书记联系电话"}``); anything else is
    refused naming the template."""
    if raw is None:
        return None
    if not (isinstance(raw, dict) and isinstance(raw.get("local"), str) and raw["local"]
            and all(isinstance(n, str) for n in raw.get("numbers", []))):
        raise FangpinError(f"公示模版 {template_id} 的 supervision_phone 应为 {{\"numbers\": [固定号码…], "
                           f"\"local\": \"由当地填写的号码名称\"}}，而不是 {raw!r}")
    return SupervisionPhone(tuple(raw.get("numbers", [])), raw["local"])


@dataclass(frozen=True)
class ListTemplate:
    """One publicity or announcement template (公示/公告模版) of the seed, with where its households come from."""

    id: str
    annex: int | None
    stage: str
    kind: str
    level: str
    title: str
    list_title: str
    issuer: str
    publicity_days: int | None
    objection: str | None
    supervision_phone: SupervisionPhone | None
    income_notes: str
    columns: tuple[Column, ...]
    sources: tuple[Source, ...] = ()


def parse_template(raw: Mapping[str, Any]) -> ListTemplate:
    """A template from its JSON entry; its columns go through :func:`public_columns`. An unknown stage is refused
    naming the template."""
    if raw.get("stage") not in PublicityStage.labels():
        raise FangpinError(f"公示模版 {raw.get('id')} 的 stage 应为 {'、'.join(PublicityStage.labels())} 之一，"
                           f"而不是 {raw.get('stage')!r}")
    return ListTemplate(
        id=raw["id"], annex=raw.get("annex"), stage=raw["stage"], kind=raw["kind"], level=raw["level"],
        title=raw.get("title_in_body") or raw["title"], list_title=raw.get("list_title", ""),
        issuer=raw.get("issuer", ""), publicity_days=raw.get("publicity_days"),
        objection=(raw.get("objection") or {}).get("phrase"),
        supervision_phone=parse_phone(raw["id"], raw.get("supervision_phone")),
        income_notes=raw.get("income_notes", ""), columns=public_columns(raw.get("columns", [])),
        sources=tuple(parse_source(raw["id"], source) for source in raw.get("households", [])),
    )


@functools.lru_cache(maxsize=1)
def templates() -> dict[str, ListTemplate]:
    """The seed's templates by id, in file order."""
    raw = json.loads((project_dir("policy") / TEMPLATES_FILE).read_text(encoding="utf-8"))
    return {t["id"]: parse_template(t) for t in raw["templates"]}


def get_template(template_id: str) -> ListTemplate:
    try:
        return templates()[template_id]
    except KeyError:
        raise NotFound(f"公示模版 {template_id} 不存在") from None


def fill_names(text: str, place: Jurisdiction, county: Jurisdiction | None = None) -> str:
    """Fill the blanks "____镇（街道）" / "XX村" of a template with the place's names; a blank above the
    place's level stays a blank to be written by hand, printed as :data:`BLANK` whichever way the seed wrote it.
    The county the template was written for (its leading name, :data:`TEMPLATE_COUNTY`) becomes ``county`` — by
    default the place's own county, a blank above one — so that no list names another county. "（模版）" is
    dropped."""
    township, village = place.ancestor_at(JurisdictionLevel.TOWNSHIP), place.ancestor_at(JurisdictionLevel.VILLAGE)
    county = county or place.ancestor_at(JurisdictionLevel.COUNTY)
    text = TEMPLATE_COUNTY.sub(county.name if county else BLANK, text.replace("（模版）", ""))
    if township is not None:
        text = re.sub(r"(?:_+|XX)镇（街道）", township.name, text)
    if village is not None:
        text = re.sub(r"(?:_+|XX)村", village.name, text)
    return UNFILLED.sub(BLANK, text)  # the seed's "_____" and "XX" alike: one blank, in every title of a list


# ---------------------------------------------------------------- which households a list holds


@dataclass(frozen=True)
class Entry:
    """A household on a list, with the date the list is about (posted, reviewed, identified, publicized,
    eliminated) and the procedure whose income figures it shows (识别纳入 or 风险消除)."""

    household: Household
    case_id: int | None
    on: date | None
    period_end: date | None = None  # last day of the recorded publicity period, if known
    plan: PlanSummary | None = None
    procedure: str = "identification"
    category: str | None = None  # the category the county decided (县级审定), when it chose one
    as_of: datetime | None = None  # a step's entry: when the step was done — its figures are those recorded by then


def _completed(form: str, place: Jurisdiction, procedure: str, bpmn_id: str | None = None, running: bool = False,
               case_ids: Iterable[int] | None = None) -> list[HumanTask]:
    """The completed ``form`` steps of ``procedure`` in ``place`` (and below), oldest first, with their cases and
    households (one statement each, not one per step); only of running cases with ``running``, only of
    ``case_ids`` if given."""
    query = (select(HumanTask).join(HumanTask.case)
             .where(HumanTask.form == form, HumanTask.state == "COMPLETED", Case.procedure == procedure,
                    Case.jurisdiction_path.startswith(place.path))
             .options(contains_eager(HumanTask.case).selectinload(Case.household).options(
                 selectinload(Household.members), selectinload(Household.village)))  # as households_in loads them
             .order_by(HumanTask.completed_at, HumanTask.id))
    if bpmn_id:
        query = query.where(HumanTask.bpmn_id == bpmn_id)
    if running:
        query = query.where(Case.status == "running")
    if case_ids is not None:
        query = query.where(HumanTask.case_id.in_(list(case_ids)))
    return list(db.session.scalars(query))


def _publicity_ends(tasks: list[HumanTask], source: Source) -> dict[int, date]:
    """case id → the last day of the case's latest recorded publicity timer (期限 "村级公示5天（…张贴）") whose label
    begins with the source's ``period`` (or holds its ``period_within``), for the cases of ``tasks``, in one
    statement."""
    case_ids = sorted({t.case_id for t in tasks})
    if not case_ids or not (source.period or source.period_within):
        return {}
    label = (CaseDeadline.label.startswith(source.period) if source.period
             else CaseDeadline.label.contains(source.period_within))
    rows = db.session.execute(select(CaseDeadline.case_id, CaseDeadline.due_at).where(
        CaseDeadline.case_id.in_(case_ids), CaseDeadline.subject == "timer", label).order_by(CaseDeadline.id))
    return {case_id: to_local_date(due - timedelta(microseconds=1)) for case_id, due in rows}  # the latest wins


def _step_entries(tasks: list[HumanTask], source: Source, **extra: Callable[[HumanTask], Any]) -> list[Entry]:
    """An entry per step of ``tasks`` (of a household), dated by its form's ``source.date_field``, with the end of
    the publicity the source names; ``extra``: further fields of the entry from the step."""
    ends = _publicity_ends(tasks, source)
    return [Entry(t.case.household, t.case_id, parse_date((t.form_data or {}).get(source.date_field)),
                  ends.get(t.case_id), procedure=source.procedure, as_of=t.completed_at,
                  **{k: get(t) for k, get in extra.items()})
            for t in tasks if t.case.household is not None]


def step_entries(place: Jurisdiction, source: Source) -> list[Entry]:
    """The completed steps of ``source`` (村级公示, 乡镇审核确认 …) in ``place`` and below."""
    tasks = [t for t in _completed(source.form, place, source.procedure, bpmn_id=source.step)
             if source.matches(t.form_data)]
    return _step_entries(tasks, source)


def status_entries(place: Jurisdiction, source: Source) -> list[Entry]:
    """Households of ``source.status`` (监测中, 风险已消除 …) dated by their ``source.date``."""
    day = getattr(Household, source.date)
    return [Entry(h, None, getattr(h, source.date), procedure=source.procedure)
            for h in households_in(place, Household.status == source.status, day.is_not(None))]


def approved_entries(place: Jurisdiction, source: Source, case_ids: Iterable[int] | None = None) -> list[Entry]:
    """Households the county approved (县级审定 通过) in a case of the source's procedure still running — the
    announcement is still to be posted or runs its period, and the household is not yet marked 监测中 or 风险已消除 —
    dated by the decision (审定日期, the identification or elimination date). From the approval on, the county's
    announcement lists them: the one its 公告 step asks to post included."""
    approvals = [t for t in _completed(source.form, place, source.procedure, bpmn_id=source.step, running=True,
                                       case_ids=case_ids) if source.matches(t.form_data)]
    field = source.category_field
    return _step_entries(approvals, source, category=lambda t: (t.form_data or {}).get(field) if field else None)


def plan_entries(place: Jurisdiction, source: Source) -> list[Entry]:
    """Households whose assistance plan (帮扶计划) is completed, with that plan's measures."""
    entries = []
    for task in _completed(source.form, place, source.procedure, bpmn_id=source.step):
        plan = PlanSummary()
        plan.add(task.form_data or {})
        entries.append(Entry(task.case.household, task.case_id, plan.publicized_on, plan=plan))
    return entries


def source_gaps(template: ListTemplate, place: Jurisdiction, on: date,
                versions: Callable[[str], ProcessVersion | None] | None = None) -> list[str]:
    """The steps a list's sources name that the diagram in force at ``place`` on ``on`` does not have (a step
    renamed or removed in the diagram): the list misses those households there. Where a procedure cannot start at
    all, the configuration check (配置检查) names that instead. ``versions``: procedure → the version in force
    there (by default :func:`engine.policy.check.requirements`' own)."""
    version_of = versions or (lambda procedure: requirements(procedure, place, on).version)
    gaps = []
    for source in template.sources:
        version = version_of(source.procedure) if source.form is not None and not source.optional else None
        if version is None:
            continue
        needs = diagram_needs(tuple(f["sha256"] for f in version.files))
        wanted = [[(source.form, source.step)]] + ([list(source.posted_by)] if source.posted_by else [])
        for steps in wanted:  # each a list of alternatives: one of them is enough
            if not any(needs.has_step(form, step) for form, step in steps):
                named = "或".join(f"表单为 {form} 的{'步骤 ' + step if step else '步骤'}" for form, step in steps)
                gaps.append(f"名单取自{LABELS.get(source.procedure, source.procedure)}中{named}，{place.full_name}现行的"
                            f"流程 {version.process_key} 第 {version.version} 版中没有该步骤，本名单在此取不到这一来源的农户；如流程图"
                            f"改了该步骤，请同时修改公示模版的名单来源（policy/{TEMPLATES_FILE} 的 households）")
    return gaps


def not_in_force(template: ListTemplate, place: Jurisdiction, on: date) -> str | None:
    """Why a list is no longer posted at ``place`` (its sources all ``optional`` steps the diagrams in force there
    on ``on`` do not have: 江西 has no township publicity since 2023, 001 Q42), in words; None where it is. Such a
    list holds only the households that went through the step under an earlier diagram."""
    if not template.sources or not all(s.optional and s.form for s in template.sources):
        return None
    for source in template.sources:
        version = requirements(source.procedure, place, on).version
        if version is None or diagram_needs(tuple(f["sha256"] for f in version.files)).has_step(source.form,
                                                                                                  source.step):
            return None
    level = JurisdictionLevel.label_of(template.level)
    return (f"{place.full_name}现行的{LABELS.get(template.stage, template.stage)}流程（{version.name}）没有{level}级"
            f"{template.kind}，不再生成本{template.kind}及其{template.kind}期；名单只列此前按设有{level}级{template.kind}的"
            f"流程张贴过的农户。")


@dataclass(frozen=True)
class SourceGap:
    place: Jurisdiction
    template: ListTemplate
    gaps: tuple[str, ...]


def list_source_gaps(on: date, scope: Jurisdiction | None = None) -> list[SourceGap]:
    """名单来源检查: at every place the configuration check looks at (engine.policy.check.places_to_check), the
    lists whose sources name steps its diagrams in force lack (:func:`source_gaps`); each procedure's version
    resolved once per place."""
    found = []
    for place in places_to_check(scope):
        versions = functools.cache(lambda procedure, place=place: requirements(procedure, place, on).version)
        found += [SourceGap(place, template, tuple(gaps)) for template in templates().values()
                  if (gaps := source_gaps(template, place, on, versions))]
    return found


READERS: dict[str, Callable[[Jurisdiction, Source], list[Entry]]] = {
    "step": step_entries, "approval": approved_entries, "status": status_entries, "plan": plan_entries,
}


def _posting_sources() -> list[tuple[ListTemplate, Source]]:
    return [(t, s) for t in templates().values() for s in t.sources if s.posting_steps]


def can_pend(template: ListTemplate) -> bool:
    """Can ``template`` list only what is to be posted now (``pending``): it has a source posted by a step."""
    return any(s.posting_steps for s in template.sources)


def _ready_posting_steps(place: Jurisdiction, source: Source) -> list[HumanTask]:
    """The ready steps that post the source's households in ``place`` (and below), wherever they are done (the
    county's 公告, the township's, the village's 张贴), with their cases and households: what is to be posted now."""
    forms = sorted({form for form, _ in source.posting_steps})
    rows = db.session.scalars(
        select(HumanTask).join(HumanTask.case)
        .where(HumanTask.state == "READY", HumanTask.procedure == source.procedure,
               Case.jurisdiction_path.startswith(place.path), HumanTask.form.in_(forms))
        .options(contains_eager(HumanTask.case).selectinload(Case.household).options(
            selectinload(Household.members), selectinload(Household.village)))
        .order_by(HumanTask.id))
    return [row for row in rows if source.posts(row)]


def pending_entries(place: Jurisdiction, source: Source) -> list[Entry]:
    """The households in ``place`` (and below) a step still to be done posts: an announcement's approvals whose 公告
    step is ready; the households whose own posting step (张贴村级公示) is ready, not yet dated (the day they are
    posted is the day the sheet is signed)."""
    ready = _ready_posting_steps(place, source)
    if source.kind == "approval":
        return approved_entries(place, source, {row.case_id for row in ready})
    return [Entry(row.case.household, row.case_id, None, procedure=source.procedure)
            for row in ready if row.case.household is not None]


def entries_for(template: ListTemplate, place: Jurisdiction, start: date | None = None,
                end: date | None = None, pending: bool = False) -> tuple[list[Entry], str | None]:
    """(the households on the list, one entry each — the latest — ; a note when the list has no source). With
    ``pending`` (a template that :func:`can_pend`), only the households a step still to be done posts: those to
    be posted now."""
    if not template.sources:
        return [], NO_SOURCE_NOTE
    if pending and can_pend(template):
        found = [e for s in template.sources if s.posting_steps for e in pending_entries(place, s)]
    else:
        found = [e for s in template.sources for e in READERS[s.kind](place, s)]
    latest: dict[int, Entry] = {}
    for entry in found:
        undated_pending = pending and entry.on is None  # to be posted: no date of its own yet
        if not undated_pending and ((start and (entry.on is None or entry.on < start))
                                    or (end and (entry.on is None or entry.on > end))):
            continue
        latest[entry.household.id] = entry
    ordered = sorted(latest.values(), key=lambda e: (e.household.village.path, e.household.group_name or "",
                                                     e.household.number))
    return ordered, None


def proposed_modes(case_ids: Iterable[int]) -> dict[int, str | None]:
    """case id → the elimination mode (帮扶消除/自然消除) the elimination case was opened with (its opening record),
    of all the cases in one statement."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id.in_(ids), AuditEvent.action == "case_opened")
                                .order_by(AuditEvent.id))
    modes: dict[int, str | None] = {}
    for event in events:  # a case's first opening record
        modes.setdefault(event.case_id, ((event.detail or {}).get("application") or {}).get("mode"))
    return modes


# ---------------------------------------------------------------- rows


@dataclass(frozen=True)
class PrintCell:
    text: str
    rowspan: int = 1
    member: bool = False  # a per-member cell (姓名, 与户主关系)


@dataclass(frozen=True)
class PrintRow:
    """A printed row: ``number`` (序号) and ``span`` are set on the first row of each household."""

    cells: list[PrintCell]
    number: int | None = None
    span: int = 1


@dataclass
class RowContext:
    household: Household
    figures: IncomeFigures | None
    category: str | None
    plan: PlanSummary | None
    column_codes: frozenset[str]
    elimination: bool = False
    mode: str | None = None  # 风险消除方式: the household's, or the one its elimination case proposes
    member: Member | None = None
    decided_on: date | None = None  # the county's decision of a case still running (the date to be marked)


def _measure_cell(ctx: RowContext, code: str | None) -> str:
    return "、".join(ctx.plan.items_for(code)) if ctx.plan and code else ""


def _other_measures(ctx: RowContext) -> str:
    """Measures with no column of their own (e.g. A46 义务教育保障, A50 搬迁) — category and item only."""
    if not ctx.plan:
        return ""
    return "；".join(m.text for m in ctx.plan.measures if m.code not in ctx.column_codes)


HOUSEHOLD_VALUES: dict[str, Callable[[RowContext], Any]] = {
    "address.township": lambda c: place_names(c.household.village)[0],
    "address.village": lambda c: place_names(c.household.village)[1],
    "address.group": lambda c: c.household.group_name,
    "household_size": lambda c: c.household.size,
    "risk_types": lambda c: risk_text(c.household.risk_types),
    "category": lambda c: category_name(c.category),
    "elimination_mode": lambda c: EliminationMode.label_of(c.mode),
    "elimination_date": lambda c: c.household.elimination_date or (c.decided_on if c.elimination else None),
}
MEMBER_VALUES: dict[str, Callable[[Member], Any]] = {
    "name": lambda m: m.name,
    "relation_to_head": lambda m: m.relation_to_head,
}
HEADER_VALUES: dict[str, Callable[[RowContext], Any]] = {  # columns without a form field that are not free text
    "识别纳入时间": lambda c: c.household.identified_on or (None if c.elimination else c.decided_on),
    "帮扶措施及成效说明": _other_measures,
    "研判结果": lambda c: "符合风险消除条件" if c.elimination else "",  # checked when the case was opened
}


def cell_value(column: Column, ctx: RowContext) -> str:
    """The printed value of a (public) column; only whitelisted, non-private data is ever read."""
    key = column.form_key
    if key in MEMBER_VALUES:
        value = MEMBER_VALUES[key](ctx.member) if ctx.member else ""
    elif key in HOUSEHOLD_VALUES:
        value = HOUSEHOLD_VALUES[key](ctx)
    elif key in INCOME_KEYS:
        value = money(getattr(ctx.figures, key)) if ctx.figures else ""  # the entry's own procedure's income
    elif column.code in _measure_column_codes():
        value = _measure_cell(ctx, column.code)
    elif key is None and column.header in HEADER_VALUES:
        value = HEADER_VALUES[column.header](ctx)
    else:
        value = ""  # free text (风险说明, 研判结果 …) is written by hand
    return "" if value is None else str(value)


def household_rows(columns: tuple[Column, ...], ctx: RowContext, number: int) -> list[PrintRow]:
    """One row per member living with the household; household cells span all of them (merged cells)."""
    members = [m for m in ctx.household.members if m.lives_with_household] or [None]
    rows = []
    for index, member in enumerate(members):
        ctx.member = member
        cells = [PrintCell(cell_value(c, ctx), 1 if c.member_scope else len(members), c.member_scope)
                 for c in columns if c.member_scope or index == 0]
        rows.append(PrintRow(cells, number, len(members)) if index == 0 else PrintRow(cells))
    return rows


def _verifications(case_ids: list[int]) -> dict[int, HumanTask]:
    """case id → its latest completed household verification (入户核实: the step whose form records the verified
    household, ``x-records`` household_size), of all the cases in one statement."""
    if not case_ids:
        return {}
    rows = db.session.scalars(select(HumanTask).where(
        HumanTask.case_id.in_(case_ids), HumanTask.form.in_(forms_recording(FormRecord.HOUSEHOLD_SIZE)),
        HumanTask.state == "COMPLETED").order_by(HumanTask.id))
    return {task.case_id: task for task in rows}  # the latest wins


def _case_versions(case_ids: list[int]) -> dict[int, ProcessVersion]:
    """case id → the process version the case was deployed with, in one statement."""
    if not case_ids:
        return {}
    rows = db.session.execute(select(Case.id, ProcessVersion)
                              .join(ProcessVersion, Case.process_version_id == ProcessVersion.id)
                              .where(Case.id.in_(case_ids)))
    return {case_id: version for case_id, version in rows}


def proposed_categories(households: Iterable[tuple[Household, int | None, IncomeFigures | None]]
                        ) -> dict[int, str | None]:
    """Household id → its category, for each (household, its case, the case's income): the household's, once
    identified; before that, the one the verification assessed (the decision table the case was deployed with,
    applied to the verified facts, as :func:`engine.identification.classification.measure_household` measures
    them in a case), or None if it cannot be told. The verifications and the cases' versions of all the
    households are read in one statement each; the monitoring lines once per province and year, the decision
    tables once per version — however many households there are."""
    asked = list(households)
    open_ids = [case_id for household, case_id, income in asked
                if not (household.category or case_id is None or income is None)]
    verified = _verifications(open_ids)
    versions = _case_versions([case_id for case_id in open_ids if case_id in verified])
    lines: dict[tuple[Any, ...], Decimal | FangpinError] = {}
    tables: dict[int, list[DiagramSource]] = {}

    def line_of(place: Jurisdiction, year: int) -> Decimal:  # monitoring_line depends on the province alone
        province = place.ancestor_at(JurisdictionLevel.PROVINCE)
        key = ("province", province.id, year) if province else ("place", place.id, year)
        if key not in lines:
            try:
                lines[key] = monitoring_line(place, year)
            except FangpinError as exc:
                lines[key] = exc
        found = lines[key]
        if isinstance(found, FangpinError):
            raise found
        return found

    def tables_for(version: ProcessVersion) -> list[DiagramSource]:
        if version.id not in tables:
            tables[version.id] = tables_of(version)
        return tables[version.id]

    categories: dict[int, str | None] = {}
    for household, case_id, income in asked:
        if household.category or case_id is None or income is None:
            categories[household.id] = household.category
            continue
        task = verified.get(case_id)
        if task is None:
            categories[household.id] = None
            continue
        data = task.form_data or {}
        try:
            line = line_of(household.village, to_local_date(task.completed_at).year)
            inputs = {**dataclasses.asdict(income),
                      SHARPLY_REDUCED: (data.get("income") or {}).get(SHARPLY_REDUCED)}  # the form's, not the record's
            _, facts = measure_household(
                inputs, list(data.get("risk_types") or household.risk_types or []),
                data.get("exclusions"), data.get("guarantees"), line=line, formerly_poor=household.is_formerly_poor,
                default_size=income.household_size)
            categories[household.id] = classify(facts, tables_for(versions[case_id])).category
        except (FangpinError, ValueError):
            categories[household.id] = None
    return categories


# ---------------------------------------------------------------- the printable list


@dataclass(frozen=True)
class Sheet:
    """One printed publicity (一张公示、公告): the households posted on one day, with that posting's period, its
    objection period, and that day as the date it is signed (落款) — a list whose households were posted on
    different days is printed as one sheet per day, never one period for all."""

    on: date | None  # the day its households were (or are to be) posted; None: households without a date
    rows: list[PrintRow]
    households: int
    period: str  # "公示期：…" ("" without a date)
    objection: str | None
    signed_on: date
    income_notes: str


@dataclass(frozen=True)
class PublicityList:
    template: ListTemplate
    place: Jurisdiction
    title: str
    list_title: str
    issuer: str
    supervision_phone: str | None  # what follows "监督电话：" (the template's numbers and the place's own)
    columns: tuple[Column, ...]
    sheets: list[Sheet]  # the latest posting first
    note: str | None
    pending: bool = False  # only what is to be posted now (one sheet, signed today)
    free_text_note: str = FREE_TEXT_NOTE
    warnings: list[str] = field(default_factory=list)
    scope_note: str | None = None  # the place's diagrams in force no longer have this publicity (:func:`not_in_force`)

    @property
    def households(self) -> int:
        return sum(sheet.households for sheet in self.sheets)

    @property
    def rows(self) -> list[PrintRow]:
        return [row for sheet in self.sheets for row in sheet.rows]


def _period(template: ListTemplate, on: date | None, entries: list[Entry], days: int) -> tuple[str, int | None]:
    """("公示期：… 张贴，至 … 止", its days) of the households posted on ``on`` — to the end of their recorded
    publicity timers, else ``days`` after it; ("", None) without a date."""
    if on is None:
        return "", None
    end = max((e.period_end or on + timedelta(days=days) for e in entries), default=on + timedelta(days=days))
    label = "公告" if template.kind == "公告" else "公示"
    return f"{label}期：{on} 张贴，至 {end} 24:00 止（起始日不计入）", (end - on).days


def _days_in_force(template: ListTemplate, place: Jurisdiction, on: date) -> int | None:
    """The days of the template's publicity (公告) as the policy in force at ``place`` says them
    (``<stage>.<level>_publicity_days``, ``<stage>.announcement_days``), for a list with no recorded period yet;
    None where none is configured (the template's own days are printed then)."""
    name = "announcement_days" if template.kind == "公告" else f"{template.level}_publicity_days"
    try:
        return int(resolve(f"{template.stage}.{name}", place, on))
    except (PolicyMissing, TypeError, ValueError):
        return None


def _income_notes(template: ListTemplate, place: Jurisdiction, year: int, warnings: list[str]) -> str:
    """The template's income notes with the monitoring line in force instead of the 2021 figure printed in it."""
    notes = template.income_notes
    if "6000元" not in notes:
        return notes
    try:
        line = monitoring_line(place, year)
    except FangpinError as exc:
        warnings.append(f"{exc}；收入指标说明中的“6000元”为模版原文（2021年标准）。")
        return notes
    return notes.replace("6000元", f"{line:.0f}元（{year}年监测范围）")


def issuing_county(place: Jurisdiction, entries: list[Entry]) -> Jurisdiction | None:
    """The county whose name and authority a list prints: the place's own, or — for a place above a county —
    the one county all its households belong to (None when they belong to several, or there are none)."""
    county = place.ancestor_at(JurisdictionLevel.COUNTY)
    if county is not None:
        return county
    depth = LEVELS.index(JurisdictionLevel.COUNTY)  # a place's path holds its ancestors' codes: the county's without a query each
    codes = {parts[depth] for parts in (e.household.village.path.strip("/").split("/") for e in entries)
             if len(parts) > depth}
    if len(codes) != 1:
        return None
    return db.session.scalar(select(Jurisdiction).filter_by(code=codes.pop()))


def issuing_authority(place: Jurisdiction, on: date) -> str | None:
    """The authority a household of ``place`` is written to in the name of (落款) — its county's, as on the county's
    announcements (policy ``publicity.issuer``) — on ``on``; None where that is not configured (``fangpin policy
    check`` names it)."""
    read_in_force(place, on)  # the place's own parameters with its county's: what else the transaction resolves there
    found = requirements(PUBLICITY, place.ancestor_at(JurisdictionLevel.COUNTY) or place, on)
    return str(found.values[ISSUER]) if ISSUER in found.values else None


def _issuer(template: ListTemplate, place: Jurisdiction, county: Jurisdiction | None, today: date,
            warnings: list[str]) -> str:
    """Who signs the list (落款): a county announcement is issued in the name of the household's county's
    authority (policy ``publicity.issuer``), never the template's; the other levels fill the template's blanks."""
    if template.level != JurisdictionLevel.COUNTY:
        return fill_names(template.issuer, place, county)
    if county is None:
        warnings.append("名单中的农户分属多个县（区）或尚无农户：县级公告由各县（区）分别发布，请进入对应的县（区）打印。")
        return f"{BLANK}（盖章）"
    found = requirements(PUBLICITY, county, today)
    warnings.extend(f"{county.full_name}{m}，落款请手工填写。" for m in found.missing)
    return str(found.values[ISSUER]) if ISSUER in found.values else f"{BLANK}（盖章）"


PHONE_BLANK = "________________"  # a telephone number left to be written by hand
PHONE_KEY = "publicity.{level}_supervision_phone"  # the place's own number printed after 监督电话


def supervision_phone(template: ListTemplate, place: Jurisdiction, today: date, warnings: list[str]) -> str | None:
    """What a list prints after "监督电话：": the template's fixed numbers (12317) and the number of the place whose
    list it is (村书记联系电话, 镇街乡村振兴工作站电话: policy ``publicity.<level>_supervision_phone``, set by place) —
    a blank line to fill in by hand where none is entered, never the template's words; None for a template
    without one. Officials' numbers only: no household's phone is ever read here."""
    phone = template.supervision_phone
    if phone is None:
        return None
    key = PHONE_KEY.format(level=template.level)
    where = place.ancestor_at(template.level)
    number = None
    if where is not None:
        try:
            number = str(resolve(key, where, today)).strip() or None
        except PolicyMissing:
            number = None
    if number is None:
        level = JurisdictionLevel.label_of(template.level)
        whose = f"{where.full_name}的{phone.local}" if where is not None else f"{phone.local}（名单含多个{level}的农户）"
        warnings.append(f"{whose}未填写，监督电话处已留空：请打印后手工填写，或请政策管理员在“政策参数”页的"
                        f"“公示公告 · {level}级公示监督电话”中按{level}填写。")
    return "、".join([*phone.numbers, number or PHONE_BLANK])


def _sheet_groups(entries: list[Entry], pending: bool, today: date) -> list[tuple[date | None, list[Entry]]]:
    """The entries by the day they were posted, the latest first (households without a date last); all of them on
    one sheet of today when they are to be posted now (``pending``)."""
    if pending:
        return [(today, entries)]
    days: dict[date | None, list[Entry]] = {}
    for entry in entries:
        days.setdefault(entry.on, []).append(entry)
    return sorted(days.items(), key=lambda item: (item[0] is None, -(item[0] or today).toordinal()))


def publicity_list(template_id: str, place: Jurisdiction, today: date, start: date | None = None,
                   end: date | None = None, pending: bool = False) -> PublicityList:
    """The printable list ``template_id`` for ``place`` (and below), optionally for dates ``start``–``end`` (and
    only the households a step still to be done posts — an announcement's 公告, a village's 张贴 — with
    ``pending``): one sheet per posting day, each with its period and signed on that day (:class:`Sheet`); names
    and the county announcement's authority are those of the households' own county."""
    template = get_template(template_id)
    pending = pending and can_pend(template)
    entries, note = entries_for(template, place, start, end, pending)
    procedure = entries[0].procedure if entries else "identification"
    # what the rows show, read for all the entries at once: a county announcement lists hundreds of households
    load_ancestors({e.household.village for e in entries})  # their townships' names, of many villages
    incomes = latest_incomes((e.household.id for e in entries if e.case_id is None), procedure)
    of_cases = case_incomes((e.case_id for e in entries if e.case_id),  # as posted: not what was recorded since
                            {e.case_id: e.as_of for e in entries if e.case_id})
    shown = {id(e): figures(of_cases.get(e.case_id) if e.case_id else incomes.get(e.household.id)) for e in entries}
    categories = proposed_categories((e.household, e.case_id, shown[id(e)]) for e in entries if not e.category)
    modes = proposed_modes(e.case_id for e in entries
                           if e.procedure == "elimination" and not e.household.elimination_mode and e.case_id)
    codes = frozenset(c.code for c in template.columns if c.code)
    county = issuing_county(place, entries)
    objection = template.objection and fill_names(template.objection, place, county)
    warnings = source_gaps(template, place, today)
    notes: dict[int, str] = {}  # year → the income notes of its monitoring line (a warning once per year)

    def sheet(on: date | None, posted: list[Entry]) -> Sheet:
        rows: list[PrintRow] = []
        for number, entry in enumerate(posted, start=1):
            elimination = entry.procedure == "elimination"
            ctx = RowContext(entry.household, shown[id(entry)], entry.category or categories[entry.household.id],
                             entry.plan, codes, elimination,
                             entry.household.elimination_mode or (modes.get(entry.case_id) if elimination else None),
                             decided_on=entry.on if entry.case_id and template.kind == "公告" else None)
            rows.extend(household_rows(template.columns, ctx, number))
        days_in_force = _days_in_force(template, place, on or today) or template.publicity_days or 0
        period, days = _period(template, on, [] if pending else posted, days_in_force)
        year = (on or today).year
        if year not in notes:
            notes[year] = _income_notes(template, place, year, warnings)
        shown_days = days or days_in_force
        return Sheet(on, rows, len(posted), period,
                     re.sub(r"\d+日内", f"{shown_days}日内", objection) if objection and shown_days else objection,
                     on or today, notes[year])

    sheets = [sheet(on, posted) for on, posted in _sheet_groups(entries, pending, today)] or [sheet(None, [])]
    return PublicityList(
        template=template, place=place, title=fill_names(template.title, place, county),
        list_title=fill_names(template.list_title, place, county),
        issuer=_issuer(template, place, county, today, warnings),
        supervision_phone=supervision_phone(template, place, today, warnings),
        columns=template.columns, sheets=sheets, note=note if not entries else None, pending=pending,
        warnings=warnings, scope_note=not_in_force(template, place, today),
    )


@dataclass(frozen=True)
class ListSummary:
    template: ListTemplate
    title: str  # with the place's names filled in
    households: int
    note: str | None


NOT_IN_FORCE_NOTE = "现行流程无此公示"


def list_counts(place: Jurisdiction, on: date) -> list[ListSummary]:
    """Every template with the number of households it would list for ``place`` (and its note if empty: no
    source, or no such publicity in the diagrams in force on ``on``)."""
    out = []
    for template in templates().values():
        entries, note = entries_for(template, place)
        if not entries and note is None and not_in_force(template, place, on):
            note = NOT_IN_FORCE_NOTE
        out.append(ListSummary(template, fill_names(template.title, place), len(entries), note))
    return out


# ---------------------------------------------------------------- the list a posting step (公告, 张贴) posts


@dataclass(frozen=True)
class PostedHousehold:
    number: str
    head: str
    village: str
    decided_on: date | None  # an announcement's: the county's decision
    this_case: bool


@dataclass(frozen=True)
class StepPosting:
    """What a posting step posts — a county announcement (公告) or a village publicity (张贴村级公示): the list's
    template, the place it is printed for, and the households whose posting step is ready there — this step's own
    household among them."""

    template_id: str
    kind: str  # 公告 or 公示
    title: str
    place_code: str
    households: tuple[PostedHousehold, ...]


def announcement_template(procedure: str) -> ListTemplate | None:
    """The county announcement (县级公告) template of ``procedure``'s stage, if the seed has one."""
    return next((t for t in templates().values() if t.stage == procedure and t.kind == "公告"), None)


def approved_not_yet_monitored(place: Jurisdiction) -> list[Entry]:
    """The households of ``place`` (and below) the county approved (县级审定 通过) whose identification is still
    running — its later steps (the assistance plan, the announcement, the system entry) not all done — and so not
    yet monitored: the county announcement's approvals (its template's ``approval`` source), in the list's order."""
    template = announcement_template(Procedure.IDENTIFICATION.value)
    if template is None:
        return []
    found = {e.household.id: e for s in template.sources if s.kind == "approval" for e in approved_entries(place, s)
             if e.household.status != HouseholdStatus.MONITORED}
    return sorted(found.values(), key=lambda e: (e.household.village.path, e.household.number))


def step_posting(row: HumanTask) -> StepPosting | None:
    """For a posting step (one a template's source names: :attr:`Source.posting_steps`): the list it posts, for the step's jurisdiction (the households
    whose same step is ready there, to be posted together); None for any other step."""
    template = next((t for t, source in _posting_sources() if source.posts(row)), None)
    place = db.session.get(Jurisdiction, row.jurisdiction_id)
    if template is None or place is None:
        return None
    entries, _ = entries_for(template, place, pending=True)
    shown = tuple(PostedHousehold(e.household.number, e.household.head.name if e.household.head else "",
                                  e.household.village.full_name, e.on, e.case_id == row.case_id) for e in entries)
    county = issuing_county(place, entries)
    return StepPosting(template.id, template.kind, fill_names(template.title, place, county), place.code, shown)
