"""Case pages (案件): the case list of my jurisdiction with filters, the case page (household, steps
with their data, timeline, deadlines with their explanation, publicity), opening an identification
(立案), starting the other procedures for a household (green channel, natural member change, risk
elimination, rollback or removal), registering a household (农户登记) or many from a file (农户批量导入), and ending a publicity or recording an
objection (异议).
Queries and rules live in ``engine.cases.views`` and ``engine.cases.lifecycle``; a user sees only cases in their
jurisdiction and below (403 otherwise)."""
from __future__ import annotations

import logging
from datetime import date
from typing import Any

from flask import Blueprint, Flask, abort, current_app, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from engine.app import get_clock
from engine.bpmn.forms import load_form
from engine.cases.diagram_state import diagram_markers, main_diagram
from engine.cases.household_import import import_households
from engine.cases.lifecycle import (
    BACKFILL_REASON,
    close_publicity,
    late_lead_days,
    may_do,
    open_identification,
    raise_objection,
)
from engine.cases.starting import STARTS, start_for_household, start_hint, startable
from engine.cases.views import (
    STATUS_FILTERS,
    CaseQuery,
    case_record,
    count_cases,
    household_by_number,
    households_with_status,
    open_candidates,
    places_below,
    search_cases,
    status_text,
    villages_below,
)
from engine.core.errors import FangpinError, FormInvalid, PermissionDenied
from engine.core.vocabulary import (
    IDENTIFICATION_CHANNELS,
    CaseOutcome,
    CaseStatus,
    Channel,
    CorrectionKind,
    EliminationMode,
    Procedure,
)
from engine.households.attention import key_attention_households
from engine.households.importing import ImportRefused, Problem, columns, explanations, template_xlsx
from engine.households.register import REGISTRATION_FORM, register_household
from engine.policy.permissions import may_open, may_register
from timers.calendar import to_local_date

from .auth import login_required, roles_required, visible_case, visible_jurisdiction, within
from .formrender import Field, errors_by_field, fields_of, parse, refusal_errors, table_rows
from .security import attachment, parse_id

log = logging.getLogger(__name__)
bp = Blueprint("cases", __name__)
PAGE_SIZE = 25
CASE_WORKERS = ("village_cadre", "township_officer", "county_officer")  # act on publicity, see key attention
TEXT_LIMIT = 500
OPENING_CHANNELS = {c.value: c.label for c in IDENTIFICATION_CHANNELS}  # 立案's choices: those an identification
# opens on, most common first (the other channels are those of procedures started otherwise: 绿色通道 …)


def register(app: Flask) -> None:
    """Called by ``web.create_app``."""
    app.register_blueprint(bp)


# -- the case list --------------------------------------------------------------------------------


@bp.get("/cases")
@login_required
def search() -> str:
    """案件查询: cases in my jurisdiction (or a place below it), newest first, keyset pages."""
    place = visible_jurisdiction(request.args.get("place") or None)
    status = request.args.get("status", "")
    procedure = request.args.get("procedure", "")
    query = CaseQuery(place, text=request.args.get("q", "")[:50], status=status if status in STATUS_FILTERS else "",
                      procedure=procedure if procedure in Procedure.labels() else "")
    now = get_clock().now()
    after = parse_id(request.args.get("after") or "")  # the previous page's last case id
    rows = search_cases(query, now, limit=PAGE_SIZE + 1, after=str(after) if after else None)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return render_template("cases/search.html", rows=rows, total=count_cases(query, now), query=query,
                           places=places_below(g.user.jurisdiction), statuses=STATUS_FILTERS,
                           procedures=Procedure.labels(), next_cursor=rows[-1].cursor if more and rows else None,
                           status_names=CaseStatus.labels(), outcomes=CaseOutcome.labels(),
                           can_open=may_open(g.user, Procedure.IDENTIFICATION), can_register=may_register(g.user),
                           startable=_startable())


def _is_case_worker() -> bool:
    return bool(set(CASE_WORKERS) & set(g.user.roles))


# -- one case -------------------------------------------------------------------------------------


@bp.get("/cases/<int:case_id>")
@login_required
def case_page(case_id: int) -> str:
    """案件详情: everything about one case, read only except the publicity actions."""
    case = visible_case(case_id)
    record = case_record(case.id, get_clock())
    return render_template("cases/case.html", r=record, case=record.case, status_text=status_text(record.case),
                           markers=diagram_markers(record.case),
                           channels=Channel.labels(),
                           procedures=Procedure.labels(), can_act=_can_act, can_work=_is_case_worker())


@bp.get("/cases/<int:case_id>/diagram.bpmn")
@login_required
def diagram(case_id: int) -> Response:
    """The case's diagram, byte for byte as deployed (the viewer on the case page draws it)."""
    name, content = main_diagram(visible_case(case_id))
    return attachment(content, "application/xml", name)  # never rendered by the browser (uploaded XML)


def _can_act(task: Any) -> bool:
    """May the current user open this task's form (its role, in its place, of their department)?"""
    return may_do(g.user, task)


@bp.post("/cases/<int:case_id>/publicity/close")
@roles_required(*CASE_WORKERS)
def end_publicity(case_id: int) -> Response:
    """结束公示: only once the publicity period is over (the engine refuses earlier)."""
    case = visible_case(case_id)
    try:
        close_publicity(case.id, g.user.username, get_clock())
    except FangpinError as exc:
        flash(str(exc), "error")
    else:
        flash("公示已结束，案件进入下一步。", "ok")
    return redirect(url_for("cases.case_page", case_id=case.id))


@bp.post("/cases/<int:case_id>/objection")
@roles_required(*CASE_WORKERS)
def objection(case_id: int) -> Response:
    """登记异议: an objection raised during the publicity, recorded by an official."""
    case = visible_case(case_id)
    text = request.form.get("text", "").strip()[:TEXT_LIMIT]
    raised_by = request.form.get("raised_by", "").strip()[:100]
    if not text or not raised_by:
        flash("请填写异议内容和提出人。", "error")
        return redirect(url_for("cases.case_page", case_id=case.id))
    try:
        raise_objection(case.id, text, raised_by, g.user.username, get_clock())
    except FangpinError as exc:
        flash(str(exc), "error")
    else:
        flash("异议已登记，待乡镇核实。", "ok")
    return redirect(url_for("cases.case_page", case_id=case.id))


# -- opening an identification --------------------------------------------------------------------


@bp.route("/cases/new", methods=["GET", "POST"])
@login_required
def new() -> Any:
    """立案: open an identification case for a household in my jurisdiction (who may: policy/roles.json
    ``opens``)."""
    if not may_open(g.user, Procedure.IDENTIFICATION):
        abort(403)
    today = to_local_date(get_clock().now())
    values = {"household": request.args.get("household", ""), "channel": "", "lead_date": today.isoformat(),
              "channel_detail": "", BACKFILL_REASON: ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {k: request.form.get(k, "").strip()[:TEXT_LIMIT] for k in values}
        errors, opened = _open(values)
        if opened is not None:
            flash(f"已立案：{opened.number}", "ok")
            return redirect(url_for("cases.case_page", case_id=opened.id))
    return render_template("cases/new.html", values=values, errors=errors, channels=OPENING_CHANNELS, today=today,
                           candidates=open_candidates(g.user.jurisdiction), late_days=_late_lead_days(today)
                           ), (422 if errors else 200)


def _late_lead_days(today: date) -> int | None:
    """How long ago a lead may have been found without a 补录说明 in my jurisdiction (None: no policy for it)."""
    try:
        return late_lead_days(g.user.jurisdiction, today)
    except FangpinError:
        return None


def _open(values: dict[str, str]) -> tuple[dict[str, str], Any]:
    """Open the case from the posted values: ({}, case), or ({field: reason}, None)."""
    errors: dict[str, str] = {}
    household = None
    if not values["household"]:
        errors["household"] = "请填写户编号"
    else:
        try:
            household = household_by_number(values["household"])
        except FangpinError as exc:
            errors["household"] = str(exc)
    if household is not None and not within(household.village.path):
        abort(403)
    if values["channel"] not in OPENING_CHANNELS:
        errors["channel"] = "请选择发现渠道"
    try:
        lead_date = date.fromisoformat(values["lead_date"])
    except ValueError:
        errors["lead_date"] = "请填写发现日期（年-月-日）"
    if errors:
        return errors, None
    application = {k: values[k] for k in ("channel_detail", BACKFILL_REASON) if values[k]} or None
    try:
        case = open_identification(household.id, values["channel"], lead_date, g.user.username, get_clock(),
                                   application)
    except FangpinError as exc:
        return refusal_errors(exc, values), None
    log.info("%s opened case %s for household %s", g.user.username, case.number, household.number)
    return {}, case


# -- starting another procedure for a household ---------------------------------------------------


def _startable() -> dict[str, str]:
    """The procedures the current user may start (procedure → title), for the case list's buttons."""
    return startable(g.user)


@bp.route("/cases/start/<procedure>", methods=["GET", "POST"])
@login_required
def start(procedure: str) -> Any:
    """发起: start the green channel, a natural member change, risk elimination, a rollback or removal or the
    classification of a 脱贫 household, for a household of my jurisdiction (who may start what:
    policy/roles.json ``opens``; engine.cases.starting)."""
    spec = STARTS.get(procedure)
    if spec is None:
        abort(404)
    if not may_open(g.user, procedure):
        abort(403)
    clock = get_clock()
    today = to_local_date(clock.now())
    values = {"household": request.args.get("household", ""), "hardship": "", "changed_on": today.isoformat(),
              "mode": EliminationMode.ASSISTED.value, "kind": CorrectionKind.ROLLBACK.value}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {k: request.form.get(k, "").strip()[:TEXT_LIMIT] for k in values}
        try:
            started = start_for_household(g.user, procedure, values, clock)
        except FormInvalid as exc:
            errors = dict(exc.errors)
        except PermissionDenied:
            abort(403)
        except FangpinError as exc:
            errors = refusal_errors(exc, values)
        else:
            flash(f"已{spec.title}：{started.number}", "ok")
            return redirect(url_for("cases.case_page", case_id=started.id))
    candidates = households_with_status(g.user.jurisdiction, spec.statuses)
    return render_template("cases/start.html", procedure=procedure, spec=spec, values=values, errors=errors,
                           hint=start_hint(procedure, g.user.jurisdiction, today), today=today,
                           modes=EliminationMode.labels(), kinds=CorrectionKind.labels(),
                           candidates=candidates), (422 if errors else 200)


# -- registering a household ----------------------------------------------------------------------


@bp.get("/households/attention")
@roles_required(*CASE_WORKERS, "city_officer", "province_officer", "supervisor")
def attention() -> str:
    """重点关注户: the households my jurisdiction (or a place below it) visits as key attention each month."""
    place = visible_jurisdiction(request.args.get("place") or None)
    return render_template("cases/attention.html", entries=key_attention_households(place), place=place,
                           places=places_below(g.user.jurisdiction))


@bp.route("/households/new", methods=["GET", "POST"])
@login_required
def new_household() -> Any:
    """农户登记: register a household and its members in a village of my jurisdiction, then open its case (who may:
    policy/roles.json ``registers_households``)."""
    if not may_register(g.user):
        abort(403)
    schema = load_form(REGISTRATION_FORM)
    fields = _registration_fields(schema)
    villages = next(f for f in fields if f.name == "village").choices
    values: dict[str, Any] = {"village": villages[0][0] if len(villages) == 1 else ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = parse(fields, request.form)
        if values.get("village"):
            visible_jurisdiction(values["village"])  # 403 outside my jurisdiction
        try:
            household = register_household(values, g.user.username, get_clock())
        except FormInvalid as exc:
            errors = errors_by_field(exc.errors, fields)
        except FangpinError as exc:
            errors = refusal_errors(exc, (f.name for f in fields))
        else:
            flash(f"已登记农户 {household.number}，请立案。", "ok")
            return redirect(url_for("cases.new", household=household.number))
        flash("表单有误，请按提示修改；未保存任何内容。", "error")
    return render_template("cases/household.html", schema=schema, fields=fields, values=values, errors=errors,
                           table_rows=table_rows), (422 if errors else 200)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/households/import", methods=["GET", "POST"])
@login_required
def import_households_page() -> Any:
    """农户批量导入: an .xlsx or UTF-8 CSV file of households and their members in villages of my jurisdiction,
    imported whole or not at all (who may: those who register households, policy/roles.json
    ``registers_households``); 仅校验 checks it only."""
    if not may_register(g.user):
        abort(403)
    problems: list[Problem] = []
    total, result = 0, None
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            problems = [Problem(0, "文件", "请选择要导入的 Excel（.xlsx）或 CSV（UTF-8）文件")]
        else:
            try:
                result = import_households(upload.filename, upload.read(), g.user.username, get_clock(),
                                           dry_run=bool(request.form.get("dry_run")))
            except ImportRefused as exc:
                problems, total = exc.problems, exc.total
            except FangpinError as exc:
                problems = [Problem(0, "", str(exc))]
        total = total or len(problems)
        if result is not None:
            flash(result.text(), "ok")
    return render_template("cases/import.html", problems=problems, total=total, result=result, columns=columns(),
                           explanations=explanations(), limit=current_app.config.get("MAX_CONTENT_LENGTH")
                           ), (422 if problems else 200)


@bp.get("/households/import/template.xlsx")
@login_required
def import_template() -> Response:
    """The import template (导入模板), made from the registration form."""
    if not may_register(g.user):
        abort(403)
    return attachment(template_xlsx(), XLSX, "农户导入模板.xlsx")


def _registration_fields(schema: dict[str, Any]) -> list[Field]:
    """The registration form, with the village chosen from the villages of my jurisdiction."""
    fields = fields_of(schema)
    choices = [(v.code, v.full_name) for v in villages_below(g.user.jurisdiction)]
    for f in fields:
        if f.name == "village":
            f.kind, f.choices, f.title = "choice", choices, "所在村"
    return fields
