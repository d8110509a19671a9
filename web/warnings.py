"""Department warnings (行业预警) in the browser: a department officer uploads a batch (CSV or Excel) and sees it
refused row by row or imported, and the push deadlines; the steps after that — the city's split, the county's
comparison and dispatch (比对交办), the township's home verification, the county's monthly report — are tasks of
the warning procedures in every official's inbox (/inbox), done on the task pages; here are the ledger (台账), the
batches and the monthly report. The rules are the engine's (engine.warnings)."""
from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

from flask import Blueprint, Flask, Response, abort, flash, g, redirect, render_template, request, url_for

from engine.accounts.users import display_names
from engine.app import get_clock
from engine.cases.lifecycle import doable
from engine.cases.tasks import TaskFilter, ready_steps
from engine.core.errors import FangpinError, FormInvalid, NotFound, PermissionDenied
from engine.core.models import Jurisdiction, WarningBatch
from engine.core.transaction import transaction
from engine.core.vocabulary import JurisdictionLevel, Procedure, WarningSource, WarningStatus
from engine.households.privacy import mask
from engine.warnings.intake import import_batch
from engine.warnings.ledger import (
    batch_deadline,
    batch_warnings,
    batches,
    ledger,
    ledger_departments,
    ledger_rows,
    missing_pushes,
    monthly_report,
    overdue_warnings,
    previous_month,
    push_cases,
)
from engine.warnings.rows import read_upload, template_csv
from engine.warnings.schedules import open_event_push
from engine.warnings.thresholds import RECEIVING_LEVELS, current_period, departments
from timers.calendar import DATE_FORMAT, to_local_date

from .auth import roles_required, visible, visible_jurisdiction
from .security import attachment

log = logging.getLogger(__name__)
bp = Blueprint("warnings", __name__, url_prefix="/warnings")

DEPARTMENT, CITY, COUNTY, TOWNSHIP = "department_officer", "city_officer", "county_officer", "township_officer"
WARNING_ROLES = (DEPARTMENT, CITY, COUNTY, TOWNSHIP, "supervisor")
OVERSIGHT = (COUNTY, CITY, "supervisor")
MAX_UPLOAD = 5 * 1024 * 1024
TEMPLATE_NAME = "行业预警导入模板"  # the template download: 行业预警导入模板_医保部门.csv
FIELD_NAMES = {"name": "姓名", "id_number": "身份证号", "indicator": "预警指标", "amount": "金额", "village": "村代码",
               "date": "日期", "department": "行业部门", "period": "期间", "文件": "文件", "rows": "数据"}
ROW_FIELD = re.compile(r"^第 (\d+) 行(?: (\w+))?$")
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def register(app: Flask) -> None:
    """Called by ``web.create_app``."""
    app.register_blueprint(bp)


@bp.app_template_filter("mask_id")
def mask_id(id_number: str | None) -> str:
    """An ID number with the birth date hidden (lists show no more than needed), as everywhere else."""
    return mask("id_number", id_number) or ""


def _now():
    return get_clock().now()


def _has(*roles: str) -> bool:
    return bool(set(roles) & set(g.user.roles))


def _receiving_place() -> Jurisdiction:
    """The city or county whose pushes the page shows: the user's own, or ``?j=`` below it."""
    place = visible_jurisdiction(request.args.get("j") or None)
    if place.level not in RECEIVING_LEVELS:
        place = place.ancestor_at(JurisdictionLevel.COUNTY) or place.ancestor_at(JurisdictionLevel.CITY) or place
    return place


def _refused(exc: FangpinError) -> None:
    """Engine refusals: not allowed → 403, missing → 404, anything else is shown to the official."""
    if isinstance(exc, PermissionDenied):
        abort(403)
    if isinstance(exc, NotFound):
        abort(404)
    flash(str(exc), "error")


# -- the landing page ------------------------------------------------------------------------------


WARNING_PROCEDURES = (Procedure.WARNING_PUSH, Procedure.WARNING_BATCH, Procedure.WARNING_VERIFICATION,
                      Procedure.WARNING_REPORT)


@bp.get("")
@roles_required(*WARNING_ROLES)
def index() -> str:
    """行业预警: the warning steps waiting in my inbox, by procedure, and the ledger's overdue count."""
    place, now = g.user.jurisdiction, _now()
    user = g.user
    tiles = ready_steps(TaskFilter(tuple(user.roles), place, department=user.department), WARNING_PROCEDURES)
    overdue = len(overdue_warnings(place, now)) if _has(*OVERSIGHT) else None
    return render_template("warnings/index.html", tiles=tiles, overdue=overdue, has=_has)


# -- department officers: upload a batch, deadlines ------------------------------------------------


@bp.route("/upload", methods=["GET", "POST"])
@roles_required(DEPARTMENT)
def upload() -> Any:
    """推送预警数据: a CSV or Excel file for one department and period, imported whole or not at all."""
    place, today = g.user.jurisdiction, to_local_date(_now())
    known = _departments(place, today)
    if g.user.department:  # a department officer pushes their own department's data only
        known = {k: d for k, d in known.items() if k == g.user.department}
    only = next(iter(known)) if len(known) == 1 else ""  # an officer of one department: it is chosen already
    values = {"department": request.form.get("department", request.args.get("department", only)),
              "period": request.form.get("period", request.args.get("period", "")).strip()}
    errors: list[dict[str, str]] = []
    if request.method == "POST":
        errors, batch = _import(values)
        if batch is not None:
            flash(f"已导入第 {batch.id} 批预警数据，共 {batch.rows_count} 行", "ok")
            return redirect(url_for("warnings.batch_page", batch_id=batch.id))
    defaults = {key: current_period(d.push, today) for key, d in known.items()}
    return render_template("warnings/upload.html", place=place, departments=known, values=values, errors=errors,
                           defaults=defaults), (422 if errors else 200)


def _departments(place: Jurisdiction, today) -> dict:
    try:
        return departments(place, today)
    except FangpinError as exc:
        flash(str(exc), "error")
        return {}


def _import(values: dict[str, str]) -> tuple[list[dict[str, str]], WarningBatch | None]:
    upload_file = request.files.get("file")
    if upload_file is None or not upload_file.filename:
        return [{"line": "", "field": "文件", "reason": "请选择要上传的 CSV 或 Excel 文件"}], None
    data = upload_file.stream.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return [{"line": "", "field": "文件", "reason": "文件超过 5 MB，请分批推送"}], None
    try:
        source, rows = read_upload(upload_file.filename, data)
        batch = import_batch(values["department"], values["period"], rows, source, g.user.username, get_clock(),
                             file_name=upload_file.filename)
    except FormInvalid as exc:
        errors = [_row_error(field, reason) for field, reason in exc.errors]
        lines = {e["line"] for e in errors if e["line"]}
        what = f"{len(lines)} 行数据有误" if lines else "有误"
        flash(f"{what}，整批未导入（未保存任何一行），请改正后重新上传。", "error")
        return errors, None
    except FangpinError as exc:
        _refused(exc)
        return [{"line": "", "field": "", "reason": str(exc)}], None
    log.info("%s uploaded warning batch %s (%s rows)", g.user.username, batch.id, batch.rows_count)
    return [], batch


def _row_error(field: str, reason: str) -> dict[str, str]:
    match = ROW_FIELD.match(field)
    if match:
        return {"line": match.group(1), "field": FIELD_NAMES.get(match.group(2) or "", match.group(2) or ""),
                "reason": reason}
    return {"line": "", "field": FIELD_NAMES.get(field, field), "reason": reason}


@bp.get("/template.csv")
@roles_required(DEPARTMENT)
def template() -> Response:
    """A CSV template (UTF-8 with BOM) with the columns and one example row of my department (by its indicator's
    Chinese name), saved as 行业预警导入模板_医保部门.csv."""
    found = _departments(g.user.jurisdiction, to_local_date(_now()))
    mine = found.get(g.user.department or "") or next(iter(found.values()), None)
    indicator = next(iter(mine.indicators.values())) if mine and mine.indicators else None
    content = template_csv(indicator.name, indicator.example_amount()) if indicator else template_csv()
    return attachment(content, "text/csv", f"{TEMPLATE_NAME}_{mine.name}.csv" if mine else f"{TEMPLATE_NAME}.csv")


@bp.get("/deadlines")
@roles_required(DEPARTMENT, CITY, COUNTY, "supervisor")
def deadlines() -> str:
    """推送期限: each department's push rule, next deadline and latest batch; the pushes that are overdue."""
    place, now = _receiving_place(), _now()
    found = _departments(place, to_local_date(now))  # read once: the events to record and the departments' names
    events = {}
    if _has(DEPARTMENT) and place.id == g.user.jurisdiction.id:
        events = {k: d for k, d in found.items() if d.push.kind == "after_event"
                  and d.push.working_days and (not g.user.department or k == g.user.department)}
    names = {key: d.name for key, d in found.items()}
    pushed = batches(place)
    return render_template("warnings/deadlines.html", place=place, pushes=push_cases(place, now), events=events,
                           missing=missing_pushes(place, now), batches=pushed, batch_deadline=batch_deadline,
                           department_names=names, names=display_names(b.submitted_by for b in pushed))


@bp.post("/events")
@roles_required(DEPARTMENT)
def record_event() -> Any:
    """登记事件: a department pushing after an event (秋季学期开学、灾害发生…) records its date; the push task opens
    at once, due the rule's working days after it."""
    place, today = g.user.jurisdiction, to_local_date(_now())
    key = request.form.get("department", "")[:40]
    if g.user.department and key != g.user.department:
        abort(403)
    department = _departments(place, today).get(key)
    if department is None:
        abort(404)
    try:
        event_on = date.fromisoformat(request.form.get("event_on", ""))
    except ValueError:
        flash(f"事件日期：{DATE_FORMAT}", "error")
        return redirect(url_for("warnings.deadlines"))
    try:
        with transaction():
            case = open_event_push(place, department, event_on, g.user.username, get_clock())
    except FangpinError as exc:
        flash(str(exc), "error")
        return redirect(url_for("warnings.deadlines"))
    flash(f"已登记：{case.subject}，推送任务已在待办中", "ok")
    return redirect(url_for("tasks.inbox", procedure="warning_push"))


@bp.get("/batches/<int:batch_id>")
@roles_required(DEPARTMENT, CITY, COUNTY, "supervisor")
def batch_page(batch_id: int) -> str:
    """One imported batch with its warnings and where each stands."""
    batch = visible(WarningBatch, batch_id, lambda b: b.jurisdiction.path)
    now = _now()
    rows = ledger_rows(batch_warnings(batch), now)
    return render_template("warnings/batch.html", batch=batch, rows=rows, deadline=batch_deadline(batch),
                           source_name=WarningSource.label_of, names=display_names({batch.submitted_by}),
                           doable=doable(g.user, {r.step_task_id for r in rows if r.step_task_id}))


# -- the county keeps the ledger and reports ---------------------------------------------------------


@bp.get("/ledger", endpoint="ledger")
@roles_required(*OVERSIGHT)
def ledger_page() -> str:
    """预警台账: every warning in my jurisdiction with its status, dates and outcome; overdue steps first."""
    place, now = visible_jurisdiction(request.args.get("j") or None), _now()
    status = request.args.get("status") or None
    month = request.args.get("month") or None
    month = month if month and MONTH.match(month) else None
    departments = ledger_departments(place, to_local_date(now))
    department = request.args.get("department") or None
    department = department if department in departments else None  # an unknown one filters nothing, as a status
    rows = ledger(place, now, status=status if status in WarningStatus.labels() else None, department=department, month=month)
    return render_template("warnings/ledger.html", place=place, rows=rows, overdue=overdue_warnings(place, now),
                           statuses=WarningStatus.labels(), departments=departments,
                           filters={"status": status or "", "month": month or "", "department": department or ""})


@bp.get("/report")
@roles_required(*OVERSIGHT)
def report() -> str:
    """月报: last month's dispatched warnings and their results, due to the city before the 25th."""
    place = _receiving_place()
    if place.level != JurisdictionLevel.COUNTY:
        abort(404)
    month = request.args.get("month") or previous_month(to_local_date(_now()))
    if not MONTH.match(month):
        abort(404)
    data = monthly_report(place, month, _now())
    own = _has(COUNTY) and place.id == g.user.jurisdiction.id
    names = display_names({data.submitted.actor} if data.submitted else ())
    return render_template("warnings/report.html", report=data, can_submit=own and data.task_id is not None,
                           names=names)
