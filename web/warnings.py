"""Department warnings (行业预警) in the browser: a department officer uploads a batch (CSV or Excel) and sees
it refused row by row or imported, and the department push deadlines; the city splits and pushes batches to
the counties; the county compares and dispatches (比对交办), keeps the ledger (台账) and reports to the city
every month; the township records the home verification. The rules are the engine's (engine.warnings.procedure)."""
from __future__ import annotations

import logging
import re
from typing import Any

from flask import Blueprint, Flask, Response, abort, flash, g, redirect, render_template, request, url_for

from engine.app import get_clock
from engine.core.db import db
from engine.core.errors import FangpinError, FormInvalid, NotFound, PermissionDenied
from engine.core.models import DepartmentWarning, Jurisdiction, WarningBatch
from engine.warnings.intake import import_batch
from engine.warnings.ledger import (
    STATUS_NAMES,
    batch_deadline,
    batch_warnings,
    batches,
    city_queue,
    compare,
    county_queue,
    ledger,
    ledger_row,
    missing_pushes,
    monthly_report,
    overdue_warnings,
    previous_month,
    push_schedules,
    township_queue,
)
from engine.warnings.procedure import dispatch_warnings, push_to_counties, record_verification
from engine.warnings.report import submit_monthly_report
from engine.warnings.rows import read_upload, template_csv
from engine.warnings.thresholds import current_period, departments
from timers.calendar import to_local_date

from .auth import roles_required, visible, visible_jurisdiction, within
from .security import attachment, parse_id

log = logging.getLogger(__name__)
bp = Blueprint("warnings", __name__, url_prefix="/warnings")

DEPARTMENT, CITY, COUNTY, TOWNSHIP = "department_officer", "city_officer", "county_officer", "township_officer"
WARNING_ROLES = (DEPARTMENT, CITY, COUNTY, TOWNSHIP, "supervisor")
OVERSIGHT = (COUNTY, CITY, "supervisor")
MAX_UPLOAD = 5 * 1024 * 1024
FIELD_NAMES = {"name": "姓名", "id_number": "身份证号", "indicator": "预警指标", "amount": "金额", "village": "村代码",
               "date": "日期", "department": "行业部门", "period": "期间", "文件": "文件", "rows": "数据"}
ROW_FIELD = re.compile(r"^第 (\d+) 行(?: (\w+))?$")
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def register(app: Flask) -> None:
    """Called by ``web.create_app``."""
    app.register_blueprint(bp)


@bp.app_template_filter("mask_id")
def mask_id(id_number: str | None) -> str:
    """An ID number with the birth date hidden (lists show no more than needed)."""
    text = id_number or ""
    return f"{text[:6]}********{text[-4:]}" if len(text) == 18 else text


def _now():
    return get_clock().now()


def _has(*roles: str) -> bool:
    return bool(set(roles) & set(g.user.roles))


def _receiving_place() -> Jurisdiction:
    """The city or county whose pushes the page shows: the user's own, or ``?j=`` below it."""
    place = visible_jurisdiction(request.args.get("j") or None)
    if place.level not in ("city", "county"):
        place = place.ancestor_at("county") or place.ancestor_at("city") or place
    return place


def _refused(exc: FangpinError) -> None:
    """Engine refusals: not allowed → 403, missing → 404, anything else is shown to the official."""
    if isinstance(exc, PermissionDenied):
        abort(403)
    if isinstance(exc, NotFound):
        abort(404)
    flash(str(exc), "error")


# -- the landing page ------------------------------------------------------------------------------


@bp.get("")
@roles_required(*WARNING_ROLES)
def index() -> str:
    """行业预警: what is waiting for me, by role."""
    place, now = g.user.jurisdiction, _now()
    counts = {}
    if _has(CITY):
        counts["city"] = len(city_queue(place))
    if _has(COUNTY):
        counts["county"] = len(county_queue(place))
    if _has(TOWNSHIP):
        counts["township"] = len(township_queue(place))
    if _has(*OVERSIGHT):
        counts["overdue"] = len(overdue_warnings(place, now))
    return render_template("warnings/index.html", counts=counts, has=_has, roles=(DEPARTMENT, CITY, COUNTY, TOWNSHIP))


# -- department officers: upload a batch, deadlines ------------------------------------------------


@bp.route("/upload", methods=["GET", "POST"])
@roles_required(DEPARTMENT)
def upload() -> Any:
    """推送预警数据: a CSV or Excel file for one department and period, imported whole or not at all."""
    place, today = g.user.jurisdiction, to_local_date(_now())
    known = _departments(place, today)
    values = {"department": request.form.get("department", ""), "period": request.form.get("period", "").strip()}
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
    """A CSV template (UTF-8 with BOM) with the columns and one example row."""
    return attachment(template_csv(), "text/csv; charset=utf-8", "warning_template.csv")


@bp.get("/deadlines")
@roles_required(DEPARTMENT, CITY, COUNTY, "supervisor")
def deadlines() -> str:
    """推送期限: each department's push rule, next deadline and latest batch; the pushes that are overdue."""
    place, now = _receiving_place(), _now()
    try:
        schedules, missing = push_schedules(place, now), missing_pushes(place, now)
    except FangpinError as exc:
        _refused(exc)
        schedules, missing = [], []
    return render_template("warnings/deadlines.html", place=place, schedules=schedules, missing=missing,
                           batches=batches(place), batch_deadline=batch_deadline)


@bp.get("/batches/<int:batch_id>")
@roles_required(DEPARTMENT, CITY, COUNTY, "supervisor")
def batch_page(batch_id: int) -> str:
    """One imported batch with its warnings and where each stands."""
    batch = visible(WarningBatch, batch_id, lambda b: b.jurisdiction.path)
    now = _now()
    rows = [ledger_row(w, now) for w in batch_warnings(batch)]
    return render_template("warnings/batch.html", batch=batch, rows=rows, deadline=batch_deadline(batch),
                           can_push=_has(CITY) and any(r.warning.status == "received" for r in rows))


# -- the city splits and pushes ---------------------------------------------------------------------


@bp.get("/city")
@roles_required(CITY)
def city() -> str:
    """分解推送: batches at the city with warnings still to push to the counties."""
    return render_template("warnings/city.html", queue=city_queue(g.user.jurisdiction))


@bp.post("/batches/<int:batch_id>/push")
@roles_required(CITY)
def push(batch_id: int) -> Any:
    batch = visible(WarningBatch, batch_id, lambda b: b.jurisdiction.path)
    try:
        counts = push_to_counties(batch.id, g.user.username, get_clock())
    except FangpinError as exc:
        _refused(exc)
    else:
        flash("已分解推送：" + "，".join(f"{name} {n} 条" for name, n in counts.items()), "ok")
    return redirect(url_for("warnings.city"))


# -- the county compares, dispatches, keeps the ledger and reports ---------------------------------


@bp.get("/county")
@roles_required(COUNTY)
def county() -> str:
    """比对交办: warnings at the county, compared with the monitored list."""
    return render_template("warnings/county.html", queue=county_queue(g.user.jurisdiction))


@bp.post("/dispatch")
@roles_required(COUNTY)
def dispatch() -> Any:
    ids = [i for i in (parse_id(v) for v in request.form.getlist("warning")) if i is not None]
    for warning_id in ids:
        warning = db.session.get(DepartmentWarning, warning_id)
        if warning is None:
            abort(404)
        if not within(warning.jurisdiction_path):
            abort(403)
    try:
        result = dispatch_warnings(ids, g.user.username, get_clock())
    except FangpinError as exc:
        _refused(exc)
        return redirect(url_for("warnings.county"))
    flash(f"已交办乡镇 {len(result.dispatched)} 条；已在监测并备注 {len(result.noted)} 条", "ok")
    return redirect(url_for("warnings.county"))


@bp.get("/ledger", endpoint="ledger")
@roles_required(*OVERSIGHT)
def ledger_page() -> str:
    """预警台账: every warning in my jurisdiction with its status, dates and outcome; overdue steps first."""
    place, now = visible_jurisdiction(request.args.get("j") or None), _now()
    status = request.args.get("status") or None
    month = request.args.get("month") or None
    month = month if month and MONTH.match(month) else None
    department = (request.args.get("department") or "")[:40] or None
    rows = ledger(place, now, status=status if status in STATUS_NAMES else None, department=department, month=month)
    return render_template("warnings/ledger.html", place=place, rows=rows, overdue=overdue_warnings(place, now),
                           statuses=STATUS_NAMES, filters={"status": status or "", "month": month or "",
                                                            "department": department or ""})


@bp.get("/report")
@roles_required(*OVERSIGHT)
def report() -> str:
    """月报: last month's dispatched warnings and their results, due to the city before the 25th."""
    place = _receiving_place()
    if place.level != "county":
        abort(404)
    month = request.args.get("month") or previous_month(to_local_date(_now()))
    if not MONTH.match(month):
        abort(404)
    try:
        data = monthly_report(place, month, _now())
    except FangpinError as exc:  # the report day is policy data
        _refused(exc)
        return render_template("warnings/index.html", counts={}, has=_has, roles=()), 409
    own = _has(COUNTY) and place.id == g.user.jurisdiction.id
    return render_template("warnings/report.html", report=data, can_submit=own and data.submitted is None)


@bp.post("/report/submit")
@roles_required(COUNTY)
def submit_report() -> Any:
    month = request.form.get("month", "")
    if not MONTH.match(month):
        abort(400)
    try:
        submit_monthly_report(month, g.user.username, get_clock())
    except FangpinError as exc:
        _refused(exc)
    else:
        flash(f"已上报 {month} 交办事项核查办理结果", "ok")
    return redirect(url_for("warnings.report", month=month))


# -- the township verifies at home -----------------------------------------------------------------


@bp.get("/township")
@roles_required(TOWNSHIP)
def township() -> str:
    """入户核查: warnings dispatched to my township, most urgent first."""
    return render_template("warnings/township.html", rows=township_queue(g.user.jurisdiction))


def _visible_warning(warning_id: int) -> DepartmentWarning:
    return visible(DepartmentWarning, warning_id)


@bp.route("/<int:warning_id>/verify", methods=["GET", "POST"])
@roles_required(TOWNSHIP)
def verify(warning_id: int) -> Any:
    """录入核查结果: meets the criteria → identification opened; does not → key attention, with the reason."""
    warning = _visible_warning(warning_id)
    values = {"outcome": request.form.get("outcome", ""), "reason": request.form.get("reason", "").strip()}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        if values["outcome"] not in ("meets", "not_meets"):
            errors["outcome"] = "请选择核查结论"
        else:
            try:
                record_verification(warning.id, values["outcome"] == "meets", values["reason"], g.user.username,
                                    get_clock())
            except FormInvalid as exc:
                errors = {field: reason for field, reason in exc.errors}
            except FangpinError as exc:
                _refused(exc)
                status = 409
            else:
                return _verified(warning.id)
        status = 422 if errors else status
    return render_template("warnings/verify.html", w=warning, row=ledger_row(warning, _now()), values=values,
                           errors=errors, comparison=compare(warning)), status


def _verified(warning_id: int) -> Any:
    warning = db.session.get(DepartmentWarning, warning_id)
    if warning.case_id:
        flash(f"已启动识别程序（发现日期为交办日期 {to_local_date(warning.dispatched_at)}）", "ok")
    else:
        flash("已记录：不符合纳入条件，该户列为重点关注户", "ok")
    return redirect(url_for("warnings.township"))
