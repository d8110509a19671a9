"""Deadline (期限) functions that BPMN diagrams may call in timer and due-date expressions.

They run inside the restricted script engine, so they are plain functions taking plain values
(ISO strings, dates, datetimes, integers) and returning a tz-aware ISO datetime string: the end
(24:00 China Standard Time) of the period's last day, e.g. ``'2026-10-04T00:00:00+08:00'``.
Working days (工作日) come from :func:`timers.calendar.default_calendar`; a year without holiday
data raises :class:`timers.calendar.CalendarDataMissing` instead of guessing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import date

from timers.calendar import DateLike, Deadline, default_calendar, to_local_date

log = logging.getLogger(__name__)
_MONTH_DAY = re.compile(r"^(\d{1,2})-(\d{1,2})$")


def _as_int(value: int | str, what: str) -> int:
    """Accept an int or a decimal string (form data often arrives as text)."""
    if isinstance(value, bool):
        raise TypeError(f"{what} 应为整数，而不是 {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise TypeError(f"{what} 应为整数，而不是 {value!r}")


def _due(deadline: Deadline) -> str:
    if deadline.provisional:
        log.warning(
            "provisional deadline %s: %s", deadline.last_day, deadline.explanation
        )
    return deadline.due_at.isoformat()


def explain(
    kind: str, start: DateLike, n: int | str, extend_over_holidays: bool = False
) -> Deadline:
    """Full :class:`Deadline` for ``kind`` in working_days | days | months | monthly_day | yearly_day.

    For ``monthly_day`` ``start`` is any date in the month and ``n`` the day of the month; for ``yearly_day``
    likewise, the deadline being that day of that month of the year (once a year).
    """
    cal = default_calendar()
    amount = _as_int(n, "n")
    if kind == "working_days":
        return cal.add_working_days(start, amount)
    if kind == "days":
        return cal.add_days(start, amount, extend_over_holidays=extend_over_holidays)
    if kind == "months":
        return cal.add_months(start, amount)
    if kind == "monthly_day":
        reference = to_local_date(start)
        return cal.monthly_deadline(reference.year, reference.month, amount)
    if kind == "yearly_day":
        reference = to_local_date(start)
        return cal.yearly_deadline(reference.year, reference.month, amount)
    raise ValueError(f"unknown deadline kind {kind!r}")


def working_days_from(start: DateLike, n: int | str) -> str:
    """End of the n-th working day (工作日) after ``start`` (start not counted)."""
    return _due(explain("working_days", start, n))


def days_from(start: DateLike, n: int | str, extend_over_holidays: bool = False) -> str:
    """End of the n-th calendar day after ``start`` (start not counted; no holiday extension
    unless ``extend_over_holidays``)."""
    return _due(explain("days", start, n, extend_over_holidays=extend_over_holidays))


def months_from(start: DateLike, n: int | str) -> str:
    """End of the corresponding day n months after ``start`` (or of that month's last day)."""
    return _due(explain("months", start, n))


def monthly_deadline(reference: DateLike, day: int | str) -> str:
    """End of day ``day`` of the month of ``reference`` ("每月25日前"; clamped to month end)."""
    return _due(explain("monthly_day", reference, day))


def _yearly_start(reference: DateLike, month_day: str) -> tuple[date, int]:
    """``explain("yearly_day", …)``'s start and amount for the ``month_day`` ("MM-DD") of the year of ``reference``."""
    found = _MONTH_DAY.match(month_day.strip()) if isinstance(month_day, str) else None
    if found is None:
        raise TypeError(f"month_day 应为“月-日”（如 12-08），而不是 {month_day!r}")
    return date(to_local_date(reference).year, int(found[1]), 1), int(found[2])


def yearly_deadline(reference: DateLike, month_day: str) -> str:
    """End of ``month_day`` ("MM-DD") of the year of ``reference``: a fixed date once a year ("每年12月8日前")."""
    return _due(explain("yearly_day", *_yearly_start(reference, month_day)))


DIAGRAM_FUNCTIONS: dict[str, Callable[..., str]] = {
    "working_days_from": working_days_from,
    "days_from": days_from,
    "months_from": months_from,
    "monthly_deadline": monthly_deadline,
    "yearly_deadline": yearly_deadline,
}


_KINDS = {"working_days_from": "working_days", "days_from": "days", "months_from": "months",
          "monthly_deadline": "monthly_day", "yearly_deadline": "yearly_day"}


def recording_functions(sink: list[Deadline]) -> dict[str, Callable[..., str]]:
    """The diagram functions, each also appending the full :class:`Deadline` it computed to ``sink``
    (so that the engine can keep every deadline with its explanation and calendar data version)."""

    def make(name: str, kind: str) -> Callable[..., str]:
        def compute(start: DateLike, n: int | str, extend_over_holidays: bool = False) -> str:
            if kind == "yearly_day":
                start, n = _yearly_start(start, n)
            deadline = explain(kind, start, n, extend_over_holidays=extend_over_holidays)
            sink.append(deadline)
            return _due(deadline)

        compute.__name__ = name
        compute.__doc__ = DIAGRAM_FUNCTIONS[name].__doc__
        return compute

    return {name: make(name, kind) for name, kind in _KINDS.items()}
