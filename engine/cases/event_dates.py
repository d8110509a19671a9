"""Dates of what happened (事件日期): every date a task form asks for — an application, a posting, a decision, a
visit — is the date of something that already happened. It can be neither after today nor before the step
the task follows (the day the task became ready; for a case's first task, the lead date 发现日期). A form field
with ``"x-planned": true`` in its schema is a planned date instead and is not checked here; one with
``"x-earlier": true`` is the date of something that happened before the procedure (an earlier comparison whose
result the step reuses, 001 Q43): it may not be after today, but may be before the step.

Recording a date before the step it follows (补录) is allowed only within the tolerance of policy data
``dates.backdating_tolerance_days`` (default 0 days in every province: never) and only with a reason; it is
then written to the audit log."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from engine.core.errors import FormInvalid
from engine.core.models import Case, HumanTask
from engine.policy.parameters import resolve
from timers.calendar import to_local_date

TOLERANCE_KEY = "dates.backdating_tolerance_days"
REASON_FIELD = "backdating_reason"  # how the form page names the reason (not a field of the task's schema)
REASON_MAX = 200
EARLIER_KEYWORD = "x-earlier"  # a field's date of what happened before the procedure: not bound to the step


@dataclass(frozen=True)
class Backdated:
    """A date recorded before the step it follows, within the tolerance, with its reason (for the audit log)."""

    field: str
    value: date
    earliest: date
    reason: str


def event_date_fields(schema: dict[str, Any]) -> dict[str, str]:
    """The form's dates of what happened: field → title (top-level ``format: date`` fields not marked planned)."""
    return {name: node.get("title", name) for name, node in schema.get("properties", {}).items()
            if isinstance(node, dict) and node.get("format") == "date" and not node.get("x-planned")}


def earliest_date(row: HumanTask, case: Case, follows_a_step: bool) -> tuple[date, str]:
    """The first day a date on ``row``'s form may name, and what that day is."""
    if follows_a_step:
        return to_local_date(row.created_at), f"上一步办结、本步骤开始的日期 {to_local_date(row.created_at)}"
    return case.lead_date, f"发现日期 {case.lead_date}"


def check_event_dates(schema: dict[str, Any], form: str, data: dict[str, Any], row: HumanTask, case: Case,
                      today: date, follows_a_step: Callable[[], bool], reason: str | None = None) -> list[Backdated]:
    """Refuse (FormInvalid, naming each field) a date after ``today`` or before the step the task follows, unless
    it is within the backdating tolerance and ``reason`` is given; return those backdated with a reason.
    ``follows_a_step`` is asked only for a date before both the day the task began and the lead date (either may
    be the earliest allowed: a later one is allowed whichever it is)."""
    surely_allowed = max(to_local_date(row.created_at), case.lead_date)
    earliest, what = surely_allowed, ""
    problems: list[tuple[str, str]] = []
    backdated: list[Backdated] = []
    tolerance: int | None = None
    earlier = {name for name, node in schema.get("properties", {}).items()
               if isinstance(node, dict) and node.get(EARLIER_KEYWORD)}
    for field, title in event_date_fields(schema).items():
        value = data.get(field)
        if not isinstance(value, str) or not value:
            continue
        day = date.fromisoformat(value)  # the schema's format check has passed
        if day > today:
            problems.append((field, f"{title} {day} 晚于今天（{today}）：发生过的事不能填将来的日期"))
        if day > today or field in earlier:
            continue
        if day < surely_allowed and not what:
            earliest, what = earliest_date(row, case, follows_a_step())
        if day < earliest:
            tolerance = _tolerance(case, today) if tolerance is None else tolerance
            late = (earliest - day).days
            if late > tolerance:
                allowed = f"政策允许补录最多早 {tolerance} 天" if tolerance else "不允许补录更早的日期"
                problems.append((field, f"{title} {day} 早于{what}（早 {late} 天；{allowed}）"))
            elif not (reason or "").strip():
                problems.append((REASON_FIELD, f"{title} {day} 早于{what}：补录须写明原因"))
            else:
                backdated.append(Backdated(field, day, earliest, reason.strip()[:REASON_MAX]))
    if problems:
        raise FormInvalid(form, problems, schema.get("title"))
    return backdated


def _tolerance(case: Case, today: date) -> int:
    return int(resolve(TOLERANCE_KEY, case.jurisdiction, today))
