"""Supervision (督导): what is overdue in a jurisdiction, with drill-down to the village, the 2 % alert of
unresolved monitored persons per township and village, and who saw households' private data in full. Read-only."""
from __future__ import annotations

from flask import Blueprint, Flask, g, render_template, request

from engine.app import get_clock
from engine.core.vocabulary import OverdueKind, Procedure
from engine.supervision.health import lateness_text
from engine.supervision.monitoring_ratio import alert_percent, monitoring_ratios
from engine.supervision.overdue import LIMIT
from engine.supervision.overview import overdue_overview
from engine.supervision.private_views import private_views
from engine.supervision.timer_lateness import timer_lateness
from timers.calendar import to_local_date

from .auth import roles_required, visible_jurisdiction

bp = Blueprint("supervisor", __name__)
SUPERVISOR_ROLES = ("supervisor", "county_officer", "city_officer", "policy_editor")
WORST = 10


def register(app: Flask) -> None:
    app.register_blueprint(bp)


def trail(place) -> list:
    """The jurisdictions from the user's own down to ``place`` (the drill-down path)."""
    chain = []
    for node in place.ancestors():
        chain.append(node)
        if node.id == g.user.jurisdiction.id:
            break
    return list(reversed(chain))


@bp.get("/supervisor")
@roles_required(*SUPERVISOR_ROLES)
def overview() -> str:
    place = visible_jurisdiction(request.args.get("j"))
    procedure, step = request.args.get("procedure") or None, request.args.get("step") or None
    data = overdue_overview(place, get_clock().now(), procedure=procedure, step=step)
    today = to_local_date(get_clock().now())
    ratios = monitoring_ratios(place, today)
    lateness = timer_lateness(get_clock().now(), place)
    return render_template(
        "supervisor/overview.html", place=place, trail=trail(place), data=data, ratios=ratios,
        alerts=[r for r in ratios if r.alert], missing=[r for r in ratios if r.population_missing],
        alert_percent=alert_percent(place, today) or "—", procedure=procedure, step=step, worst=data.items[:WORST],
        listed=data.items, list_limit=LIMIT, procedures=Procedure.labels(), kinds=OverdueKind.labels(),
        lateness=lateness_text(lateness),
    )


@bp.get("/supervisor/private-views")
@roles_required(*SUPERVISOR_ROLES)
def private_views_page() -> str:
    """敏感信息查看记录: who saw the private fields of the jurisdiction's households in full, newest first."""
    place = visible_jurisdiction(request.args.get("j"))
    total, views = private_views(place)
    return render_template("supervisor/private_views.html", place=place, trail=trail(place), total=total,
                           views=views)
