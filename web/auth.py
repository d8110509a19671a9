"""Log in and out (登录), the current official, and the access rules: a user sees and acts only on cases
and tasks in their own jurisdiction and below, and only on tasks of their roles; anything else is 403."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from sqlalchemy import select

from engine.accounts import users
from engine.app import get_clock
from engine.core.db import db
from engine.core.errors import FormInvalid
from engine.core.models import Case, Jurisdiction

from .ratelimits import limiter, login_limit
from .security import safe_next

bp = Blueprint("auth", __name__)


def load_user() -> Any:
    """The logged-in official; a deactivated one is logged out at their next request. One who must choose a new
    password (set by an administrator) is sent to do so before anything else."""
    user_id = session.get("user_id")
    g.user = users.signed_in(user_id) if user_id else None
    if g.user is not None and not g.user.active:
        session.clear()
        g.user = None
    if (g.user is not None and g.user.must_change_password and request.endpoint not in PASSWORD_FREE
            and not request.path.startswith("/api/")):
        return redirect(url_for("auth.password", next=request.full_path))
    return None


PASSWORD_FREE = {"auth.password", "auth.logout", "static", "vendor"}  # open before choosing one's own password


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.user is None:
            return redirect(url_for("auth.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped


def roles_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The view needs one of ``roles`` (403 otherwise); the roles are kept on the view (``allowed_roles``) for the
    navigation bar, which shows a link only to those who may open it."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not set(roles) & set(g.user.roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]
        return wrapped

    return decorator


def within(path: str) -> bool:
    """Is a jurisdiction path inside the current user's jurisdiction?"""
    return g.user.jurisdiction.contains(path)


def visible(model: type, key: object, path: Callable[[Any], str] = lambda row: row.jurisdiction_path):
    """The row if it lies in the user's jurisdiction (``path`` gives its place); 404 if missing, 403 if outside."""
    row = db.session.get(model, key)
    if row is None:
        abort(404)
    if not within(path(row)):
        abort(403)
    return row


def visible_case(case_id: int) -> Case:
    """The case, if it lies in the user's jurisdiction; 404 if missing, 403 if outside."""
    return visible(Case, case_id)


def visible_jurisdiction(code: str | None) -> Jurisdiction:
    """A jurisdiction at or below the user's (default: the user's own); 403 outside."""
    if not code:
        return g.user.jurisdiction
    place = db.session.scalar(select(Jurisdiction).filter_by(code=code))
    if place is None:
        abort(404)
    if not within(place.path):
        abort(403)
    return place


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"], deduct_when=lambda response: response.status_code == 401)
def login() -> Any:
    error = None
    if request.method == "POST":
        user = users.login(request.form.get("username", ""), request.form.get("password", ""))
        if user is None:
            error = "用户名或密码不正确（已停用的账号不能登录）"
        else:
            session.clear()
            session["user_id"] = user.id
            return redirect(safe_next(request.args.get("next")) or url_for("tasks.inbox"))  # never another site
    return render_template("auth/login.html", error=error), (401 if error else 200)


@bp.post("/logout")
def logout() -> Any:
    session.clear()
    flash("已退出登录")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> Any:
    """Change one's own password (修改密码) — required after an administrator set it."""
    errors: dict[str, str] = {}
    if request.method == "POST":
        if request.form.get("new", "") != request.form.get("again", ""):
            errors["again"] = "两次输入的新密码不一致"
        else:
            try:
                users.change_own_password(g.user, request.form.get("current", ""), request.form.get("new", ""),
                                          get_clock().now())
            except FormInvalid as exc:
                errors = dict(exc.errors)
            else:
                flash("密码已修改")
                return redirect(safe_next(request.args.get("next")) or url_for("tasks.inbox"))
    return render_template("auth/password.html", errors=errors, forced=g.user.must_change_password,
                           minimum=users.PASSWORD_MIN), (400 if errors else 200)
