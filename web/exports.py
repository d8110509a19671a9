"""Exports (导出): the monitoring ledger (监测台账) of a jurisdiction as a page, an Excel file and a CSV file,
and a household's information form (信息采集表, A1–A55) for authorized officials of its jurisdiction."""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, Response, abort, g, render_template, request

from engine.app import get_clock
from engine.core.errors import PermissionDenied
from engine.core.models import Household
from engine.core.vocabulary import PrivateAccess
from engine.households.information_form import information_form
from engine.households.ledger import HEADERS, ledger_csv, ledger_rows, ledger_table, ledger_title, ledger_xlsx
from engine.households.outside import outside_identification
from engine.households.privacy import reveal_private
from engine.publicity.lists import approved_not_yet_monitored
from engine.supervision.overview import children_of
from timers.calendar import to_local_date

from .auth import login_required, roles_required, visible, visible_jurisdiction
from .security import attachment

log = logging.getLogger(__name__)
bp = Blueprint("exports", __name__)
EXPORT_ROLES = ("village_cadre", "township_officer", "county_officer", "city_officer", "supervisor")
PREVIEW = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def register(app: Flask) -> None:
    app.register_blueprint(bp)


def _download(content: bytes, mimetype: str, place_name: str, suffix: str) -> Response:
    name = f"监测台账_{place_name}_{to_local_date(get_clock().now()).isoformat()}.{suffix}"
    response = attachment(content, mimetype, name)  # the Chinese name as filename* (the header stays latin-1)
    log.info("ledger %s exported by %s", name, g.user.username)
    return response


@bp.get("/ledger")
@roles_required(*EXPORT_ROLES)
def ledger() -> str:
    place = visible_jurisdiction(request.args.get("j"))
    rows = ledger_rows(place)
    return render_template("exports/ledger.html", place=place, title=ledger_title(place), headers=HEADERS,
                           rows=rows[:PREVIEW], table=ledger_table(rows[:PREVIEW]), total=len(rows),
                           preview=PREVIEW, children=children_of(place), approved=approved_not_yet_monitored(place))


@bp.get("/ledger.xlsx")
@roles_required(*EXPORT_ROLES)
def ledger_xlsx_file() -> Response:
    place = visible_jurisdiction(request.args.get("j"))
    content = ledger_xlsx(place, ledger_rows(place), to_local_date(get_clock().now()))
    return _download(content, XLSX, place.name, "xlsx")


@bp.get("/ledger.csv")
@roles_required(*EXPORT_ROLES)
def ledger_csv_file() -> Response:
    place = visible_jurisdiction(request.args.get("j"))
    return _download(ledger_csv(ledger_rows(place)), "text/csv", place.name, "csv")


@bp.get("/households/<int:household_id>/form")
@login_required
def household_form(household_id: int) -> Any:
    """The information form with its private fields (标“敏感”): for the roles that see them (policy/roles.json
    ``sees_private``), the same rule as the API's ``?sensitive=1``."""
    household = visible(Household, household_id, lambda h: h.village.path)  # 404 / 403 outside my jurisdiction
    try:  # audited as the API's ?sensitive=1 is: viewed, or refused for a role that may not
        reveal_private(g.user, household.village, get_clock(), household_id=household.id, number=household.number,
                       via=PrivateAccess.INFORMATION_FORM, path=request.path)
    except PermissionDenied:
        abort(403)
    return render_template("exports/household_form.html", household=household,
                           sections=information_form(household), today=to_local_date(get_clock().now()),
                           outside=outside_identification(household.id) if household.identified_on else None)
