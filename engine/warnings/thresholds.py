"""Department warning policy (行业预警标准): which departments push warnings to a jurisdiction, what each
screens, the amount thresholds (whether the bound itself counts), and each department's push deadline — all policy
data (``policy/warning_thresholds.json``), resolved for a
jurisdiction and a date like every other parameter."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from engine.core.errors import PolicyMissing
from engine.core.models import Jurisdiction
from engine.core.vocabulary import JurisdictionLevel
from engine.policy.departments import DEPARTMENT_PREFIX
from engine.policy.parameters import resolve, resolve_group
from timers.calendar import DATE_FORMAT, Deadline, default_calendar

PUSH_OVERRIDE = "warning.push_override"
POLICY_FILE = "warning_thresholds.json"
RECEIVING_LEVELS = (JurisdictionLevel.CITY, JurisdictionLevel.COUNTY)
"""Where a department's warnings are pushed: the 乡村振兴 office of its city or of its county."""
POPULATIONS = {"formerly_poor": "脱贫人口", "other": "其他农村人口", "all": "所有人员"}
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
PERIOD_HINTS = {"monthly": "按月，如 2026-09", "quarterly": "按季度，如 2026-Q3",
                "after_event": "事件日期，如 2026-09-01", "as_found": "按月，如 2026-09"}


@dataclass(frozen=True)
class Threshold:
    """An amount bound (预警标准) for one population; ``inclusive``: the bound itself counts (含 / 以上)."""

    population: str
    amount: Decimal
    inclusive: bool
    text: str

    def met(self, amount: Decimal) -> bool:
        return amount >= self.amount if self.inclusive else amount > self.amount

    def describe(self) -> str:
        sign, bound = ("≥", "含本数") if self.inclusive else (">", "不含本数")
        who = "" if self.population == "all" else f"{POPULATIONS.get(self.population, self.population)} "
        return f"{who}{sign} {self.amount:,.0f} 元（{bound} {self.amount:,.0f} 元）"


@dataclass(frozen=True)
class Indicator:
    """What a department screens (预警指标); without thresholds any listed person is a warning."""

    key: str
    name: str
    thresholds: tuple[Threshold, ...]

    @property
    def needs_amount(self) -> bool:
        return bool(self.thresholds)

    def threshold_for(self, formerly_poor: bool) -> Threshold | None:
        wanted = "formerly_poor" if formerly_poor else "other"
        return next((t for t in self.thresholds if t.population in (wanted, "all")), None)

    def example_amount(self) -> Decimal | None:
        """An amount that is a warning for every population (a template's example row that uploads as it is): the
        highest bound, or a yuan above it where the bound itself does not count; None without thresholds."""
        if not self.thresholds:
            return None
        highest = max(self.thresholds, key=lambda t: (t.amount, not t.inclusive))
        return highest.amount + (0 if highest.inclusive else 1)


@dataclass(frozen=True)
class PushRule:
    """When a department pushes (推送时间): monthly / quarterly on a day, after an event, or as found."""

    kind: str
    text: str
    day: int | None = None
    months: tuple[int, ...] = ()
    working_days: int | None = None
    event: str = ""

    @property
    def periodic(self) -> bool:
        return self.kind in ("monthly", "quarterly")

    @property
    def period_hint(self) -> str:
        return PERIOD_HINTS.get(self.kind, "")


@dataclass(frozen=True)
class Department:
    """A department (行业部门) with its indicators and push rule, as in force for a jurisdiction."""

    key: str
    name: str
    screens: str
    indicators: dict[str, Indicator]
    push: PushRule

    def indicator(self, text: str) -> Indicator | None:
        """By key or by Chinese name."""
        text = text.strip()
        return self.indicators.get(text) or next((i for i in self.indicators.values() if i.name == text), None)


def _threshold(raw: dict[str, Any]) -> Threshold:
    return Threshold(raw.get("population", "all"), Decimal(str(raw["amount"])), bool(raw["inclusive"]),
                     raw.get("text", ""))


def _push(raw: dict[str, Any]) -> PushRule:
    return PushRule(kind=raw["kind"], text=raw.get("text", ""), day=raw.get("day"),
                    months=tuple(raw.get("months", ())), working_days=raw.get("working_days"),
                    event=raw.get("event", ""))


def _department(key: str, raw: dict[str, Any], override: dict[str, Any] | None) -> Department:
    indicators = {k: Indicator(k, v["name"], tuple(_threshold(t) for t in v.get("thresholds", ())))
                  for k, v in raw["indicators"].items()}
    push = raw["push"]
    if override and push["kind"] in override.get("applies_to", ()):
        push = override["push"]
    return Department(key, raw["name"], raw.get("screens", ""), indicators, _push(push))


def departments(place: Jurisdiction, on: date) -> dict[str, Department]:
    """The departments pushing warnings to ``place`` (市/县) on ``on``, with the local push override applied."""
    raw = resolve_group(DEPARTMENT_PREFIX, place, on)
    try:
        override = resolve(PUSH_OVERRIDE, place, on)
    except PolicyMissing:
        override = None
    return {key: _department(key, value, override) for key, value in sorted(raw.items())}


def department(place: Jurisdiction, key: str, on: date) -> Department:
    """One department; PolicyMissing names the departments configured for ``place``."""
    found = departments(place, on)
    if key not in found:
        names = "、".join(f"{k}（{d.name}）" for k, d in found.items()) or f"无（请加载 policy/{POLICY_FILE}）"
        raise PolicyMissing(f"{place.full_name} 在 {on} 没有配置行业部门 {key}；已配置：{names}")
    return found[key]


# -- periods and push deadlines -------------------------------------------------------------------


def period_start(rule: PushRule, period: str) -> date:
    """The first day of a month or quarter period of ``rule`` (a quarter ends with the month of its push deadline,
    ``rule.months``; 2026-Q3 of 3, 6, 9, 12 starts on 2026-07-01). ValueError for anything else."""
    if (q := QUARTER.match(period)) is not None and rule.months:
        last = date(int(q.group(1)), rule.months[int(q.group(2)) - 1], 1)
        return (last - timedelta(days=58)).replace(day=1)  # two months before the quarter's last
    if MONTH.match(period):
        return date.fromisoformat(period + "-01")
    raise ValueError(f"期间 {period} 不是月份或季度")


def check_period(rule: PushRule, period: str, today: date) -> str | None:
    """The reason ``period`` is not a valid period for ``rule`` (None if it is): a period that has not started yet
    cannot have been screened, and would be filed as pushed on time."""
    period = period.strip()
    if rule.kind == "after_event":
        try:
            event = date.fromisoformat(period)
        except ValueError:
            return f"应为{rule.event or '事件'}日期：{DATE_FORMAT}"
        return f"{rule.event or '事件'}日期 {event} 晚于今天" if event > today else None
    if rule.kind == "quarterly" and not QUARTER.match(period):
        return "应为季度，如 2026-Q3"
    if rule.kind != "quarterly" and not MONTH.match(period):
        return "应为月份，如 2026-09"
    starts = period_start(rule, period)
    return f"尚未开始（{starts} 起），只能推送已开始的期间" if starts > today else None


def push_deadline(rule: PushRule, period: str) -> Deadline | None:
    """The push deadline of ``period`` (None for warnings pushed as found, or a period not of this rule)."""
    calendar = default_calendar()
    if rule.kind == "monthly" and (m := MONTH.match(period)):
        return calendar.monthly_deadline(int(m.group(1)), int(m.group(2)), rule.day or 31)
    if rule.kind == "quarterly" and (q := QUARTER.match(period)):
        return calendar.monthly_deadline(int(q.group(1)), rule.months[int(q.group(2)) - 1], rule.day or 31)
    if rule.kind == "after_event" and rule.working_days:
        try:
            return calendar.add_working_days(date.fromisoformat(period), rule.working_days)
        except ValueError:
            return None
    return None


def periods_due(rule: PushRule, since: date, now: datetime) -> list[tuple[str, Deadline]]:
    """The periods of a periodic rule whose deadline lies between ``since`` and ``now`` (oldest first)."""
    if not rule.periodic:
        return []
    found = []
    for year in range(since.year, now.year + 1):
        for period in _periods_of_year(rule, year):
            deadline = push_deadline(rule, period)
            if deadline is not None and since <= deadline.last_day and deadline.due_at <= now:
                found.append((period, deadline))
    return found


def next_period(rule: PushRule, now: datetime) -> tuple[str, Deadline] | None:
    """The first period of a periodic rule whose deadline is still ahead."""
    if not rule.periodic:
        return None
    for year in (now.year, now.year + 1):
        for period in _periods_of_year(rule, year):
            deadline = push_deadline(rule, period)
            if deadline is not None and deadline.due_at > now:
                return period, deadline
    return None


def _periods_of_year(rule: PushRule, year: int) -> list[str]:
    if rule.kind == "quarterly":
        return [f"{year}-Q{i}" for i in range(1, len(rule.months) + 1)]
    return [f"{year}-{month:02d}" for month in range(1, 13)]


def current_period(rule: PushRule, today: date) -> str:
    """A sensible default period for an upload form."""
    if rule.kind == "quarterly":
        index = next((i for i, m in enumerate(rule.months, 1) if today.month <= m), len(rule.months))
        return f"{today.year}-Q{index}"
    if rule.kind == "after_event":
        return today.isoformat()
    return f"{today.year}-{today.month:02d}"
