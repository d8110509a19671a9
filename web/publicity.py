"""Publicity lists and announcements (公示公告) ready to print, from the seed's templates: which lists exist
for the user's jurisdiction and each list's page. The rows and the privacy rule live in
engine.publicity.lists; no ID number, phone number, bank account or health status is ever printed."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, Flask, abort, render_template, request

from engine.app import get_clock
from engine.core.errors import NotFound
from engine.core.vocabulary import PublicityStage
from engine.publicity.lists import can_pend, list_counts, publicity_list
from engine.supervision.overview import children_of
from timers.calendar import DATE_FORMAT, to_local_date

from .auth import roles_required, visible_jurisdiction

bp = Blueprint("publicity", __name__)
PUBLICITY_ROLES = ("village_cadre", "township_officer", "county_officer", "city_officer", "supervisor")
STAGES = PublicityStage.labels()


def register(app: Flask) -> None:
    app.register_blueprint(bp)


_DATE_ARGS = {"from": "日期自", "to": "至"}  # the filter's dates, as the list page labels them


def _date_arg(name: str) -> date | None:
    value = request.args.get(name) or ""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        abort(400, f"“{_DATE_ARGS[name]}”{DATE_FORMAT}")


def _date_range() -> tuple[date | None, date | None, str | None]:
    """The filter's dates (日期自, 至) and, when the end comes before the start, what to change (no list holds
    anything then: an empty sheet would read as no household)."""
    start, end = _date_arg("from"), _date_arg("to")
    if start and end and end < start:
        return start, end, f"截止日期 {end} 早于起始日期 {start}，请改正“至”或“日期自”后再筛选"
    return start, end, None


@bp.get("/publicity")
@roles_required(*PUBLICITY_ROLES)
def index() -> str:
    place = visible_jurisdiction(request.args.get("j"))
    return render_template("publicity/index.html", place=place, lists=list_counts(place, to_local_date(get_clock().now())),
                           children=children_of(place), stages=STAGES)


@bp.get("/publicity/<template_id>")
@roles_required(*PUBLICITY_ROLES)
def page(template_id: str) -> str | tuple[str, int]:
    place = visible_jurisdiction(request.args.get("j"))
    start, end, date_error = _date_range()
    pending = request.args.get("pending") == "1"  # only what its ready posting steps (公告, 张贴) post
    shown = (None, None) if date_error else (start, end)  # dates refused: the list's title and kind, no sheet
    try:
        data = publicity_list(template_id, place, to_local_date(get_clock().now()), *shown, pending)
    except NotFound:
        abort(404)
    page_html = render_template("publicity/list.html", place=place, data=data, start=start, end=end, stages=STAGES,
                                pendable=can_pend(data.template), date_error=date_error)
    return (page_html, 422) if date_error else page_html
