"""Case pages (案件): the case list of my jurisdiction with filters, the case page (household, steps
with their data, timeline, deadlines with their explanation, publicity), opening an identification
(立案), starting the other procedures for a household (green channel, natural member change, risk
elimination, rollback or removal), registering a household (农户登记), and ending a publicity or recording an
objection (异议).
Queries and rules live in ``engine.cases.views`` and ``engine.cases.lifecycle``; a user sees only cases in their
jurisdiction and below (403 otherwise)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, Flask, abort, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from engine.app import get_clock
from engine.bpmn.forms import load_form
from engine.cases.diagram_state import diagram_markers, main_diagram
from engine.cases.lifecycle import (
    close_publicity,
    open_correction,
    open_elimination,
    open_green_channel,
    open_identification,
    open_member_change,
    open_poverty_policy,
    raise_objection,
)
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
from engine.core.errors import FangpinError, FormInvalid
from engine.core.vocabulary import CaseOutcome, CaseStatus, Channel, EliminationMode, HouseholdStatus, Procedure
from engine.households.attention import key_attention_households
from engine.households.register import REGISTRATION_FORM, register_household
from timers.calendar import to_local_date

from .auth import login_required, roles_required, visible_case, visible_jurisdiction, within
from .formrender import Field, errors_by_field, fields_of, parse, table_rows
from .security import attachment, parse_id

log = logging.getLogger(__name__)
bp = Blueprint("cases", __name__)
PAGE_SIZE = 25
CASE_WORKERS = ("village_cadre", "township_officer", "county_officer")  # may open cases and act on publicity
TEXT_LIMIT = 500


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
                           status_names=CaseStatus.labels(), outcomes=CaseOutcome.labels(), can_open=_is_case_worker(),
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
    """May the current user open this task's form (its role, in its place)?"""
    return task.state == "READY" and task.role in g.user.roles and within(task.jurisdiction_path)


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
@roles_required(*CASE_WORKERS)
def new() -> Any:
    """立案: open an identification case for a household in my jurisdiction."""
    today = to_local_date(get_clock().now())
    values = {"household": request.args.get("household", ""), "channel": "", "lead_date": today.isoformat(),
              "channel_detail": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {k: request.form.get(k, "").strip()[:TEXT_LIMIT] for k in values}
        errors, opened = _open(values)
        if opened is not None:
            flash(f"已立案：{opened.number}", "ok")
            return redirect(url_for("cases.case_page", case_id=opened.id))
    return render_template("cases/new.html", values=values, errors=errors, channels=Channel.labels(), today=today,
                           candidates=open_candidates(g.user.jurisdiction)), (422 if errors else 200)


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
    if values["channel"] not in Channel.labels():
        errors["channel"] = "请选择发现渠道"
    try:
        lead_date = date.fromisoformat(values["lead_date"])
    except ValueError:
        errors["lead_date"] = "请填写发现日期（年-月-日）"
    if errors:
        return errors, None
    application = {"channel_detail": values["channel_detail"]} if values["channel_detail"] else None
    try:
        case = open_identification(household.id, values["channel"], lead_date, g.user.username, get_clock(),
                                   application)
    except FangpinError as exc:
        return {"form": str(exc)}, None
    log.info("%s opened case %s for household %s", g.user.username, case.number, household.number)
    return {}, case


# -- starting another procedure for a household ---------------------------------------------------


@dataclass(frozen=True)
class Start:
    """A procedure an official starts for one household in the browser (besides identification, :func:`new`): who
    may start it, which households are offered, and the one detail it asks for."""

    title: str  # the page's title and button
    roles: tuple[str, ...]
    statuses: tuple[str, ...] | None  # the households offered (None: every household); the engine checks again
    hint: str


START = {
    Procedure.GREEN_CHANNEL.value: Start(
        "启动绿色通道", CASE_WORKERS, (HouseholdStatus.ORDINARY, HouseholdStatus.KEY_ATTENTION, HouseholdStatus.ELIMINATED,
                                   HouseholdStatus.REMOVED),
        "因灾因病等突发严重困难、需要即时帮扶的农户，先行落实帮扶措施，一个月内核实是否符合监测对象条件（江西省问答第29条）。"),
    Procedure.MEMBER_CHANGE.value: Start(
        "登记成员自然变更", CASE_WORKERS, None,
        "出生、婚入、死亡、婚出等家庭成员自然变更，自变更之日起3个月内凭佐证材料办理（江西省问答第20条）。"),
    Procedure.ELIMINATION.value: Start(
        "发起风险消除", ("township_officer",), (HouseholdStatus.MONITORED,),
        "乡镇研判认为符合风险消除条件的监测对象；不符合的，系统逐项说明原因。"),
    Procedure.CORRECTION.value: Start(
        "申请风险消除回退或清退", ("county_officer",), (HouseholdStatus.ELIMINATED, HouseholdStatus.MONITORED),
        "识别或风险消除不精准的：已标注风险消除的户申请回退，监测对象申请清退；县级书面申请，逐级报省审定。"),
    Procedure.POVERTY_POLICY.value: Start(
        "脱贫人口分类认定", ("village_cadre",), None,
        "对脱贫享受政策户逐户摸排：存在附件2认定情形且无例外情形的，按“民主评议—乡镇审核—村级公示（5天）”程序认定为"
        "脱贫不再享受政策，12月8日前由街道（乡镇）汇总审定（004）。"),
}
CORRECTION_KINDS = {"rollback": "风险消除回退", "removal": "清退"}


def _startable() -> dict[str, str]:
    """The procedures the current user may start (procedure → title), for the case list's buttons."""
    return {key: start.title for key, start in START.items() if set(start.roles) & set(g.user.roles)}


@bp.route("/cases/start/<procedure>", methods=["GET", "POST"])
@login_required
def start(procedure: str) -> Any:
    """发起: start the green channel, a natural member change, risk elimination or a rollback or removal for a
    household of my jurisdiction."""
    spec = START.get(procedure)
    if spec is None:
        abort(404)
    if not set(spec.roles) & set(g.user.roles):
        abort(403)
    today = to_local_date(get_clock().now())
    values = {"household": request.args.get("household", ""), "hardship": "", "changed_on": today.isoformat(),
              "mode": EliminationMode.ASSISTED.value, "kind": "rollback"}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {k: request.form.get(k, "").strip()[:TEXT_LIMIT] for k in values}
        errors, started = _start(procedure, values)
        if started is not None:
            flash(f"已{spec.title}：{started.number}", "ok")
            return redirect(url_for("cases.case_page", case_id=started.id))
    candidates = households_with_status(g.user.jurisdiction, spec.statuses)
    return render_template("cases/start.html", procedure=procedure, spec=spec, values=values, errors=errors,
                           today=today, modes=EliminationMode.labels(), kinds=CORRECTION_KINDS,
                           candidates=candidates), (422 if errors else 200)


def _start(procedure: str, values: dict[str, str]) -> tuple[dict[str, str], Any]:
    """Start ``procedure`` from the posted values: ({}, case), or ({field: reason}, None)."""
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
    changed_on = None
    if procedure == Procedure.MEMBER_CHANGE:
        try:
            changed_on = date.fromisoformat(values["changed_on"])
        except ValueError:
            errors["changed_on"] = "请填写变更发生日期（年-月-日）"
    if procedure == Procedure.ELIMINATION and values["mode"] not in EliminationMode.labels():
        errors["mode"] = "请选择消除方式"
    if procedure == Procedure.CORRECTION and values["kind"] not in CORRECTION_KINDS:
        errors["kind"] = "请选择申请类型"
    if errors:
        return errors, None
    actor, clock = g.user.username, get_clock()
    try:
        if procedure == Procedure.GREEN_CHANNEL:
            case = open_green_channel(household.id, actor, clock, {"hardship": values["hardship"]})
        elif procedure == Procedure.MEMBER_CHANGE:
            case = open_member_change(household.id, changed_on, actor, clock)
        elif procedure == Procedure.ELIMINATION:
            case = open_elimination(household.id, values["mode"], actor, clock)
        elif procedure == Procedure.POVERTY_POLICY:
            case = open_poverty_policy(household.id, actor, clock)
        else:
            case = open_correction(household.id, values["kind"], actor, clock)
    except FangpinError as exc:
        return {"form": str(exc)}, None
    log.info("%s started %s %s for household %s", actor, procedure, case.number, household.number)
    return {}, case


# -- registering a household ----------------------------------------------------------------------


@bp.get("/households/attention")
@roles_required(*CASE_WORKERS, "city_officer", "province_officer", "supervisor")
def attention() -> str:
    """重点关注户: the households my jurisdiction (or a place below it) visits as key attention each month."""
    place = visible_jurisdiction(request.args.get("place") or None)
    return render_template("cases/attention.html", entries=key_attention_households(place), place=place,
                           places=places_below(g.user.jurisdiction))


@bp.route("/households/new", methods=["GET", "POST"])
@roles_required(*CASE_WORKERS)
def new_household() -> Any:
    """农户登记: register a household and its members in a village of my jurisdiction, then open its case."""
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
            errors = errors_by_field(exc.errors)
        except FangpinError as exc:
            errors = {"form": str(exc)}
        else:
            flash(f"已登记农户 {household.number}，请立案。", "ok")
            return redirect(url_for("cases.new", household=household.number))
        flash("表单有误，请按提示修改；未保存任何内容。", "error")
    return render_template("cases/household.html", schema=schema, fields=fields, values=values, errors=errors,
                           table_rows=table_rows), (422 if errors else 200)


def _registration_fields(schema: dict[str, Any]) -> list[Field]:
    """The registration form, with the village chosen from the villages of my jurisdiction."""
    fields = fields_of(schema)
    choices = [(v.code, v.full_name) for v in villages_below(g.user.jurisdiction)]
    for f in fields:
        if f.name == "village":
            f.kind, f.choices, f.title = "choice", choices, "所在村"
    return fields
