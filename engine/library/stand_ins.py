"""Stand-ins for the domain functions (试运行替身): what a diagram's scripts call when it is tried before deploying —
the deadlines and the income facts are real, the functions that would change records only note their call."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.cases.functions import CaseContext
from engine.core.clock import FixedClock
from engine.core.errors import FangpinError
from engine.identification.classification import measure_household
from timers.calendar import CHINA_TZ as CST


class ScenarioError(FangpinError):
    """The scenario cannot go on: which step, and why."""


@dataclass
class Trace:
    """What happened, in order: ``(kind, name, when, detail)``."""

    events: list[dict[str, Any]] = field(default_factory=list)

    def add(self, kind: str, name: str, at: datetime, **detail: Any) -> None:
        self.events.append({"kind": kind, "name": name, "at": at.astimezone(CST).isoformat(), **detail})


def stand_ins(trace: Trace, clock: FixedClock, scenario: dict[str, Any]) -> dict[str, Any]:
    """The diagram functions: deadlines and the income facts are real, the domain ones record their call and
    return plain data."""
    real = CaseContext(None, "scenario", clock).functions()  # type: ignore[arg-type]
    keep = {"working_days_from", "days_from", "months_from", "monthly_deadline", "today", "next_month",
            "category_name", "conclude_assessment", "poverty_policy_items"}

    def stand_in(name: str):
        def call(*args: Any, **kwargs: Any) -> Any:
            trace.add("call", name, clock.now(), args=[str(a) for a in args])
            if name == "assess_household":
                return scenario_facts(scenario, *args, **kwargs)
            if name == "check_elimination":
                return {"eligible": True, "explanation": "试运行：假定符合"}
            return True
        return call

    return {name: (fn if name in keep else stand_in(name)) for name, fn in real.items()}


def scenario_facts(scenario: dict[str, Any], income: dict, risk_types: list, exclusions: list | None = None,
                   guarantees: dict | None = None) -> dict[str, Any]:
    """测算收入 in a trial run: the household's facts from the form inputs against the scenario's
    ``monitoring_line`` (and ``household.formerly_poor``), as the decision table will read them."""
    if "monitoring_line" not in scenario:
        raise ScenarioError("场景没有 monitoring_line（监测范围，元/人·年），无法测算收入、认定类别")
    figures, facts = measure_household(
        income, risk_types, exclusions, guarantees, line=Decimal(str(scenario["monitoring_line"])),
        formerly_poor=bool(scenario.get("data", {}).get("household", {}).get("formerly_poor")), default_size=1)
    return {**figures.to_dict(), **facts}
