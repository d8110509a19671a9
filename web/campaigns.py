"""The yearly campaign in the browser (年度信息采集和集中排查): a township officer opens this year's campaign for the
township's villages; township, county and supervisors follow its progress by village — collected, screened,
entered, overdue — with the days left to the entry deadline and the system's closing, and the households still to
visit. The steps themselves are tasks in the inbox. The rules are the engine's (engine.campaigns)."""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, abort, flash, g, redirect, render_template, url_for

from engine.app import get_clock
from engine.campaigns.campaign import campaigns, open_campaign, progress
from engine.core.errors import FangpinError
from engine.core.models import Case
from engine.core.transaction import transaction
from engine.core.vocabulary import Procedure
from timers.calendar import to_local_date

from .auth import roles_required, visible

log = logging.getLogger(__name__)
bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")
ROLES = ("township_officer", "county_officer", "city_officer", "supervisor")


def register(app: Flask) -> None:
    """Called by ``web.create_app``."""
    app.register_blueprint(bp)


@bp.get("")
@roles_required(*ROLES)
def index() -> str:
    """年度采集排查: the campaigns of my jurisdiction; a township officer opens this year's."""
    place = g.user.jurisdiction
    year = to_local_date(get_clock().now()).year
    can_open = "township_officer" in g.user.roles and place.level == "township"
    return render_template("campaigns/index.html", campaigns=campaigns(place), year=year, can_open=can_open)


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


@bp.get("/<int:case_id>")
@roles_required(*ROLES)
def page(case_id: int) -> str:
    """One campaign's progress by village."""
    case = visible(Case, case_id)
    if case.procedure != Procedure.ANNUAL_CAMPAIGN:
        abort(404)
    return render_template("campaigns/campaign.html", p=progress(case, get_clock().now()))
