"""Template filters: moments in China Standard Time (local_time: when something happened; due_time: a deadline,
as "24:00 of the last day"), days left."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask, current_app, g

from engine.app import get_clock
from engine.core.models import HumanTask
from engine.core.vocabulary import HouseholdStatus, JurisdictionLevel, actor_name
from engine.households.poverty_policy import household_kind
from engine.policy.roles import all_roles
from engine.supervision.overdue import days_overdue
from timers.calendar import CHINA_TZ as CST
from timers.calendar import display_deadline, display_moment


def local_time(moment: datetime | None) -> str:
    """When something happened, China Standard Time: 2026-01-29 00:00."""
    return display_moment(moment) if moment is not None else ""


def due_time(moment: datetime | None) -> str:
    """A deadline, China Standard Time: one at midnight ends the day before, 2026-01-28 24:00."""
    return display_deadline(moment) if moment is not None else ""


def due_status(due: datetime | None) -> tuple[str, str]:
    """("overdue"|"soon"|"ok"|"", text): 已逾期 N 天 / 剩 N 天."""
    if due is None:
        return "", ""
    now = get_clock().now()
    if now >= due:
        return "overdue", f"已逾期 {days_overdue(due, now)} 天"
    last_day = (due - timedelta(microseconds=1)).astimezone(CST).date()  # a deadline at 24:00 ends that day
    left = (last_day - now.astimezone(CST).date()).days
    return ("soon" if left <= 2 else "ok"), (f"剩 {left} 天" if left else "今日截止")


def task_due_status(task: HumanTask) -> tuple[str, str]:
    """:func:`due_status` of a task still to do; of a done one, whether it was done in time (按期办理, or 逾期 N 天
    办理) — it no longer counts down."""
    if task.state == "READY":
        return due_status(task.due_at)
    if task.state != "COMPLETED" or task.completed_at is None:
        return "", ""
    if task.due_at is None or task.completed_at < task.due_at:
        return "ok", "按期办理"
    return "overdue", f"逾期 {days_overdue(task.due_at, task.completed_at)} 天办理"


def role_name(key: str | None) -> str:
    role = all_roles().get(key or "")
    return role.name if role else (key or "")


def status_name(status: str | None) -> str:
    return HouseholdStatus.label_of(status)


def level_name(level: str | None) -> str:
    """省, 市, 县, 乡镇 or 村 (an unknown level as it is)."""
    return JurisdictionLevel.label_of(level)


def lookup(values: dict | None, dotted: str):
    """A nested value by dotted name ("income.wages")."""
    node = values or {}
    for part in dotted.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def may_open(endpoint: str) -> bool:
    """Does the endpoint exist and may the logged-in user open it (for the navigation bar)? A page guarded by
    web.auth.roles_required says which roles may."""
    view = current_app.view_functions.get(endpoint)
    if view is None:
        return False
    allowed = getattr(view, "allowed_roles", None)
    if allowed is None or g.get("user") is None:
        return True
    return bool(allowed & set(g.user.roles))


def register(app: Flask) -> None:
    app.add_template_global(may_open, "may_open")
    app.add_template_global(lookup, "lookup")
    app.add_template_global(JurisdictionLevel, "JurisdictionLevel")  # {% if p.level == JurisdictionLevel.VILLAGE %}
    app.add_template_filter(status_name, "status_name")
    app.add_template_filter(level_name, "level_name")
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(due_time, "due_time")
    app.add_template_filter(role_name, "role_name")
    app.add_template_filter(actor_name, "actor_name")
    app.add_template_filter(household_kind, "household_kind")
    app.add_template_global(due_status, "due_status")
    app.add_template_global(task_due_status, "task_due_status")
    app.add_template_global(lambda: get_clock().now(), "now")
    app.add_template_global(lambda endpoint: endpoint in current_app.view_functions, "has_endpoint")
