"""The yearly campaign in the browser (年度信息采集和集中排查): a township officer opens this year's campaign for the
township's villages; township, county and supervisors follow its progress by village — collected and screened,
entered, overdue — with the days left to the entry deadline and the system's closing, and the households still to
visit; a county officer sees every township's campaign of a year at once (全县进度), by township and by village. The
steps themselves are tasks in the inbox. The rules are the engine's (engine.campaigns)."""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, abort, flash, g, redirect, render_template, request, url_for

from engine.app import get_clock
from engine.campaigns.area_screening import area_screenings, start_area_screening
from engine.campaigns.campaign import (
    campaign_reference,
    campaign_years,
    campaigns,
    county_progress,
    open_campaign,
    progress,
)
from engine.cases.views import places_at, villages_below
from engine.core.errors import FangpinError
from engine.core.models import Case
from engine.core.transaction import transaction
from engine.core.vocabulary import JurisdictionLevel, Procedure
from timers.calendar import to_local_date

from .auth import roles_required, visible, visible_jurisdiction

log = logging.getLogger(__name__)
bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")
ROLES = ("township_officer", "county_officer", "city_officer", "supervisor")
COUNTY_ROLES = ("county_officer", "city_officer", "supervisor")


def register(app: Flask) -> None:
    """Called by ``web.create_app``."""
    app.register_blueprint(bp)


@bp.get("")
@roles_required(*ROLES)
def index() -> str:
    """年度采集排查: the campaigns of my jurisdiction; a township officer opens this year's."""
    place = g.user.jurisdiction
    year = to_local_date(get_clock().now()).year
    can_open = "township_officer" in g.user.roles and place.level == JurisdictionLevel.TOWNSHIP
    found = campaigns(place)
    this_year = next((c for c in found if c.reference == campaign_reference(place, year)), None)  # opened already
    return render_template("campaigns/index.html", campaigns=found, year=year, can_open=can_open,
                           this_year=this_year)


@bp.post("")
@roles_required("township_officer")
def start() -> Any:
    place = g.user.jurisdiction
    year = to_local_date(get_clock().now()).year
    try:
        with transaction():
            case = open_campaign(place, year, g.user.username, get_clock())
    except FangpinError as exc:
        flash(str(exc), "error")
        return redirect(url_for("campaigns.index"))
    log.info("%s opened the %s campaign of %s", g.user.username, year, place.code)
    flash(f"已创建 {case.subject}：请在待办中确认开启", "ok")
    return redirect(url_for("campaigns.page", case_id=case.id))


@bp.get("/county")
@roles_required(*COUNTY_ROLES)
def county() -> str:
    """全县采集排查进度: every township of the county and its campaign of the year (or none yet), by township and by
    village, the county's deadlines with the days left, and the households still to visit. Above a county (a city's
    officer or supervisor), the counties to choose from."""
    place = visible_jurisdiction(request.args.get("county"))
    this_year = to_local_date(get_clock().now()).year
    if place.level != JurisdictionLevel.COUNTY:
        counties = places_at(place, JurisdictionLevel.COUNTY)
        return render_template("campaigns/county.html", p=None, counties=counties, years=[], year=this_year)
    year = request.args.get("year", type=int) or this_year
    years = sorted(set(campaign_years(place)) | {this_year}, reverse=True)
    if year not in years:
        abort(404)
    return render_template("campaigns/county.html", p=county_progress(place, year, get_clock().now()), counties=[],
                           years=years, year=year)


@bp.get("/<int:case_id>")
@roles_required(*ROLES)
def page(case_id: int) -> str:
    """One campaign's progress by village."""
    case = visible(Case, case_id)
    if case.procedure != Procedure.ANNUAL_CAMPAIGN:
        abort(404)
    return render_template("campaigns/campaign.html", p=progress(case, get_clock().now()))


@bp.route("/area", methods=["GET", "POST"])
@roles_required("county_officer", "supervisor")
def area() -> Any:
    """区域性返贫风险排查: a county officer starts a screening of the villages hit by a disaster, an epidemic, a price
    collapse…; every household there gets a visit task with a short limit."""
    county = g.user.jurisdiction
    villages = villages_below(county)
    values = {"cause": request.form.get("cause", "").strip(), "villages": request.form.getlist("villages")}
    if request.method == "POST":
        if "county_officer" not in g.user.roles:
            abort(403)
        try:
            with transaction():
                case = start_area_screening(county, values["villages"], values["cause"], g.user.username, get_clock())
        except FangpinError as exc:
            flash(str(exc), "error")
        else:
            flash(f"已启动 {case.subject}：各村每户一项灾后入户排查任务", "ok")
            return redirect(url_for("cases.case_page", case_id=case.id))
    screenings = area_screenings(county)
    return render_template("campaigns/area.html", villages=villages, values=values, screenings=screenings,
                           can_start="county_officer" in g.user.roles and county.level == JurisdictionLevel.COUNTY)
