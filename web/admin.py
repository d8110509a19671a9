"""Administration in the browser. User administration (用户管理): an administrator lists the officials of their
jurisdiction, creates one (the one-time password is shown once), changes their name, roles or place, deactivates a
leaver, reactivates them and resets a password. The rules are the engine's (engine.accounts.users). The working-day
calendar (工作日历): which years have holiday data, a warning on every page of an administrator when next year's is
due and missing, the form to enter it from the State Council's notice (or correct a saved year), the provisional
deadlines running in their jurisdiction, computed again on request."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, flash, g, make_response, redirect, render_template, request, url_for
from sqlalchemy import select

from engine.accounts import users
from engine.app import get_clock
from engine.cases import calendar_year
from engine.cases.deadlines import provisional_deadlines, recompute_provisional
from engine.core.db import db, within
from engine.core.errors import FangpinError, FormInvalid, NotFound, PermissionDenied
from engine.core.models import Jurisdiction
from engine.core.transaction import transaction
from engine.policy.departments import department_names
from engine.policy.roles import all_roles
from timers import calendar_years
from timers.calendar import default_calendar, to_local_date

from .auth import roles_required, visible_jurisdiction

bp = Blueprint("admin", __name__, url_prefix="/admin")
admin_only = roles_required(users.ADMINISTRATOR)


def register(app: Flask) -> None:
    """Called by ``web.create_app``."""
    app.register_blueprint(bp)
    app.context_processor(_calendar_warnings)


def _calendar_warnings() -> dict[str, Any]:
    """For an administrator's pages: the calendar's warnings of missing holiday data (nothing read from the
    database)."""
    user = g.get("user")
    if user is None or users.ADMINISTRATOR not in user.roles:
        return {"calendar_warnings": []}
    return {"calendar_warnings": default_calendar().missing_data_warnings(to_local_date(get_clock().now()))}


def _places() -> list[Jurisdiction]:
    """The places an administrator may put an official in: their own and every one below."""
    return list(db.session.scalars(select(Jurisdiction).where(within(Jurisdiction.path, g.user.jurisdiction.path))
                                   .order_by(Jurisdiction.path)))


def _issued(issued: users.Issued, what: str) -> Any:
    """The page that shows a one-time password, once (never in a redirect, a flash or a log)."""
    page = make_response(render_template("admin/issued.html", user=issued.user, password=issued.password, what=what))
    page.headers["Cache-Control"] = "no-store"
    return page


@bp.get("/users")
@admin_only
def index() -> Any:
    search = request.args.get("q", "").strip()[:64]
    place = visible_jurisdiction(request.args.get("place") or None)
    inactive = request.args.get("inactive", "1") == "1"
    found = users.users_within(g.user, search, place, include_inactive=inactive)
    return render_template("admin/users.html", users=found, search=search, place=place, places=_places(),
                           inactive=inactive, roles=all_roles(), limit=200)


@bp.route("/users/new", methods=["GET", "POST"])
@admin_only
def new() -> Any:
    errors: dict[str, str] = {}
    form = request.form if request.method == "POST" else {}
    if request.method == "POST":
        try:
            issued = users.create_user(g.user, form.get("username", ""), form.get("display_name", ""),
                                       request.form.getlist("roles"), form.get("jurisdiction", ""), get_clock().now(),
                                       department=form.get("department", ""))
        except FormInvalid as exc:
            errors = dict(exc.errors)
        else:
            return _issued(issued, "新用户已创建")
    return render_template("admin/user_form.html", user=None, form=form, chosen=request.form.getlist("roles"),
                           errors=errors, places=_places(), roles=all_roles(), departments=_departments()), \
        (400 if errors else 200)


def _departments() -> dict[str, str]:
    """The departments (行业部门) a department officer of the administrator's jurisdiction may belong to."""
    return department_names(g.user.jurisdiction, to_local_date(get_clock().now()))


def _managed(username: str):
    try:
        return users.managed(g.user, username)
    except NotFound:
        abort(404)
    except PermissionDenied:
        abort(403)


@bp.route("/users/<username>", methods=["GET", "POST"])
@admin_only
def edit(username: str) -> Any:
    user = _managed(username)
    errors: dict[str, str] = {}
    form = request.form if request.method == "POST" else {}
    if request.method == "POST":
        try:
            users.change_user(g.user, username, get_clock().now(), display_name=form.get("display_name"),
                              roles=request.form.getlist("roles"), jurisdiction_code=form.get("jurisdiction"),
                              department=form.get("department"))
        except FormInvalid as exc:
            errors = dict(exc.errors)
        except FangpinError as exc:
            flash(str(exc), "error")
            return redirect(url_for("admin.edit", username=username))
        else:
            flash(f"用户 {username} 已更新")
            return redirect(url_for("admin.edit", username=username))
    chosen = request.form.getlist("roles") if request.method == "POST" else user.roles
    return render_template("admin/user_form.html", user=user, form=form, chosen=chosen, errors=errors,
                           places=_places(), roles=all_roles(), history=users.history(username), departments=_departments(),
                           action_names=users.USER_ACTIONS), \
        (400 if errors else 200)


@bp.post("/users/<username>/deactivate")
@admin_only
def deactivate(username: str) -> Any:
    _managed(username)
    try:
        users.deactivate_user(g.user, username, request.form.get("reason", ""), get_clock().now())
    except FangpinError as exc:
        flash(str(exc), "error")
    else:
        flash(f"用户 {username} 已停用，不能再登录")
    return redirect(url_for("admin.edit", username=username))


def _issue_password(username: str, change, what: str) -> Any:
    """Reactivate or reset: the page with the new one-time password, or back to the user with the refusal."""
    _managed(username)
    try:
        issued = change(g.user, username, get_clock().now())
    except FangpinError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.edit", username=username))
    return _issued(issued, what)


@bp.post("/users/<username>/reactivate")
@admin_only
def reactivate(username: str) -> Any:
    return _issue_password(username, users.reactivate_user, "用户已重新启用")


@bp.post("/users/<username>/password")
@admin_only
def reset_password(username: str) -> Any:
    return _issue_password(username, users.reset_password, "密码已重置")


def _calendar_page(form: dict[str, str], errors: dict[str, str], status: int = 200) -> Any:
    """The 工作日历 page with the form to enter a year's arrangement (as typed, with its errors)."""
    work_calendar = default_calendar()
    total, first = provisional_deadlines(g.user.jurisdiction.path)
    sources = {year: source for year, source in sorted(work_calendar.sources.items())
               if not source.startswith("chinesecalendar")}
    return render_template("admin/calendar.html", calendar=work_calendar, sources=sources, total=total, first=first,
                           form=form, errors=errors, years=calendar_years.allowed_years()), status


@bp.get("/calendar")
@admin_only
def calendar() -> Any:
    """工作日历: coverage, data version, warnings and the provisional deadlines of the administrator's jurisdiction;
    the form for next year's holiday arrangement (``?year=`` a saved year to correct it)."""
    wanted = request.args.get("year", "")
    shown = calendar_year.year_form(int(wanted) if wanted.isdigit() else None)
    form = {"year": str(shown.year), "source": shown.source, "holidays": shown.holidays, "workdays": shown.workdays,
            "seen_version": calendar_years.current_version()}
    return _calendar_page(form, {})


@bp.post("/calendar/year")
@admin_only
def save_year() -> Any:
    """录入下一年节假日安排: written to the override file and audited, or the form again with each field's error."""
    form = {name: request.form.get(name, "") for name in ("year", "source", "holidays", "workdays", "seen_version")}
    try:
        with transaction():
            saved = calendar_year.save_calendar_year(g.user.username, get_clock().now(), form["year"],
                                                     form["source"], form["holidays"], form["workdays"],
                                                     form["seen_version"] or None)
    except FormInvalid as exc:
        errors: dict[str, str] = {}
        for field, message in exc.errors:
            errors[field] = f"{errors[field]}；{message}" if field in errors else message
        if "" in errors:  # the file changed meanwhile: saving again, having been told, may overwrite it
            form["seen_version"] = calendar_years.current_version()
        return _calendar_page(form, errors, 422)
    except calendar_year.CalendarFileUnwritable as exc:
        return _calendar_page(form, {"": str(exc)}, 409)
    flash(saved.summary())
    return redirect(url_for("admin.calendar"))


@bp.post("/calendar/recompute")
@admin_only
def recompute() -> Any:
    with transaction():
        done = recompute_provisional(g.user.jurisdiction.path, g.user.username, get_clock().now())
    flash(done.summary())
    return redirect(url_for("admin.calendar"))
